"""EventConsumer.process_batch against real PostgreSQL (records built in memory).

Covers the batch algorithm itself: inbox deduplication (across and within batches),
optimistic run with per-event fallback, bounded retries, dead letters in the outbox,
events without a handler, and infrastructure errors that must fail the batch instead of
dead-lettering. The Kafka wiring is covered by test_consumer_kafka.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiokafka import ConsumerRecord

from dealerflow.contracts.envelope import Envelope, encode_binary, encode_structured
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.events.leads import LeadAssigned, LeadGraded
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.consumer import (
    BatchContext,
    EventConsumer,
    EventRouter,
    HandlerContext,
    UnprocessableEvent,
)
from dealerflow.runtime.migrations import migrate, runtime_migrations
from dealerflow.runtime.outbox import decode_headers
from dealerflow.runtime.settings import ServiceSettings
from dealerflow.runtime.timers import NewTimer

pytestmark = pytest.mark.integration

PREFIX = "tbatch.dealerflow."
TOPIC = PREFIX + "leads"
NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def graded(lead_id: str, grade: str = "H") -> LeadGraded:
    return LeadGraded(
        dealer_id="D001",
        customer_id=uuid.uuid5(uuid.NAMESPACE_URL, lead_id),
        occurred_at=NOW,
        lead_id=lead_id,
        grade=grade,
        graded_at=NOW,
    )


def assigned(lead_id: str) -> LeadAssigned:
    return LeadAssigned(
        dealer_id="D001",
        customer_id=uuid.uuid5(uuid.NAMESPACE_URL, lead_id),
        occurred_at=NOW,
        lead_id=lead_id,
        consultant_id="C7",
        reason="initial",
        assigned_at=NOW,
    )


def record(
    offset: int,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]],
    key: bytes | None = b"k",
    partition: int = 0,
) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(
        topic=TOPIC,
        partition=partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=len(key or b""),
        serialized_value_size=len(value or b""),
        headers=list(headers),
    )


def event_record(offset: int, event: Any, event_id: str | None = None) -> ConsumerRecord[Any, Any]:
    encoded = encode_binary(event, source="/test", event_id=event_id or f"ev-{offset}")
    return record(offset, encoded.value, encoded.headers, encoded.key)


@pytest.fixture
async def db(pg_dsn: str, pg_schema: str, pg_pool: asyncpg.Pool) -> asyncpg.Pool:
    await migrate(pg_dsn, pg_schema, runtime_migrations())
    await pg_pool.execute("CREATE TABLE effects (event_id text, lead_id text, grade text)")
    return pg_pool


class Recorder:
    """A handler set whose behaviour each test steers per lead id."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.fail_times: dict[str, int] = {}  # lead id -> how many first calls raise
        self.router = EventRouter()
        self.router.on(LeadGraded)(self.on_graded)

    async def on_graded(self, ctx: HandlerContext, env: Envelope[LeadGraded]) -> None:
        lead = env.event.lead_id
        self.calls[lead] = self.calls.get(lead, 0) + 1
        await ctx.conn.execute(
            "INSERT INTO effects VALUES ($1, $2, $3)", env.meta.id, lead, env.event.grade
        )
        if self.calls[lead] <= self.fail_times.get(lead, 0):
            raise RuntimeError(f"cannot grade {lead}")
        await ctx.publish(assigned(lead))


def make_consumer(db: asyncpg.Pool, rec: Recorder, max_retries: int = 2) -> EventConsumer:
    settings = ServiceSettings(service_name="batchtest", topic_prefix=PREFIX)
    return EventConsumer(
        name="batchtest",
        router=rec.router,
        pool=db,
        settings=settings,
        max_retries=max_retries,
        topics=TopicRegistry(PREFIX),
    )


async def effects(db: asyncpg.Pool) -> list[tuple[str, str]]:
    rows = await db.fetch("SELECT event_id, lead_id FROM effects ORDER BY event_id")
    return [(r["event_id"], r["lead_id"]) for r in rows]


async def outbox(db: asyncpg.Pool) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT topic, key, value, headers::text AS headers FROM outbox ORDER BY id"
    )


async def test_a_batch_commits_effects_inbox_and_published_events(db: asyncpg.Pool) -> None:
    rec = Recorder()
    consumer = make_consumer(db, rec)
    outcome = await consumer.process_batch([event_record(i, graded(f"L{i}")) for i in range(3)])
    assert (outcome.handled, outcome.duplicates, outcome.dead_lettered) == (3, 0, 0)
    assert await effects(db) == [("ev-0", "L0"), ("ev-1", "L1"), ("ev-2", "L2")]
    inbox = await db.fetch("SELECT consumer, event_id FROM inbox ORDER BY event_id")
    assert [(r["consumer"], r["event_id"]) for r in inbox] == [
        ("batchtest", "ev-0"),
        ("batchtest", "ev-1"),
        ("batchtest", "ev-2"),
    ]
    rows = await outbox(db)
    assert [r["topic"] for r in rows] == [TOPIC] * 3
    headers = dict(decode_headers(rows[0]["headers"]))
    assert headers["ce_type"] == LeadAssigned.event_type.encode()
    assert headers["ce_causationid"] == b"ev-0"
    assert headers["ce_correlationid"] == b"ev-0"  # the incoming event started the chain


async def test_duplicates_within_and_across_batches_have_no_effect(db: asyncpg.Pool) -> None:
    rec = Recorder()
    consumer = make_consumer(db, rec)
    first = await consumer.process_batch(
        [event_record(0, graded("A"), "same"), event_record(1, graded("A"), "same")]
    )
    assert (first.handled, first.duplicates) == (1, 1)
    again = await consumer.process_batch(
        [event_record(2, graded("A"), "same"), event_record(3, graded("B"), "other")]
    )
    assert (again.handled, again.duplicates) == (1, 1)
    assert await effects(db) == [("other", "B"), ("same", "A")]
    assert rec.calls == {"A": 1, "B": 1}
    assert len(await outbox(db)) == 2


async def test_inbox_is_per_consumer(db: asyncpg.Pool) -> None:
    rec = Recorder()
    await make_consumer(db, rec).process_batch([event_record(0, graded("A"), "x")])
    other = EventConsumer(
        name="another",
        router=rec.router,
        pool=db,
        settings=ServiceSettings(service_name="another", topic_prefix=PREFIX),
    )
    outcome = await other.process_batch([event_record(0, graded("A"), "x")])
    assert outcome.handled == 1
    assert rec.calls == {"A": 2}


async def test_transient_failure_is_retried_without_duplicating_neighbours(
    db: asyncpg.Pool,
) -> None:
    rec = Recorder()
    rec.fail_times["L1"] = 2  # fails twice, third attempt (second retry) succeeds
    consumer = make_consumer(db, rec, max_retries=2)
    outcome = await consumer.process_batch([event_record(i, graded(f"L{i}")) for i in range(4)])
    assert (outcome.handled, outcome.dead_lettered) == (4, 0)
    # each event's effect exactly once although L0 ran twice (optimistic run rolled back)
    assert await effects(db) == [("ev-0", "L0"), ("ev-1", "L1"), ("ev-2", "L2"), ("ev-3", "L3")]
    assert rec.calls == {"L0": 2, "L1": 3, "L2": 1, "L3": 1}
    assert len(await outbox(db)) == 4
    assert all(r["topic"] == TOPIC for r in await outbox(db))


async def test_handler_always_raising_is_dead_lettered_after_bounded_retries(
    db: asyncpg.Pool,
) -> None:
    rec = Recorder()
    rec.fail_times["BAD"] = 99
    consumer = make_consumer(db, rec, max_retries=3)
    bad = event_record(1, graded("BAD"))
    outcome = await consumer.process_batch(
        [event_record(0, graded("L0")), bad, event_record(2, graded("L2"))]
    )
    assert (outcome.handled, outcome.dead_lettered) == (2, 1)
    assert rec.calls["BAD"] == 4  # 1 attempt + 3 retries
    assert await effects(db) == [("ev-0", "L0"), ("ev-2", "L2")]
    # no inbox row: a replay from the DLQ must be processed, not dropped as a duplicate
    ids = {r["event_id"] for r in await db.fetch("SELECT event_id FROM inbox")}
    assert ids == {"ev-0", "ev-2"}
    rows = await outbox(db)
    dlq = [r for r in rows if r["topic"] == TOPIC + ".dlq"]
    assert len(dlq) == 1
    assert dlq[0]["value"] == bad.value
    assert dlq[0]["key"] == bad.key
    headers = decode_headers(dlq[0]["headers"])
    assert headers[: len(bad.headers)] == list(bad.headers)  # original headers kept
    extra = dict(headers[len(bad.headers) :])
    assert extra["dlq-error"] == b"RuntimeError: cannot grade BAD"
    assert extra["dlq-original-topic"] == TOPIC.encode()
    assert extra["dlq-original-partition"] == b"0"
    assert extra["dlq-original-offset"] == b"1"
    assert extra["dlq-consumer"] == b"batchtest"
    assert extra["dlq-attempts"] == b"4"
    assert datetime.fromisoformat(extra["dlq-failed-at"].decode()).tzinfo is not None
    # the good events still published their follow-ups
    assert len([r for r in rows if r["topic"] == TOPIC]) == 2

    # Redelivery of the same batch (e.g. offsets not committed): no double effects
    again = await consumer.process_batch([event_record(0, graded("L0")), bad])
    assert (again.duplicates, again.dead_lettered) == (1, 1)
    assert await effects(db) == [("ev-0", "L0"), ("ev-2", "L2")]


async def test_an_unprocessable_event_is_dead_lettered_without_retries(db: asyncpg.Pool) -> None:
    calls: list[str] = []
    router = EventRouter()

    @router.on(LeadGraded)
    async def on_graded(ctx: HandlerContext, env: Envelope[LeadGraded]) -> None:
        calls.append(env.event.lead_id)
        if env.event.grade == "C":
            raise UnprocessableEvent(f"grade C is not for {env.event.lead_id}")
        await ctx.conn.execute(
            "INSERT INTO effects VALUES ($1, $2, $3)", env.meta.id, env.event.lead_id, "H"
        )

    settings = ServiceSettings(service_name="batchtest", topic_prefix=PREFIX)
    consumer = EventConsumer(
        name="batchtest", router=router, pool=db, settings=settings, max_retries=3
    )
    outcome = await consumer.process_batch(
        [
            event_record(0, graded("L0")),
            event_record(1, graded("BAD", "C")),
            event_record(2, graded("L2")),
        ]
    )
    assert (outcome.handled, outcome.dead_lettered) == (2, 1)
    assert calls.count("BAD") == 1  # no retries: the event itself is wrong
    assert await effects(db) == [("ev-0", "L0"), ("ev-2", "L2")]
    (dlq,) = [r for r in await outbox(db) if r["topic"] == TOPIC + ".dlq"]
    extra = dict(decode_headers(dlq["headers"]))
    assert extra["dlq-error"] == b"UnprocessableEvent: grade C is not for BAD"
    assert extra["dlq-attempts"] == b"1"


def _headers_without(headers: Sequence[tuple[str, bytes]], name: str) -> list[tuple[str, bytes]]:
    return [(k, v) for k, v in headers if k != name]


async def test_undecodable_records_are_dead_lettered_with_the_reason(db: asyncpg.Pool) -> None:
    rec = Recorder()
    consumer = make_consumer(db, rec)
    good = encode_binary(graded("OK"), source="/test", event_id="good")
    unknown = [(k, b"dealerflow.leads.Bogus.v1" if k == "ce_type" else v) for k, v in good.headers]
    invalid_value = good.value.replace(b'"lead_id":"OK",', b"")
    batch = [
        record(0, b"{not json", good.headers),  # malformed body
        record(1, good.value, unknown),  # unknown type
        record(2, invalid_value, good.headers),  # invalid payload
        record(3, None, good.headers),  # tombstone
        record(4, good.value, [*_headers_without(good.headers, "ce_id"), ("ce_id", b"\xff")]),
        record(5, good.value, good.headers),
    ]
    outcome = await consumer.process_batch(batch)
    assert (outcome.handled, outcome.dead_lettered) == (1, 5)
    assert await effects(db) == [("good", "OK")]
    dlq = {}
    for row in await outbox(db):
        if row["topic"].endswith(".dlq"):
            headers = decode_headers(row["headers"])
            dlq[int(dict(headers)["dlq-original-offset"])] = headers
    errors = {offset: dict(h)["dlq-error"].decode() for offset, h in dlq.items()}
    assert sorted(errors) == [0, 1, 2, 3, 4]
    assert all(e.startswith("EventDecodeError: ") for e in errors.values())
    assert "not valid JSON" in errors[0] or "json" in errors[0].lower()
    assert "unknown event type" in errors[1]
    assert "lead_id" in errors[2]
    assert "tombstone" in errors[3]
    assert "UTF-8" in errors[4]
    # non-UTF-8 header bytes survive the trip through the outbox byte for byte
    assert ("ce_id", b"\xff") in dlq[4]


async def test_oversize_records_and_implausible_times_are_dead_lettered_unhandled(
    db: asyncpg.Pool,
) -> None:
    """Poison the decoder would accept: a record above consumer_max_event_bytes (not even
    decoded), and events dated far ahead of the consumer's clock or before 2000."""
    rec = Recorder()
    settings = ServiceSettings(
        service_name="batchtest",
        topic_prefix=PREFIX,
        consumer_max_event_bytes=4096,
        consumer_max_event_lead_s=86400,
    )
    consumer = EventConsumer(
        name="batchtest",
        router=rec.router,
        pool=db,
        settings=settings,
        clock=ManualClock(NOW),
        topics=TopicRegistry(PREFIX),
    )
    huge = graded("BIG").model_copy(update={"lead_id": "BIG" + "x" * 5000})
    future = graded("FUTURE").model_copy(update={"occurred_at": NOW + timedelta(days=2)})
    ancient = graded("ANCIENT").model_copy(update={"occurred_at": datetime(1970, 1, 1, tzinfo=UTC)})
    late_header = encode_binary(
        graded("CE_TIME"), source="/test", event_id="ev-4", time=NOW + timedelta(days=400)
    )
    outcome = await consumer.process_batch(
        [
            event_record(0, huge),
            event_record(1, future),
            event_record(2, ancient),
            record(3, late_header.value, late_header.headers),
            event_record(
                5, graded("TOMORROW").model_copy(update={"occurred_at": NOW + timedelta(hours=20)})
            ),
        ]
    )
    assert (outcome.handled, outcome.dead_lettered) == (1, 4)
    assert [lead for _, lead in await effects(db)] == ["TOMORROW"]
    errors = {}
    for row in await outbox(db):
        if row["topic"].endswith(".dlq"):
            headers = dict(decode_headers(row["headers"]))
            errors[int(headers["dlq-original-offset"])] = headers["dlq-error"].decode()
    assert "larger than consumer_max_event_bytes=4096" in errors[0]
    assert "ahead of the consumer's clock" in errors[1]
    assert "before 2000-01-01" in errors[2]
    assert "event time" in errors[3]
    assert "consumer_max_event_lead_s" in errors[3]


async def test_structured_mode_is_handled_like_binary(db: asyncpg.Pool) -> None:
    rec = Recorder()
    consumer = make_consumer(db, rec)
    encoded = encode_structured(graded("S"), source="/outside-dms", event_id="structured-1")
    outcome = await consumer.process_batch([record(0, encoded.value, encoded.headers)])
    assert outcome.handled == 1
    assert await effects(db) == [("structured-1", "S")]


async def test_catalogue_events_without_handler_are_ignored_not_recorded_nor_dead_lettered(
    db: asyncpg.Pool,
) -> None:
    rec = Recorder()
    consumer = make_consumer(db, rec)
    outcome = await consumer.process_batch([event_record(0, assigned("X"), "unhandled-1")])
    assert (outcome.ignored, outcome.dead_lettered) == (1, 0)
    assert await outbox(db) == []
    # no effect to guard, so no inbox row (the notifier's own TaskScheduled on its topic)
    assert await db.fetchval("SELECT count(*) FROM inbox WHERE event_id = 'unhandled-1'") == 0


async def test_a_record_of_a_type_without_handler_is_passed_over_unread(
    db: asyncpg.Pool,
) -> None:
    rec = Recorder()
    consumer = make_consumer(db, rec)  # reacts to LeadGraded, not to LeadAssigned
    unhandled = encode_binary(assigned("X"), source="/test", event_id="unread-1")
    handled = encode_binary(graded("S"), source="/test", event_id="broken-1")
    garbage = b"\x89PNG not json"
    outcome = await consumer.process_batch(
        [record(0, garbage, unhandled.headers), record(1, garbage, handled.headers)]
    )
    # its body is not even read: a broken LeadAssigned is for its consumers to judge
    assert (outcome.ignored, outcome.dead_lettered) == (1, 1)
    [letter] = await outbox(db)
    assert dict(decode_headers(letter["headers"]))["dlq-original-offset"] == b"1"
    assert await db.fetchval("SELECT count(*) FROM inbox") == 0


async def test_a_null_header_value_does_not_fail_the_batch(db: asyncpg.Pool) -> None:
    rec = Recorder()
    consumer = make_consumer(db, rec)

    def null_content_type(encoded: Any) -> list[Any]:
        kept = [h for h in encoded.headers if h[0] != "content-type"]
        return [*kept, ("content-type", None)]  # Kafka allows a null header value

    unhandled = encode_binary(assigned("X"), source="/test", event_id="null-header-1")
    handled = encode_binary(graded("S"), source="/test", event_id="null-header-2")
    outcome = await consumer.process_batch(
        [
            record(0, unhandled.value, null_content_type(unhandled)),
            record(1, handled.value, null_content_type(handled)),
        ]
    )
    # judged by decoding (not passed over by its headers), and nothing raised
    assert outcome.handled + outcome.ignored + outcome.dead_lettered == 2


async def test_database_failure_fails_the_batch_instead_of_dead_lettering(
    db: asyncpg.Pool,
) -> None:
    router = EventRouter()
    killed = False

    @router.on(LeadGraded)
    async def kill_own_connection(ctx: HandlerContext, env: Envelope[LeadGraded]) -> None:
        nonlocal killed
        await ctx.conn.execute("INSERT INTO effects VALUES ($1, $2, 'x')", env.meta.id, "L")
        if not killed:
            killed = True
            # what a database restart looks like to this connection
            await ctx.conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    consumer = EventConsumer(
        name="dbfail",
        router=router,
        pool=db,
        settings=ServiceSettings(service_name="dbfail", topic_prefix=PREFIX),
    )
    batch = [event_record(0, graded("L"))]
    with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
        await consumer.process_batch(batch)
    assert await effects(db) == []
    assert await outbox(db) == []
    assert await db.fetchval("SELECT count(*) FROM inbox") == 0
    # the redelivered batch succeeds on a fresh connection
    outcome = await consumer.process_batch(batch)
    assert outcome.handled == 1
    assert await effects(db) == [("ev-0", "L")]


# -- batch handlers ------------------------------------------------------------------------


class BatchRecorder:
    """A batch handler for LeadGraded (set-based insert) and a per-event one for LeadAssigned."""

    def __init__(self) -> None:
        self.log: list[tuple[str, ...]] = []
        self.bad: set[str] = set()
        self.router = EventRouter()
        self.router.on_batch(LeadGraded)(self.on_graded)
        self.router.on(LeadAssigned)(self.on_assigned)

    async def on_graded(self, ctx: BatchContext, envs: Sequence[Envelope[LeadGraded]]) -> None:
        leads = tuple(e.event.lead_id for e in envs)
        self.log.append(("batch", *leads))
        await ctx.conn.executemany(
            "INSERT INTO effects VALUES ($1, $2, $3)",
            [(e.meta.id, e.event.lead_id, e.event.grade) for e in envs],
        )
        if self.bad.intersection(leads):
            raise RuntimeError(f"bad lead among {leads}")
        for env in envs:
            await ctx.publish(assigned(env.event.lead_id), caused_by=env)

    async def on_assigned(self, ctx: HandlerContext, env: Envelope[LeadAssigned]) -> None:
        self.log.append(("single", env.event.lead_id))
        await ctx.conn.execute(
            "INSERT INTO effects VALUES ($1, $2, 'assigned')", env.meta.id, env.event.lead_id
        )


async def test_batch_handlers_get_consecutive_runs_in_order(db: asyncpg.Pool) -> None:
    rec = BatchRecorder()
    consumer = EventConsumer(
        name="batchh", router=rec.router, pool=db, settings=ServiceSettings(topic_prefix=PREFIX)
    )
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    g1 = encode_binary(graded("G1"), source="/t", event_id="g1", traceparent=traceparent)
    records = [
        record(0, g1.value, g1.headers),
        event_record(1, graded("G2")),
        event_record(2, assigned("A1")),
        event_record(3, graded("G3")),
        event_record(4, graded("G4")),
    ]
    outcome = await consumer.process_batch(records)
    assert outcome.handled == 5
    assert rec.log == [("batch", "G1", "G2"), ("single", "A1"), ("batch", "G3", "G4")]
    assert len(await effects(db)) == 5
    rows = await outbox(db)
    assert len(rows) == 4
    first = dict(decode_headers(rows[0]["headers"]))
    assert first["ce_causationid"] == b"g1"
    assert first["traceparent"] == traceparent.encode()  # the cause's trace continues


async def test_a_failing_batch_run_falls_back_to_single_events(db: asyncpg.Pool) -> None:
    rec = BatchRecorder()
    rec.bad.add("BAD")
    consumer = EventConsumer(
        name="batchf",
        router=rec.router,
        pool=db,
        settings=ServiceSettings(topic_prefix=PREFIX),
        max_retries=1,
    )
    outcome = await consumer.process_batch(
        [
            event_record(0, graded("G0")),
            event_record(1, graded("BAD")),
            event_record(2, graded("G2")),
            event_record(3, assigned("A3")),
        ]
    )
    assert (outcome.handled, outcome.dead_lettered) == (3, 1)
    assert rec.log == [
        ("batch", "G0", "BAD", "G2"),  # optimistic: the whole run, fails
        ("batch", "G0"),  # then event by event, each in a savepoint
        ("batch", "BAD"),
        ("batch", "BAD"),  # one retry
        ("batch", "G2"),
        ("single", "A3"),  # and the rest of the batch optimistically again
    ]
    assert await effects(db) == [("ev-0", "G0"), ("ev-2", "G2"), ("ev-3", "A3")]
    topics = sorted(r["topic"] for r in await outbox(db))
    assert topics == [TOPIC, TOPIC, TOPIC + ".dlq"]


def test_a_class_gets_handlers_of_one_kind_only() -> None:
    router = EventRouter()

    @router.on(LeadGraded)
    async def single(ctx: HandlerContext, env: Envelope[LeadGraded]) -> None:
        pass

    async def batch(ctx: BatchContext, envs: Sequence[Envelope[LeadGraded]]) -> None:
        pass

    with pytest.raises(ValueError, match="other kind"):
        router.on_batch(LeadGraded)(batch)
    with pytest.raises(ValueError, match="at least one"):
        router.on()
    assert router.handlers_for(LeadGraded) == ((single,), ())
    assert router.handlers_for(LeadAssigned) == ((), ())


def test_mixing_handler_kinds_through_a_base_class_fails_at_start_up() -> None:
    router = EventRouter()

    @router.on(DomainEvent)
    async def audit(ctx: HandlerContext, env: Envelope[DomainEvent]) -> None:
        pass

    @router.on_batch(LeadGraded)
    async def grades(ctx: BatchContext, envs: Sequence[Envelope[LeadGraded]]) -> None:
        pass

    with pytest.raises(TypeError, match="LeadGraded has per-event and batch handlers"):
        EventConsumer(
            name="mixed",
            router=router,
            pool=None,  # type: ignore[arg-type]  # never reached
            settings=ServiceSettings(),
        )


async def test_a_batch_handler_gets_a_use_case_context_per_event(db: asyncpg.Pool) -> None:
    router = EventRouter()
    seen: list[tuple[str | None, str, int]] = []

    @router.on_batch(LeadGraded)
    async def grades(ctx: BatchContext, envs: Sequence[Envelope[LeadGraded]]) -> None:
        contexts = ctx.event_contexts()
        assert contexts is ctx.event_contexts()  # every handler of the run gets the same
        assert len({c.now for c in contexts}) == 1
        for uc, env in zip(contexts, envs, strict=True):
            seen.append((uc.source_event_id, uc.topic, uc.offset))
            await uc.publish(assigned(env.event.lead_id))
        created = await contexts[0].schedule_timers(
            [NewTimer(f"t-{env.event.lead_id}", "k", "D001", NOW) for env in envs]
        )
        assert created == len(envs)
        assert await contexts[0].cancel_timers_keyed([f"t-{envs[0].event.lead_id}"]) == 1

    settings = ServiceSettings(service_name="batchtest", topic_prefix=PREFIX)
    consumer = EventConsumer(
        name="batchtest", router=router, pool=db, settings=settings, topics=TopicRegistry(PREFIX)
    )
    outcome = await consumer.process_batch([event_record(i, graded(f"L{i}")) for i in range(3)])

    assert outcome.handled == 3
    assert seen == [("ev-0", TOPIC, 0), ("ev-1", TOPIC, 1), ("ev-2", TOPIC, 2)]
    causes = [dict(decode_headers(r["headers"]))["ce_causationid"] for r in await outbox(db)]
    assert causes == [b"ev-0", b"ev-1", b"ev-2"]  # each caused by its own event
    pending = await db.fetch("SELECT key FROM timers WHERE status = 'pending' ORDER BY key")
    assert [r["key"] for r in pending] == ["t-L1", "t-L2"]
