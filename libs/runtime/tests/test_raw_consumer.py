"""RawRecordConsumer.process_batch against real PostgreSQL (records built in memory).

One transaction per batch, an inbox key per record (position by default, or the
service's own), a savepoint per record, bounded retries, refusals dead-lettered at once,
dead letters through the outbox, and infrastructure errors that fail the batch instead of
dead-lettering. The Kafka wiring is attach_consumer's (test_consumer_kafka.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiokafka import ConsumerRecord

from dealerflow.contracts.events.leads import LeadGraded
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.dlq import (
    H_ATTEMPTS,
    H_CONSUMER,
    H_ERROR,
    H_ORIGINAL_OFFSET,
    H_ORIGINAL_PARTITION,
    H_ORIGINAL_TOPIC,
)
from dealerflow.runtime.migrations import migrate, runtime_migrations
from dealerflow.runtime.outbox import decode_headers
from dealerflow.runtime.raw_consumer import (
    RawRecordConsumer,
    RecordContext,
    RecordHandler,
    RecordKey,
    record_header,
    record_position,
)
from dealerflow.runtime.settings import ServiceSettings

pytestmark = pytest.mark.integration

PREFIX = "traw.dealerflow."
TOPIC = PREFIX + "inbound.leads"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class Refused(Exception):
    """The record is against the rules: retrying cannot help."""


def record(offset: int, body: str, **headers: str) -> ConsumerRecord[Any, Any]:
    value = body.encode()
    return ConsumerRecord(
        topic=TOPIC,
        partition=1,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=value,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=len(value),
        headers=[(k.replace("_", "-"), v.encode()) for k, v in headers.items()],
    )


@pytest.fixture
async def db(pg_dsn: str, pg_schema: str, pg_pool: asyncpg.Pool) -> asyncpg.Pool:
    await migrate(pg_dsn, pg_schema, runtime_migrations())
    await pg_pool.execute("CREATE TABLE effects (body text, seen_at timestamptz)")
    return pg_pool


class Bodies:
    """A handler steered by the record body: ``ok``, ``refuse``, ``fail<n>`` (the first
    n attempts raise after writing), ``bug`` (always raises), ``db-down``, ``deadlock``."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.contexts: list[RecordContext] = []

    async def __call__(self, ctx: RecordContext, rec: ConsumerRecord[Any, Any]) -> None:
        body = rec.value.decode()
        self.calls[body] = self.calls.get(body, 0) + 1
        self.contexts.append(ctx)
        await ctx.conn.execute("INSERT INTO effects VALUES ($1, $2)", body, ctx.now)
        if body == "refuse":
            raise Refused("no dealer named")
        if body == "bug" or (body.startswith("fail") and self.calls[body] <= int(body[4:])):
            raise RuntimeError(f"cannot handle {body}")
        if body == "db-down":
            raise asyncpg.PostgresConnectionError("connection lost")
        if body == "deadlock":
            raise asyncpg.DeadlockDetectedError("deadlock detected")
        await ctx.publish(
            LeadGraded(
                dealer_id=ctx.header("dealer-id") or "D001",
                customer_id=uuid.uuid5(uuid.NAMESPACE_URL, body),
                occurred_at=ctx.now,
                lead_id=body,
                grade="H",
                graded_at=ctx.now,
            )
        )


def make_consumer(
    db: asyncpg.Pool,
    handler: RecordHandler,
    *,
    key: RecordKey = record_position,
    max_retries: int = 2,
) -> RawRecordConsumer:
    return RawRecordConsumer(
        name="rawtest",
        handler=handler,
        pool=db,
        settings=ServiceSettings(service_name="rawtest", topic_prefix=PREFIX),
        key=key,
        refusals=(Refused,),
        clock=ManualClock(NOW),
        topics=TopicRegistry(PREFIX),
        max_retries=max_retries,
    )


async def effects(db: asyncpg.Pool) -> list[str]:
    return [r["body"] for r in await db.fetch("SELECT body FROM effects ORDER BY body")]


async def outbox(db: asyncpg.Pool) -> list[tuple[str, dict[str, str]]]:
    rows = await db.fetch("SELECT topic, headers FROM outbox ORDER BY id")
    return [(r["topic"], {k: v.decode() for k, v in decode_headers(r["headers"])}) for r in rows]


async def test_a_batch_commits_effects_inbox_and_events_and_a_redelivery_is_a_duplicate(
    db: asyncpg.Pool,
) -> None:
    handler = Bodies()
    consumer = make_consumer(db, handler)
    batch = [record(7, "ok-1", dealer_id="D042"), record(8, "ok-2")]
    outcome = await consumer.process_batch(batch)
    assert (outcome.handled, outcome.duplicates, outcome.dead_lettered) == (2, 0, 0)
    assert await effects(db) == ["ok-1", "ok-2"]
    keys = await db.fetch("SELECT consumer, event_id FROM inbox ORDER BY event_id")
    assert [(r["consumer"], r["event_id"]) for r in keys] == [
        ("rawtest", f"{TOPIC}/1/7"),
        ("rawtest", f"{TOPIC}/1/8"),
    ]
    (first, _), (second, _) = await outbox(db)
    assert first == second == PREFIX + "leads"  # the events went to their own topic

    # The use-case context carries the record, the clock's time and the service's settings.
    ctx = handler.contexts[0]
    assert ctx.record is batch[0]
    assert (ctx.now, ctx.consumer, ctx.settings.service_name) == (NOW, "rawtest", "rawtest")
    assert ctx.header("DEALER-ID") == "D042"
    assert (await ctx.policy("D042")).leads.reassign_after_breaches == 2

    again = await consumer.process_batch(batch)  # Kafka redelivers the committed batch
    assert (again.handled, again.duplicates) == (0, 2)
    assert handler.calls == {"ok-1": 1, "ok-2": 1}


async def test_a_key_from_the_content_makes_a_resent_document_a_duplicate(
    db: asyncpg.Pool,
) -> None:
    handler = Bodies()
    consumer = make_consumer(db, handler, key=lambda r: "body:" + r.value.decode())
    outcome = await consumer.process_batch([record(1, "ok"), record(2, "ok"), record(3, "other")])
    assert (outcome.handled, outcome.duplicates) == (2, 1)
    assert handler.calls == {"ok": 1, "other": 1}


async def test_failures_are_retried_refusals_are_not_and_both_are_dead_lettered(
    db: asyncpg.Pool,
) -> None:
    handler = Bodies()
    consumer = make_consumer(db, handler, max_retries=2)
    batch = [
        record(10, "ok-a"),
        record(11, "bug"),
        record(12, "fail2"),  # fails twice, the second retry succeeds
        record(13, "refuse", dealer_id="D001"),
        record(14, "ok-b"),
    ]
    outcome = await consumer.process_batch(batch)
    assert (outcome.handled, outcome.duplicates, outcome.dead_lettered) == (3, 0, 2)
    assert handler.calls == {"ok-a": 1, "bug": 3, "fail2": 3, "refuse": 1, "ok-b": 1}
    # every failed attempt's writes were rolled back with its savepoint
    assert await effects(db) == ["fail2", "ok-a", "ok-b"]

    rows = await outbox(db)
    assert [t for t, _ in rows].count(PREFIX + "leads") == 3
    bug, refused = [h for t, h in rows if t == TOPIC + ".dlq"]
    assert bug[H_ERROR] == "RuntimeError: cannot handle bug"
    assert (bug[H_ATTEMPTS], bug[H_ORIGINAL_OFFSET]) == ("3", "11")
    assert (bug[H_ORIGINAL_TOPIC], bug[H_ORIGINAL_PARTITION]) == (TOPIC, "1")
    assert bug[H_CONSUMER] == "rawtest"
    assert refused[H_ERROR] == "Refused: no dealer named"
    assert refused[H_ATTEMPTS] == "1"
    assert refused["dealer-id"] == "D001"  # the original headers travel along
    # dead letters keep no inbox row: a replay from the DLQ is processed
    kept = await db.fetch("SELECT event_id FROM inbox ORDER BY event_id")
    assert [r["event_id"] for r in kept] == [f"{TOPIC}/1/{n}" for n in (10, 12, 14)]


async def test_a_record_without_a_key_is_dead_lettered_and_the_rest_commits(
    db: asyncpg.Pool,
) -> None:
    def provider_id(rec: ConsumerRecord[Any, Any]) -> str:
        found = record_header(rec, "provider-id")
        if found is None:
            raise LookupError("no provider-id header")
        return found

    handler = Bodies()
    consumer = make_consumer(db, handler, key=provider_id)
    outcome = await consumer.process_batch([record(1, "ok", provider_id="p-1"), record(2, "ok")])
    assert (outcome.handled, outcome.dead_lettered) == (1, 1)
    ((_, letter),) = [r for r in await outbox(db) if r[0].endswith(".dlq")]
    assert (letter[H_ERROR], letter[H_ATTEMPTS]) == ("LookupError: no provider-id header", "0")


@pytest.mark.parametrize("body", ["db-down", "deadlock"])
async def test_an_infrastructure_error_commits_nothing_and_raises(
    db: asyncpg.Pool, body: str
) -> None:
    handler = Bodies()
    consumer = make_consumer(db, handler)
    with pytest.raises((asyncpg.PostgresConnectionError, asyncpg.DeadlockDetectedError)):
        await consumer.process_batch([record(1, "ok"), record(2, body)])
    assert handler.calls[body] == 1  # not retried, not dead-lettered: the batch is redelivered
    for table in ("effects", "inbox", "outbox"):
        assert await db.fetchval(f"SELECT count(*) FROM {table}") == 0
