"""publish_event (outbox + CloudEvent + trace context) and the inbox, on real PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from dealerflow.contracts.envelope import Envelope, decode, encode_binary
from dealerflow.contracts.events.leads import LeadGraded
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.runtime import inbox
from dealerflow.runtime.migrations import migrate, runtime_migrations
from dealerflow.runtime.outbox import decode_headers
from dealerflow.runtime.publisher import event_source, header_value, publish_event
from dealerflow.runtime.telemetry import setup_tracing

pytestmark = pytest.mark.integration

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
TOPICS = TopicRegistry("tpub.dealerflow.")


def graded(lead_id: str = "L1") -> LeadGraded:
    return LeadGraded(
        dealer_id="D001",
        customer_id=uuid.UUID("2b1f3c9e-0000-5000-8000-000000000001"),
        occurred_at=NOW,
        lead_id=lead_id,
        grade="B",
        graded_at=NOW,
    )


@pytest.fixture
async def db(pg_dsn: str, pg_schema: str, pg_pool: asyncpg.Pool) -> asyncpg.Pool:
    await migrate(pg_dsn, pg_schema, runtime_migrations())
    return pg_pool


async def _outbox(db: asyncpg.Pool) -> list[asyncpg.Record]:
    return await db.fetch("SELECT topic, key, value, headers::text AS headers FROM outbox")


async def test_publish_event_writes_a_binary_cloudevent_to_the_outbox(db: asyncpg.Pool) -> None:
    event = graded()
    async with db.acquire() as conn, conn.transaction():
        event_id = await publish_event(
            conn,
            event,
            source=event_source("leads"),
            topics=TOPICS,
            correlation_id="corr-1",
            causation_id="cause-1",
        )
    (row,) = await _outbox(db)
    assert row["topic"] == "tpub.dealerflow.leads"
    assert row["key"] == b"2b1f3c9e-0000-5000-8000-000000000001"
    headers = decode_headers(row["headers"])
    assert header_value(headers, "ce_id") == event_id
    assert header_value(headers, "ce_source") == "/dealerflow/leads"
    assert header_value(headers, "content-type") == "application/json"
    assert header_value(headers, "traceparent") is None  # no active span
    envelope = decode(row["value"], headers)
    assert envelope.event == event
    assert envelope.meta.id == event_id
    assert envelope.meta.correlation_id == "corr-1"
    assert envelope.meta.causation_id == "cause-1"
    assert envelope.meta.dealer_id == "D001"


async def test_publish_event_rolls_back_with_the_transaction(db: asyncpg.Pool) -> None:
    async def publish_then_fail() -> None:
        async with db.acquire() as conn, conn.transaction():
            await publish_event(conn, graded(), source="/t", topics=TOPICS, event_id="fixed")
            raise RuntimeError("business rule failed after publishing")

    with pytest.raises(RuntimeError):
        await publish_then_fail()
    assert await _outbox(db) == []


async def test_publish_event_carries_the_active_trace(db: asyncpg.Pool) -> None:
    provider = setup_tracing("leads", exporter=InMemorySpanExporter(), set_global=False)
    with provider.get_tracer("t").start_as_current_span("POST /v1/leads") as span:
        async with db.acquire() as conn, conn.transaction():
            await publish_event(conn, graded(), source="/t", topics=TOPICS)
    (row,) = await _outbox(db)
    traceparent = header_value(decode_headers(row["headers"]), "traceparent")
    context = span.get_span_context()
    assert traceparent is not None
    assert traceparent.startswith(f"00-{context.trace_id:032x}-{context.span_id:016x}-")
    assert decode(row["value"], decode_headers(row["headers"])).meta.traceparent == traceparent


def test_header_value_is_lenient() -> None:
    headers = [("a", b"1"), ("b", b"\xff"), ("a", b"2")]
    assert header_value(headers, "a") == "1"
    assert header_value(headers, "b") == "\ufffd"
    assert header_value(headers, "c") is None


async def test_claim_is_true_once_per_consumer(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        assert await inbox.claim(conn, "notifier", "e1") is True
        assert await inbox.claim(conn, "notifier", "e1") is False
        assert await inbox.claim(conn, "complaints", "e1") is True


async def test_claim_many_returns_only_new_ids(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        assert await inbox.claim_many(conn, "c", []) == set()
        assert await inbox.claim_many(conn, "c", ["a", "b", "a"]) == {"a", "b"}
        assert await inbox.claim_many(conn, "c", ["b", "c", "d"]) == {"c", "d"}
        assert await conn.fetchval("SELECT count(*) FROM inbox WHERE consumer = 'c'") == 4


async def test_claims_roll_back_and_can_be_released(db: asyncpg.Pool) -> None:
    async def claim_then_fail() -> None:
        async with db.acquire() as conn, conn.transaction():
            assert await inbox.claim_many(conn, "c", ["x"]) == {"x"}
            raise RuntimeError("handler failed")

    with pytest.raises(RuntimeError):
        await claim_then_fail()
    async with db.acquire() as conn:
        assert await inbox.claim(conn, "c", "x") is True  # the rolled-back claim is gone
        await inbox.release(conn, "c", ["x", "never-claimed"])
        await inbox.release(conn, "c", [])
        assert await inbox.claim(conn, "c", "x") is True


def _envelope(lead_id: str, **meta: Any) -> Envelope[Any]:
    event = LeadGraded(
        dealer_id="D001",
        customer_id=uuid.uuid5(uuid.NAMESPACE_URL, "c"),
        occurred_at=datetime(2025, 3, 1, tzinfo=UTC),
        lead_id=lead_id,
        grade="H",
        graded_at=datetime(2025, 3, 1, tzinfo=UTC),
    )
    record = encode_binary(event, source=meta.pop("source", "/test"), event_id="e1")
    decoded = decode(record.value, record.headers)
    return replace(decoded, meta=replace(decoded.meta, **meta)) if meta else decoded


def test_the_digest_is_of_the_event_not_of_its_time_or_trace() -> None:
    digest = inbox.event_digest(_envelope("L1"))
    assert digest == inbox.event_digest(_envelope("L1"))
    later = datetime(2030, 1, 1, tzinfo=UTC)
    assert digest == inbox.event_digest(_envelope("L1", time=later, traceparent=None))
    assert digest != inbox.event_digest(_envelope("L2"))
    assert digest != inbox.event_digest(_envelope("L1", source="/another-dms"))
    assert digest != inbox.event_digest(_envelope("L1", dealer_id="D002"))


async def test_claim_events_tells_a_redelivery_from_a_reused_id(db: asyncpg.Pool) -> None:
    a, b = b"a" * 32, b"b" * 32
    async with db.acquire() as conn, conn.transaction():
        first = await inbox.claim_events(conn, "c", [("x", a), ("x", b), ("y", a)])
        assert first.fresh == {"x", "y"}
        assert not first.conflicts("x", a)
        assert first.conflicts("x", b)  # a later copy in the same batch, another body
        again = await inbox.claim_events(conn, "c", [("x", a), ("y", b), ("z", b)])
        assert again.fresh == {"z"}
        assert not again.conflicts("x", a)  # a redelivery
        assert again.conflicts("y", b)
        # a row from before the digest column matches any body
        await conn.execute("INSERT INTO inbox (consumer, event_id) VALUES ('c', 'old')")
        old = await inbox.claim_events(conn, "c", [("old", b)])
        assert old.fresh == set()
        assert not old.conflicts("old", b)
        # another consumer has inbox rows of its own
        assert (await inbox.claim_events(conn, "d", [("x", b)])).fresh == {"x"}
