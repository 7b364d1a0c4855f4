"""The consumer wired into a FastStream broker, against real Kafka and PostgreSQL.

Each test has its own schema, topic prefix and consumer group.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import CollectorRegistry

from dealerflow.contracts.envelope import Envelope, encode_binary, encode_structured
from dealerflow.contracts.events.leads import LeadAssigned, LeadGraded
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.devinfra.fault_proxy import proxied_pool
from dealerflow.runtime.broker import create_broker
from dealerflow.runtime.consumer import EventConsumer, EventRouter, HandlerContext, attach_consumer
from dealerflow.runtime.dlq import DeadLetter, read_dead_letters
from dealerflow.runtime.migrations import migrate, runtime_migrations
from dealerflow.runtime.outbox import decode_headers
from dealerflow.runtime.relay import OutboxRelay
from dealerflow.runtime.settings import ServiceSettings
from dealerflow.runtime.telemetry import setup_tracing, trace_id_of

pytestmark = pytest.mark.integration

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def graded(lead_id: str) -> LeadGraded:
    return LeadGraded(
        dealer_id="D001",
        customer_id=uuid.uuid5(uuid.NAMESPACE_URL, "same-customer"),
        occurred_at=NOW,
        lead_id=lead_id,
        grade="H",
        graded_at=NOW,
    )


def assigned(lead_id: str) -> LeadAssigned:
    return LeadAssigned(
        dealer_id="D001",
        customer_id=uuid.uuid5(uuid.NAMESPACE_URL, "same-customer"),
        occurred_at=NOW,
        lead_id=lead_id,
        consultant_id="C7",
        reason="initial",
        assigned_at=NOW,
    )


async def eventually(
    probe: Callable[[], Awaitable[bool]], within_s: float = 30.0, what: str = "condition"
) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while not await probe():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


@dataclass
class Env:
    bootstrap: str
    dsn: str
    pool: asyncpg.Pool
    prefix: str
    topic: str
    settings: ServiceSettings
    producer: AIOKafkaProducer
    calls: dict[str, int] = field(default_factory=dict)
    fail: set[str] = field(default_factory=set)
    brokers: list[KafkaBroker] = field(default_factory=list)

    async def send(self, value: bytes | None, headers: list[tuple[str, bytes]], key: bytes) -> None:
        await self.producer.send_and_wait(self.topic, value=value, key=key, headers=headers)

    async def send_event(self, event: Any, event_id: str, **kw: Any) -> None:
        record = encode_binary(event, source="/test", event_id=event_id, **kw)
        await self.send(record.value, record.headers, record.key or b"")

    def router(self) -> EventRouter:
        router = EventRouter()

        @router.on(LeadGraded)
        async def on_graded(ctx: HandlerContext, env: Envelope[LeadGraded]) -> None:
            lead = env.event.lead_id
            self.calls[lead] = self.calls.get(lead, 0) + 1
            await ctx.conn.execute("INSERT INTO effects VALUES ($1, $2)", env.meta.id, lead)
            if lead in self.fail:
                raise ValueError(f"handler refuses {lead}")
            await ctx.publish(assigned(lead))

        return router

    async def start_consumer(
        self,
        group: str,
        *,
        tracer_provider: TracerProvider | None = None,
        pool: asyncpg.Pool | None = None,
    ) -> KafkaBroker:
        broker = create_broker(
            self.settings, registry=CollectorRegistry(), tracer_provider=tracer_provider
        )
        consumer = EventConsumer(
            name="kafkatest",
            router=self.router(),
            pool=pool or self.pool,
            settings=self.settings,
            tracer_provider=tracer_provider,
        )
        attach_consumer(broker, consumer, self.topic, group_id=group, failure_backoff_s=0.2)
        await broker.start()
        self.brokers.append(broker)
        return broker

    async def effects(self) -> list[tuple[str, str]]:
        rows = await self.pool.fetch("SELECT event_id, lead_id FROM effects ORDER BY event_id")
        return [(r["event_id"], r["lead_id"]) for r in rows]

    async def committed(self, group: str) -> int:
        """Sum of the group's committed offsets over the topic's partitions."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(group)
        finally:
            await admin.close()
        return sum(max(meta.offset, 0) for tp, meta in offsets.items() if tp.topic == self.topic)


@pytest.fixture
async def env(
    kafka_bootstrap: str,
    pg_dsn: str,
    pg_schema: str,
    pg_pool: asyncpg.Pool,
    topic_prefix: str,
    create_topics: Callable[..., Awaitable[None]],
) -> AsyncIterator[Env]:
    await migrate(pg_dsn, pg_schema, runtime_migrations())
    await pg_pool.execute("CREATE TABLE effects (event_id text, lead_id text)")
    topics = TopicRegistry(topic_prefix)
    topic = topics.name("leads")
    await create_topics(topic, topics.dlq(topic), partitions=3)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    settings = ServiceSettings(
        service_name="kafkatest",
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        consumer_max_retries=2,
        consumer_batch_timeout_ms=50,
    )
    environment = Env(kafka_bootstrap, pg_dsn, pg_pool, topic_prefix, topic, settings, producer)
    try:
        yield environment
    finally:
        for broker in environment.brokers:
            await broker.stop()
        await producer.stop()


async def test_redelivered_event_has_one_effect(env: Env) -> None:
    group = env.prefix + "g-redelivery"
    await env.start_consumer(group)
    await env.send_event(graded("A"), "id-A")
    await env.send_event(graded("A"), "id-A")  # same ce_id: a redelivery
    await env.send_event(graded("B"), "id-B")
    await eventually(lambda: _committed_is(env, group, 3), what="offsets 3 committed")
    await env.send_event(graded("A"), "id-A")  # once more, in a later batch
    await eventually(lambda: _committed_is(env, group, 4), what="offsets 4 committed")
    assert await env.effects() == [("id-A", "A"), ("id-B", "B")]
    assert env.calls == {"A": 1, "B": 1}
    assert await env.pool.fetchval("SELECT count(*) FROM outbox") == 2


async def test_a_used_event_id_with_another_body_is_dead_lettered_not_dropped(env: Env) -> None:
    group = env.prefix + "g-reused-id"
    async with _relaying(env):
        await env.start_consumer(group)
        await env.send_event(graded("A"), "id-A")
        await env.send_event(graded("FORGED"), "id-A")  # another event under A's id
        await eventually(lambda: _committed_is(env, group, 3), what="A, the forgery, A's follow-up")
        await env.send_event(graded("A"), "id-A")  # a true redelivery: dropped
        await env.send_event(graded("FORGED-LATER"), "id-A")  # in a later batch
        await env.send_event(graded("B"), "id-B")  # the partition moves on
        await eventually(lambda: _committed_is(env, group, 7), what="all 7 committed")
        assert await env.effects() == [("id-A", "A"), ("id-B", "B")]
        assert env.calls == {"A": 1, "B": 1}
        await _dead_letters_published(env, 2)
    letters = await read_dead_letters(env.bootstrap, env.topic + ".dlq")
    assert len(letters) == 2
    for letter in letters:
        assert letter.header("ce_id") == "id-A"
        assert letter.error is not None
        assert "duplicate event id id-A with a different body" in letter.error
    # A keeps its inbox row: the forgeries did not release it
    rows = await env.pool.fetch("SELECT event_id, digest FROM inbox WHERE event_id = 'id-A'")
    assert len(rows) == 1
    assert rows[0]["digest"] is not None


@contextlib.asynccontextmanager
async def _relaying(env: Env) -> AsyncIterator[None]:
    """The outbox relay running (dead letters and follow-up events reach Kafka)."""
    relay = OutboxRelay(env.pool, env.bootstrap, poll_interval_s=0.2)
    relay_task = asyncio.create_task(relay.run())
    try:
        yield
    finally:
        await relay.stop()
        relay_task.cancel()


async def _committed_is(env: Env, group: str, expected: int) -> bool:
    return await env.committed(group) == expected


async def test_binary_and_structured_events_are_consumed(env: Env) -> None:
    group = env.prefix + "g-modes"
    await env.start_consumer(group)
    await env.send_event(graded("BIN"), "bin-1")
    structured = encode_structured(graded("STRUCT"), source="/outside-dms", event_id="str-1")
    await env.send(structured.value, structured.headers, structured.key or b"")
    await eventually(lambda: _committed_is(env, group, 2), what="both consumed")
    assert await env.effects() == [("bin-1", "BIN"), ("str-1", "STRUCT")]


async def _dead_letters_published(env: Env, count: int) -> None:
    async def enough() -> bool:
        dlq = env.topic + ".dlq"
        return len(await read_dead_letters(env.bootstrap, dlq, timeout_s=1)) >= count

    await eventually(enough, what=f"{count} dead letters published by the relay")


async def test_poison_messages_go_to_the_dlq_and_the_partition_moves_on(env: Env) -> None:
    group = env.prefix + "g-poison"
    env.fail.add("POISON")
    async with _relaying(env):
        await env.start_consumer(group)
        good = encode_binary(graded("X"), source="/test", event_id="tmpl")
        key = good.key or b""
        unknown = [
            (k, b"dealerflow.leads.Bogus.v1" if k == "ce_type" else v) for k, v in good.headers
        ]
        # all on one key, hence one partition, in this order
        await env.send(b"{not json", good.headers, key)  # malformed body
        await env.send(good.value, unknown, key)  # unknown type
        await env.send(good.value.replace(b'"lead_id":"X",', b""), good.headers, key)  # invalid
        await env.send_event(graded("POISON"), "poison-1")  # handler always raises
        await env.send_event(graded("NEXT"), "next-1")  # must still be processed
        # 5 records + the LeadAssigned that NEXT's handler published (via the outbox and
        # the relay) to the same topic: consumed, no handler -> no inbox row, no DLQ.
        await eventually(lambda: _committed_is(env, group, 6), what="all 6 committed")
        assert await env.effects() == [("next-1", "NEXT")]
        # (the relay deletes published outbox rows, so look at the topic itself)
        on_topic = await read_dead_letters(env.bootstrap, env.topic)
        (follow_up,) = [r for r in on_topic if r.header("ce_type") == LeadAssigned.event_type]
        assert follow_up.header("ce_causationid") == "next-1"
        inbox_ids = {r["event_id"] for r in await env.pool.fetch("SELECT event_id FROM inbox")}
        assert follow_up.header("ce_id") not in inbox_ids  # no handler: nothing to guard
        assert inbox_ids == {"next-1"}
        assert env.calls["POISON"] == 1 + env.settings.consumer_max_retries
        await _dead_letters_published(env, 4)
    letters = await read_dead_letters(env.bootstrap, env.topic + ".dlq")
    assert len(letters) == 4
    partitions = {letter.original_partition for letter in letters}
    assert len(partitions) == 1  # the original records shared a partition
    by_offset: dict[int, DeadLetter] = {}
    for letter in letters:
        assert letter.original_offset is not None
        by_offset[letter.original_offset] = letter
    first = min(by_offset)
    assert sorted(by_offset) == [first, first + 1, first + 2, first + 3]
    malformed, unknown_type, invalid, poison = (by_offset[first + i] for i in range(4))
    for letter in letters:
        assert letter.original_topic == env.topic
        assert letter.consumer == "kafkatest"
        assert letter.header("dlq-failed-at") is not None
        assert letter.key == key
    assert malformed.value == b"{not json"
    assert malformed.error is not None
    assert malformed.error.startswith("EventDecodeError")
    assert unknown_type.error is not None
    assert "unknown event type" in unknown_type.error
    assert unknown_type.ce_type == "dealerflow.leads.Bogus.v1"
    assert invalid.error is not None
    assert "lead_id" in invalid.error
    assert poison.error == "ValueError: handler refuses POISON"
    assert poison.ce_type == LeadGraded.event_type
    assert poison.header("ce_id") == "poison-1"
    assert poison.header("dlq-attempts") == str(1 + env.settings.consumer_max_retries)


async def test_offsets_are_committed_only_after_the_database_commit(env: Env) -> None:
    # A deferred constraint trigger fails the batch transaction AT COMMIT while the
    # "outage" row exists: handlers ran fine, the database refused the commit.
    await env.pool.execute(
        """
        CREATE TABLE outage (since timestamptz);
        CREATE FUNCTION fail_if_outage() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM outage) THEN
                RAISE EXCEPTION 'simulated database failure at commit';
            END IF;
            RETURN NULL;
        END $$;
        CREATE CONSTRAINT TRIGGER effects_commit_check AFTER INSERT ON effects
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_if_outage();
        INSERT INTO outage VALUES (now());
        """
    )
    group = env.prefix + "g-commit"
    broker = await env.start_consumer(group)
    for i in range(3):
        await env.send_event(graded(f"L{i}"), f"commit-{i}")

    async def redelivered() -> bool:
        return sum(env.calls.values()) >= 6 and all(n >= 2 for n in env.calls.values())

    await eventually(redelivered, what="the failed batch to be redelivered")
    assert await env.committed(group) == 0
    assert await env.effects() == []
    assert await env.pool.fetchval("SELECT count(*) FROM inbox") == 0

    # Stop this consumer (its offsets were never committed) and recover the database.
    await broker.stop()
    env.brokers.remove(broker)
    assert await env.committed(group) == 0
    await env.pool.execute("DELETE FROM outage")
    env.calls.clear()

    await env.start_consumer(group)  # a new instance of the same group starts over
    await eventually(lambda: _committed_is(env, group, 3), what="offsets committed")
    assert await env.effects() == [("commit-0", "L0"), ("commit-1", "L1"), ("commit-2", "L2")]
    assert env.calls == {"L0": 1, "L1": 1, "L2": 1}
    assert await env.pool.fetchval("SELECT count(*) FROM inbox") == 3


async def test_events_published_by_a_handler_continue_the_producers_trace(env: Env) -> None:
    spans = InMemorySpanExporter()
    provider = setup_tracing("kafkatest", exporter=spans, set_global=False)
    group = env.prefix + "g-trace"
    await env.start_consumer(group, tracer_provider=provider)
    with provider.get_tracer("producer").start_as_current_span("http request") as origin:
        origin_context = origin.get_span_context()
        traceparent = f"00-{origin_context.trace_id:032x}-{origin_context.span_id:016x}-01"
    await env.send_event(graded("T"), "traced-1", traceparent=traceparent)
    await eventually(lambda: _committed_is(env, group, 1), what="event consumed")

    (row,) = await env.pool.fetch("SELECT headers::text AS headers FROM outbox")
    headers = dict(decode_headers(row["headers"]))
    published_parent = headers["traceparent"].decode()
    assert trace_id_of(published_parent) == f"{origin_context.trace_id:032x}"
    assert headers["ce_causationid"] == b"traced-1"
    assert headers["ce_correlationid"] == b"traced-1"

    # our per-event span: child of the producer's span, linked to FastStream's batch span
    finished = spans.get_finished_spans()
    (handler_span,) = [s for s in finished if "process dealerflow.leads" in s.name]
    assert handler_span.kind is SpanKind.CONSUMER
    assert handler_span.parent is not None
    assert handler_span.parent.span_id == origin_context.span_id
    assert handler_span.context.trace_id == origin_context.trace_id
    assert f"{handler_span.context.span_id:016x}" == published_parent.split("-")[2]
    batch_spans = [
        s for s in finished if s.name == f"{env.topic} process" and s.kind is SpanKind.CONSUMER
    ]
    assert batch_spans, [s.name for s in finished]
    batch = batch_spans[0]
    assert [link.context.span_id for link in handler_span.links] == [batch.context.span_id]
    # ...and FastStream's batch trace links back to the producer's span: its "create" span
    # (the parent of the batch "process" span) carries one link per event (keyed by ce_id)
    (create,) = [s for s in finished if s.name == f"{env.topic} create"]
    assert batch.parent is not None
    assert batch.parent.span_id == create.context.span_id
    assert [link.context.span_id for link in create.links] == [origin_context.span_id]


async def test_graceful_stop_finishes_the_batch_in_flight(env: Env) -> None:
    group = env.prefix + "g-graceful"
    release = asyncio.Event()
    entered = asyncio.Event()
    router = EventRouter()

    @router.on(LeadGraded)
    async def slow(ctx: HandlerContext, ev: Envelope[LeadGraded]) -> None:
        entered.set()
        await release.wait()
        await ctx.conn.execute("INSERT INTO effects VALUES ($1, $2)", ev.meta.id, "slow")

    broker = create_broker(env.settings, registry=CollectorRegistry(), graceful_timeout_s=10)
    consumer = EventConsumer(name="graceful", router=router, pool=env.pool, settings=env.settings)
    attach_consumer(broker, consumer, env.topic, group_id=group)
    await broker.start()
    await env.send_event(graded("S"), "slow-1")
    await asyncio.wait_for(entered.wait(), 30)
    stopping = asyncio.create_task(broker.stop())
    await asyncio.sleep(0.3)
    assert not stopping.done()  # waits for the in-flight batch
    release.set()
    await asyncio.wait_for(stopping, 15)
    assert await env.effects() == [("slow-1", "slow")]
    assert await env.committed(group) == 1


async def test_events_with_text_postgresql_cannot_store_are_dead_lettered(env: Env) -> None:
    # NUL in an event id (the inbox claim of the whole batch would fail, again and again),
    # in a payload string, a lone surrogate in a structured attribute, and a NUL that
    # only the handler's INSERT meets (data_base64 hides it from the quick scan)
    group = env.prefix + "g-nul"
    async with _relaying(env):
        await env.start_consumer(group)
        template = encode_binary(graded("K"), source="/test", event_id="tmpl")
        key = template.key or b""
        nul_id = encode_binary(graded("ID"), source="/test", event_id="nul\x00id")
        await env.send(nul_id.value, [*nul_id.headers, ("x-note", b"a\x00b")], key)
        payload = encode_binary(graded("N\x00UL"), source="/test", event_id="nul-payload")
        no_subject = [(k, v) for k, v in payload.headers if k != "ce_subject"]
        await env.send(payload.value, no_subject, key)  # only data.lead_id holds it
        structured = json.loads(encode_structured(graded("S"), source="/t", event_id="s1").value)
        surrogate = json.dumps({**structured, "subject": "lead \ud800"}).encode()
        await env.send(surrogate, [("content-type", b"application/cloudevents+json")], key)
        hidden = {**structured, "id": "b64-1"}
        del hidden["data"]
        data = json.dumps({**structured["data"], "lead_id": "B\x00"}).encode()
        hidden["data_base64"] = base64.b64encode(data).decode()
        await env.send(
            json.dumps(hidden).encode(), [("content-type", b"application/cloudevents+json")], key
        )
        await env.send_event(graded("NEXT"), "next-1")
        # 5 records + the LeadAssigned that NEXT's handler published
        await eventually(lambda: _committed_is(env, group, 6), what="all 6 committed")
        assert await env.effects() == [("next-1", "NEXT")]
        assert "N\x00UL" not in env.calls  # refused before any handler ran
        assert env.calls["B\x00"] == 1  # the INSERT's refusal is not retried
        await _dead_letters_published(env, 4)
    letters = sorted(
        await read_dead_letters(env.bootstrap, env.topic + ".dlq"),
        key=lambda d: d.original_offset or 0,
    )
    reasons = [letter.error or "" for letter in letters]
    assert reasons[0].startswith("UnprocessableEvent: attribute id: U+0000 is a character")
    assert reasons[1].startswith("UnprocessableEvent: data.lead_id: U+0000 is a character")
    assert reasons[2].startswith("UnprocessableEvent: attribute subject: U+D800 is")
    assert reasons[3].startswith("CharacterNotInRepertoireError")
    assert [letter.header("dlq-attempts") for letter in letters] == ["0", "0", "0", "1"]
    # the original record byte for byte, NUL headers included
    assert letters[0].value == nul_id.value
    assert letters[0].original_headers == [*nul_id.headers, ("x-note", b"a\x00b")]


@pytest.mark.parametrize("fault", ["cut", "blackhole"])
async def test_consumer_resumes_within_a_second_or_two_after_a_database_outage(
    env: Env, pg_dsn: str, pg_schema: str, fault: str
) -> None:
    # cut: PostgreSQL refuses; blackhole: it hangs (accepts, never answers), which the
    # pool's timeouts turn into errors: the batch is redelivered, never dead-lettered
    proxy, through_proxy = await proxied_pool(pg_dsn, pg_schema, max_size=4)
    group = env.prefix + "g-outage"

    async def handled(count: int) -> bool:
        return len(await env.effects()) == count

    try:
        await env.start_consumer(group, pool=through_proxy)
        await env.send_event(graded("BEFORE"), "before-1")
        await eventually(lambda: handled(1), what="the first event handled")
        # PostgreSQL gone for the consumer for 8 s
        await (proxy.cut() if fault == "cut" else proxy.blackhole())
        await env.send_event(graded("DURING"), "during-1")
        # backoff 0.2 s doubling (cap 10 s): a blind sleep would last to ~12.6 s
        await asyncio.sleep(8.0)
        await proxy.open()
        started = time.monotonic()
        await eventually(lambda: handled(2), within_s=20, what="the event handled after")
        assert time.monotonic() - started < 4.0  # a blind backoff: >= 4.6 s more
    finally:
        for broker in env.brokers:
            await broker.stop()
        env.brokers.clear()
        await proxy.cut()
        await through_proxy.close()
