"""The inbound topic's raw-record consumer (runtime.raw_consumer with leads' handler) on
real PostgreSQL (no Kafka): one transaction per batch, content-hash inbox, bounded
retries, refusals dead-lettered at once, dead letters through the outbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiokafka.structs import ConsumerRecord

from dealerflow.contracts.topics import TopicRegistry
from dealerflow.leads import consumers
from dealerflow.leads.app import DEFINITION
from dealerflow.leads.settings import LeadsSettings
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.context import EnvironmentDealerConfiguration
from dealerflow.runtime.db import create_pool
from dealerflow.runtime.dlq import H_ATTEMPTS, H_ERROR
from dealerflow.runtime.outbox import decode_headers
from dealerflow.runtime.publisher import event_source
from dealerflow.runtime.raw_consumer import RawRecordConsumer
from dealerflow.runtime.service import ServiceContext, migrate_service

pytestmark = pytest.mark.integration

PREFIX = "unit.dealerflow."
TOPIC = PREFIX + "inbound.leads"
DEALER = "hz-xihu-05"


def record(offset: int, body: dict[str, Any], **headers: str) -> ConsumerRecord[bytes, bytes]:
    value = json.dumps(body).encode()
    return ConsumerRecord(
        topic=TOPIC,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=value,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=len(value),
        headers=tuple((k.replace("_", "-"), v.encode()) for k, v in headers.items()),
    )


def lead(phone: str) -> dict[str, Any]:
    return {"dealer_id": DEALER, "customer": {"phones": [phone]}}


@pytest.fixture
async def consumer(pg_dsn: str, pg_schema: str) -> AsyncIterator[RawRecordConsumer]:
    settings = LeadsSettings(
        pg_dsn=pg_dsn, db_schema=pg_schema, topic_prefix=PREFIX, consumer_max_retries=2
    )
    await migrate_service(DEFINITION, settings)
    ctx = ServiceContext(
        settings=settings,
        clock=ManualClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC)),
        topics=TopicRegistry(PREFIX),
        source=event_source("leads"),
        dealers=EnvironmentDealerConfiguration(),
        pool=await create_pool(pg_dsn, pg_schema),
    )
    try:
        yield consumers.inbound_processor(ctx, "leads.inbound")  # what the service runs
    finally:
        await ctx.db.close()


async def outbox(pool: asyncpg.Pool) -> list[tuple[str, dict[str, str]]]:
    rows = await pool.fetch("SELECT topic, headers FROM outbox ORDER BY id")
    return [(r["topic"], {k: v.decode() for k, v in decode_headers(r["headers"])}) for r in rows]


async def test_poison_is_retried_then_dead_lettered_while_the_rest_commits(
    consumer: RawRecordConsumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: dict[str, int] = {}
    real = consumers.submit_lead

    async def flaky(uc: Any, cmd: Any) -> Any:
        phone = cmd.submission.customer.phones[0]
        calls[phone] = calls.get(phone, 0) + 1
        result = await real(uc, cmd)
        if phone == "+8613800000002":
            raise RuntimeError("handler bug")  # after its writes: the savepoint must undo them
        return result

    monkeypatch.setattr(consumers, "submit_lead", flaky)
    batch = [
        record(10, lead("13800000001")),
        record(11, lead("13800000002")),
        record(12, {"customer": {"phones": ["13800000003"]}}),  # no dealer anywhere
        record(13, {"customer": {"phones": ["13800000004"]}}, dealer_id=DEALER),
    ]
    outcome = await consumer.process_batch(batch)
    assert (outcome.handled, outcome.duplicates, outcome.dead_lettered) == (2, 0, 2)
    assert calls["+8613800000002"] == 3  # first attempt + consumer_max_retries (2)
    assert calls["+8613800000003"] == 1  # refused by the rules: no retry

    pool = consumer.pool
    phones = await pool.fetch("SELECT phone_e164 FROM leads ORDER BY phone_e164")
    assert [r["phone_e164"] for r in phones] == ["+8613800000001", "+8613800000004"]
    rows = await outbox(pool)
    assert [t for t, _ in rows].count(PREFIX + "leads") == 2  # two LeadCreated
    letters = [h for t, h in rows if t == TOPIC + ".dlq"]
    assert letters[0][H_ERROR] == "RuntimeError: handler bug"
    assert letters[0][H_ATTEMPTS] == "3"
    assert letters[1][H_ERROR].startswith("LeadRejected: dealer_id is required")
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 2  # dead letters released

    # Kafka redelivers the batch: the handled ones are duplicates, the poison fails again.
    again = await consumer.process_batch(batch)
    assert (again.handled, again.duplicates, again.dead_lettered) == (0, 2, 2)
    assert await pool.fetchval("SELECT count(*) FROM leads") == 2


async def test_a_submission_holding_a_nul_is_refused_with_where_before_any_write(
    consumer: RawRecordConsumer,
) -> None:
    """Poison suite: a NUL in a raw submission is dead-lettered at once, naming the field
    (not PostgreSQL's "unsupported Unicode escape sequence"), and the next record commits."""
    nul = {**lead("13800000005"), "customer": {"name": "毒\u0000药", "phones": ["13800000005"]}}
    outcome = await consumer.process_batch([record(20, nul), record(21, lead("13800000006"))])
    assert (outcome.handled, outcome.dead_lettered) == (1, 1)
    (letter,) = [h for t, h in await outbox(consumer.pool) if t == TOPIC + ".dlq"]
    assert letter[H_ERROR].startswith("LeadSubmissionError: submission.customer.name: U+0000")
    assert letter[H_ATTEMPTS] == "1"


async def test_a_submission_requested_far_in_the_future_or_past_is_refused(
    consumer: RawRecordConsumer,
) -> None:
    """Poison suite: a requested_at a century away would start a first-contact SLA there."""
    future = {**lead("13800000007"), "requested_at": "2126-01-01T00:00:00Z"}
    past = {**lead("13800000008"), "requested_at": "1970-01-01T00:00:00Z"}
    soon = {**lead("13800000009"), "requested_at": "2026-03-02T01:00:00Z"}
    outcome = await consumer.process_batch([record(30, future), record(31, past), record(32, soon)])
    assert (outcome.handled, outcome.dead_lettered) == (1, 2)
    errors = [h[H_ERROR] for t, h in await outbox(consumer.pool) if t == TOPIC + ".dlq"]
    assert "requested_at 2126-01-01T00:00:00+00:00 is more than" in errors[0]
    assert "before 2000-01-01" in errors[1]


async def test_a_database_failure_commits_nothing_and_raises(
    consumer: RawRecordConsumer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def db_down(*args: Any, **kw: Any) -> Any:
        raise asyncpg.PostgresConnectionError("connection lost")

    monkeypatch.setattr(consumers, "submit_lead", db_down)
    with pytest.raises(asyncpg.PostgresConnectionError):
        await consumer.process_batch([record(1, lead("13800000001"))])
    assert await consumer.pool.fetchval("SELECT count(*) FROM inbox") == 0
    assert await consumer.pool.fetchval("SELECT count(*) FROM outbox") == 0


def test_the_inbox_key_is_the_content_not_the_position() -> None:
    doc = lead("13800000001")
    first = consumers.inbox_key(record(1, doc, dealer_group="g1"))
    assert consumers.inbox_key(record(9, doc, dealer_group=" g1 ")) == first  # resent
    assert consumers.inbox_key(record(1, doc, dealer_group="g2")) != first
    assert consumers.inbox_key(record(1, doc, dealer_group="g1", consultant_id="c")) != first
    assert consumers.inbox_key(record(1, lead("13800000002"), dealer_group="g1")) != first
