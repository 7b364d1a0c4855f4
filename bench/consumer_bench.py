"""Benchmark 2: consumer throughput (events/s from Kafka into PostgreSQL, inbox + effect).

``events`` CloudEvents are produced to a 6-partition topic before anything is measured.

Measured: the runtime's :class:`EventConsumer` attached to a FastStream broker with
:func:`attach_consumer`, wired as a service wires it (``create_broker``, a tracer provider
from ``setup_tracing`` without an exporter, the service defaults for batch size and poll
timeout). The consumer claims the batch's event ids in the inbox, runs the handler and
commits once per batch; then FastStream commits the offsets. Two handlers, each writing
one effect row per event through ``ctx.conn``: a batch handler (``router.on_batch``: one
``unnest`` insert per run of events, the set-based fast path) and a per-event handler
(``router.on``: one insert, i.e. one round trip, per event).

Baseline, same run: a raw ``AIOKafkaConsumer`` loop, ``getmany(max_records=<same>)``,
one asyncpg transaction per batch that claims the inbox rows (the same statement) and
inserts all effect rows with one ``unnest`` statement, taking ids from the ``ce_*``
headers without decoding the body; then ``consumer.commit()``.

Both clocks run from the first batch reaching the code until a poll of ``count(*)`` on the
effect table sees every event (group join and partition assignment are reported
separately as start-up). Each side has its own schema and consumer group.

Informational rows isolate the costs: the same ``EventConsumer.process_batch`` (batch
handler) driven by the raw getmany loop (no FastStream), and the baseline loop plus
``decode()`` of every record (CloudEvent parsing and pydantic validation).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from dealerflow.contracts.envelope import Envelope, KafkaRecord, decode
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.runtime import inbox
from dealerflow.runtime.broker import create_broker
from dealerflow.runtime.consumer import (
    BatchContext,
    EventConsumer,
    EventRouter,
    HandlerContext,
    attach_consumer,
)
from dealerflow.runtime.relay import murmur2_partitioner
from dealerflow.runtime.settings import ServiceSettings
from dealerflow.runtime.telemetry import setup_tracing
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from bench.common import BenchResult, Figure, Infra, paired_ratio, progress, summarize
from bench.events import make_records, mean_sizes

TARGET_EVENTS_PER_S = 5_000
TARGET_SHARE_OF_BASELINE = 0.5

_EFFECTS = """
CREATE TABLE effects (
    event_id    text PRIMARY KEY,
    event_type  text NOT NULL,
    customer_id uuid NOT NULL,
    dealer_id   text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""
_INSERT_ONE = (
    "INSERT INTO effects (event_id, event_type, customer_id, dealer_id) VALUES ($1, $2, $3, $4)"
)
_INSERT_MANY = """
INSERT INTO effects (event_id, event_type, customer_id, dealer_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[])
"""

Batch = Sequence[ConsumerRecord[Any, Any]]


async def _produce(infra: Infra, topic: str, records: list[KafkaRecord]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=infra.kafka,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=1_048_576,
        partitioner=murmur2_partitioner,
    )
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value=r.value, key=r.key, headers=r.headers) for r in records
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


class _Watch:
    """Start time (first batch), and the moment ``count(*)`` of effects reaches ``n``."""

    def __init__(self, pool: asyncpg.Pool, n: int) -> None:
        self.pool = pool
        self.n = n
        self.first_batch: float | None = None
        self.batches = 0
        self.records = 0

    def saw_batch(self, size: int) -> None:
        if self.first_batch is None:
            self.first_batch = time.perf_counter()
        self.batches += 1
        self.records += size

    def figures(self, started: float, end: float) -> dict[str, Any]:
        first = started if self.first_batch is None else self.first_batch
        seconds = end - first
        return {
            "seconds": seconds,
            "events_per_s": self.n / seconds,
            "startup_seconds": first - started,
            "wall_seconds": end - started,
            "batches": self.batches,
            "mean_batch": self.records / self.batches if self.batches else 0.0,
        }

    async def wait_done(self, task: asyncio.Future[Any] | None = None) -> float:
        async with self.pool.acquire() as conn:
            deadline = time.perf_counter() + 600
            while True:
                done = await conn.fetchval("SELECT count(*) FROM effects")
                if done >= self.n:
                    return time.perf_counter()
                if task is not None and task.done():
                    task.result()
                    raise RuntimeError("consumer loop ended early")
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"only {done:,} of {self.n:,} effects after 600 s")
                await asyncio.sleep(0.005)


async def _prepare(infra: Infra, name: str) -> tuple[str, asyncpg.Pool]:
    schema = await infra.schema(name)
    pool = await infra.pool(schema)
    await pool.execute(_EFFECTS)
    return schema, pool


def _router(*, batch: bool) -> EventRouter:
    router = EventRouter()
    if batch:
        # one unnest insert per run of events: still one effect row per event
        @router.on_batch(DomainEvent)
        async def apply_all(ctx: BatchContext, envs: Sequence[Envelope[DomainEvent]]) -> None:
            await ctx.conn.execute(
                _INSERT_MANY,
                [e.meta.id for e in envs],
                [e.meta.type for e in envs],
                [e.event.customer_id for e in envs],
                [e.meta.dealer_id for e in envs],
            )

        return router

    @router.on(DomainEvent)  # every catalogue event: subclasses are dispatched too
    async def apply(ctx: HandlerContext, env: Envelope[DomainEvent]) -> None:
        meta = env.meta
        await ctx.conn.execute(
            _INSERT_ONE, meta.id, meta.type, env.event.customer_id, meta.dealer_id
        )

    return router


def _event_consumer(
    infra: Infra,
    name: str,
    pool: asyncpg.Pool,
    settings: ServiceSettings,
    provider: TracerProvider,
    *,
    batch: bool,
) -> EventConsumer:
    return EventConsumer(
        name=f"bench-{infra.run_id}-{name}",
        router=_router(batch=batch),
        pool=pool,
        settings=settings,
        tracer_provider=provider,
    )


async def _runtime_run(
    infra: Infra, topic: str, n: int, settings: ServiceSettings, name: str, *, batch: bool
) -> dict[str, Any]:
    schema, pool = await _prepare(infra, name)
    # as a service has it: an SDK tracer provider (spans recorded, no exporter configured)
    provider = setup_tracing("bench-consumer", None, set_global=False)
    consumer = _event_consumer(infra, name, pool, settings, provider, batch=batch)
    watch = _Watch(pool, n)
    process = consumer.process_batch

    async def timed(records: Batch) -> Any:
        watch.saw_batch(len(records))
        return await process(records)

    consumer.process_batch = timed  # type: ignore[method-assign]
    broker = create_broker(settings, registry=CollectorRegistry(), tracer_provider=provider)
    attach_consumer(broker, consumer, topic, group_id=f"bench-{infra.run_id}-{schema}")
    started = time.perf_counter()
    await broker.start()
    try:
        end = await watch.wait_done()
    finally:
        await broker.stop()
    return watch.figures(started, end)


async def _raw_loop(
    infra: Infra,
    topic: str,
    n: int,
    settings: ServiceSettings,
    name: str,
    handle: Callable[[asyncpg.Pool, Batch], Awaitable[None]],
) -> dict[str, Any]:
    _, pool = await _prepare(infra, name)
    watch = _Watch(pool, n)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=infra.kafka,
        group_id=f"bench-{infra.run_id}-{name}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    stop = asyncio.Event()

    async def loop() -> None:
        while not stop.is_set():
            fetched = await consumer.getmany(
                timeout_ms=settings.consumer_batch_timeout_ms,
                max_records=settings.consumer_batch_size,
            )
            batch = [record for records in fetched.values() for record in records]
            if not batch:
                continue
            watch.saw_batch(len(batch))
            await handle(pool, batch)
            await consumer.commit()

    started = time.perf_counter()
    await consumer.start()
    task = asyncio.create_task(loop())
    try:
        end = await watch.wait_done(task)
    finally:
        stop.set()
        await task
        await consumer.stop()
    return watch.figures(started, end)


def _header(record: ConsumerRecord[Any, Any], name: str) -> str:
    for key, value in record.headers:
        if key == name:
            return bytes(value).decode()
    raise KeyError(name)


def _raw_handler(consumer_name: str) -> Callable[[asyncpg.Pool, Batch], Awaitable[None]]:
    async def handle(pool: asyncpg.Pool, batch: Batch) -> None:
        ids = [_header(r, "ce_id") for r in batch]
        async with pool.acquire() as conn, conn.transaction():
            fresh = await inbox.claim_many(conn, consumer_name, ids)
            rows = [(i, r) for i, r in zip(ids, batch, strict=True) if i in fresh]
            await conn.execute(
                _INSERT_MANY,
                [i for i, _ in rows],
                [_header(r, "ce_type") for _, r in rows],
                [r.key.decode() for _, r in rows],
                [_header(r, "ce_dealerid") for _, r in rows],
            )

    return handle


def _decoding_handler(consumer_name: str) -> Callable[[asyncpg.Pool, Batch], Awaitable[None]]:
    async def handle(pool: asyncpg.Pool, batch: Batch) -> None:
        envs = [decode(r.value, r.headers) for r in batch]
        async with pool.acquire() as conn, conn.transaction():
            fresh = await inbox.claim_many(conn, consumer_name, [e.meta.id for e in envs])
            todo = [e for e in envs if e.meta.id in fresh]
            await conn.execute(
                _INSERT_MANY,
                [e.meta.id for e in todo],
                [e.meta.type for e in todo],
                [e.event.customer_id for e in todo],
                [e.meta.dealer_id for e in todo],
            )

    return handle


def _plain_consumer(
    infra: Infra, settings: ServiceSettings, name: str, *, batch: bool
) -> Callable[[asyncpg.Pool, Batch], Awaitable[None]]:
    """An EventConsumer's process_batch, for the raw getmany loop (no FastStream)."""
    consumers: dict[int, EventConsumer] = {}
    provider = setup_tracing("bench-consumer", None, set_global=False)

    async def handle(pool: asyncpg.Pool, batch_: Batch) -> None:
        consumer = consumers.get(id(pool))
        if consumer is None:
            consumer = _event_consumer(infra, name, pool, settings, provider, batch=batch)
            consumers[id(pool)] = consumer
        await consumer.process_batch(batch_)

    return handle


async def run(infra: Infra, *, events: int, repeat: int = 1) -> BenchResult:
    """Run benchmark 2 and its baselines (``repeat`` times, medians); see the docstring."""
    settings = ServiceSettings(
        service_name="bench-consumer", kafka_bootstrap=infra.kafka, pg_dsn=infra.dsn
    )
    topic = await infra.topic("consume", partitions=6)
    progress(f"consumer: encoding and producing {events:,} CloudEvents")
    records = make_records(events)
    value_bytes, record_bytes = mean_sizes(records)
    await _produce(infra, topic, records)
    if await infra.topic_offsets(topic) != events:
        raise AssertionError("the consumer topic does not hold every record")
    del records

    runs: dict[str, list[dict[str, Any]]] = {}

    def keep(key: str, result: dict[str, Any], label: str) -> None:
        runs.setdefault(key, []).append(result)
        progress(
            f"consumer: {label}: {result['events_per_s']:,.0f} events/s "
            f"({result['batches']} batches, {result['mean_batch']:.0f} records on average)"
        )

    n = events
    for i in range(repeat):
        keep(
            "batch",
            await _runtime_run(infra, topic, n, settings, f"c{i}_batch", batch=True),
            "EventConsumer via FastStream, batch handler",
        )
        keep(
            "per_event",
            await _runtime_run(infra, topic, n, settings, f"c{i}_per_event", batch=False),
            "EventConsumer via FastStream, per-event handler",
        )
        raw_name = f"c{i}_raw"
        keep(
            "raw",
            await _raw_loop(infra, topic, n, settings, raw_name, _raw_handler(raw_name)),
            "baseline, raw aiokafka + asyncpg",
        )
        nofs_name = f"c{i}_nofs"
        keep(
            "no_faststream",
            await _raw_loop(
                infra,
                topic,
                n,
                settings,
                nofs_name,
                _plain_consumer(infra, settings, nofs_name, batch=True),
            ),
            "EventConsumer on the raw getmany loop",
        )
        dec_name = f"c{i}_decode"
        keep(
            "raw_with_decode",
            await _raw_loop(infra, topic, n, settings, dec_name, _decoding_handler(dec_name)),
            "baseline + decode()",
        )
    summary = {key: summarize(value) for key, value in runs.items()}
    base = summary["raw"]["events_per_s"]

    def throughput(key: str, metric: str) -> Figure:
        rate = summary[key]["events_per_s"]
        share = paired_ratio(runs[key], runs["raw"], "events_per_s") or rate / base
        return Figure(
            metric,
            rate,
            base,
            "events/s",
            f">= {TARGET_EVENTS_PER_S:,} and >= 50% of baseline",
            rate >= TARGET_EVENTS_PER_S and share >= TARGET_SHARE_OF_BASELINE,
            paired_ratio=share,
        )

    figures = [
        throughput("batch", "EventConsumer, batch handler (on_batch)"),
        throughput("per_event", "EventConsumer, per-event handler (on)"),
        Figure(
            "start-up (broker start to first batch)",
            summary["batch"]["startup_seconds"],
            summary["raw"]["startup_seconds"],
            "s",
        ),
        Figure(
            "EventConsumer without FastStream (raw getmany loop)",
            summary["no_faststream"]["events_per_s"],
            base,
            "events/s",
            paired_ratio=paired_ratio(runs["no_faststream"], runs["raw"], "events_per_s"),
            note="batch handler; compare with the row above it to see FastStream's share",
        ),
        Figure(
            "baseline + decode() of every record",
            summary["raw_with_decode"]["events_per_s"],
            base,
            "events/s",
            paired_ratio=paired_ratio(runs["raw_with_decode"], runs["raw"], "events_per_s"),
            note="isolates the cost of CloudEvent decoding and payload validation",
        ),
    ]
    return BenchResult(
        name="consumer",
        title=(
            f"2. Consumer: {events:,} events, 6 partitions, batches of up to "
            f"{settings.consumer_batch_size}, ~{value_bytes:.0f} B JSON body / "
            f"~{record_bytes:.0f} B with headers"
        ),
        baseline=(
            "raw AIOKafkaConsumer.getmany + one asyncpg transaction per batch (inbox claim + "
            "effects via unnest, ids from headers, no body decode) + manual commit"
        ),
        figures=figures,
        params={
            "events": events,
            "repeat": repeat,
            "partitions": 6,
            "consumer_batch_size": settings.consumer_batch_size,
            "consumer_batch_timeout_ms": settings.consumer_batch_timeout_ms,
            "mean_value_bytes": round(value_bytes, 1),
            "mean_record_bytes": round(record_bytes, 1),
        },
        details=summary,
    )
