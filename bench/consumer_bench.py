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

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from bench.common import BenchResult, Figure, Infra, paired_ratio, progress, summarize
from bench.consumer_raw import (
    INSERT_MANY,
    INSERT_ONE,
    Batch,
    Watch,
    decoding_handler,
    prepare,
    produce,
    raw_handler,
    raw_loop,
)
from bench.events import make_records, mean_sizes
from dealerflow.contracts.envelope import Envelope
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.runtime.broker import create_broker
from dealerflow.runtime.consumer import (
    BatchContext,
    EventConsumer,
    EventRouter,
    HandlerContext,
    attach_consumer,
)
from dealerflow.runtime.settings import ServiceSettings
from dealerflow.runtime.telemetry import setup_tracing

TARGET_EVENTS_PER_S = 5_000
TARGET_SHARE_OF_BASELINE = 0.5


def _router(*, batch: bool) -> EventRouter:
    router = EventRouter()
    if batch:
        # one unnest insert per run of events: still one effect row per event
        @router.on_batch(DomainEvent)
        async def apply_all(ctx: BatchContext, envs: Sequence[Envelope[DomainEvent]]) -> None:
            await ctx.conn.execute(
                INSERT_MANY,
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
            INSERT_ONE, meta.id, meta.type, env.event.customer_id, meta.dealer_id
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
    schema, pool = await prepare(infra, name)
    # as a service has it: an SDK tracer provider (spans recorded, no exporter configured)
    provider = setup_tracing("bench-consumer", None, set_global=False)
    consumer = _event_consumer(infra, name, pool, settings, provider, batch=batch)
    watch = Watch(pool, n)
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
        service_name="bench-consumer",
        kafka_bootstrap=infra.kafka,
        pg_dsn=infra.dsn,
        unknown_dealers="defaults",  # the benchmark's dealers are never configured
    )
    topic = await infra.topic("consume", partitions=6)
    progress(f"consumer: encoding and producing {events:,} CloudEvents")
    records = make_records(events)
    value_bytes, record_bytes = mean_sizes(records)
    await produce(infra, topic, records)
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
            await raw_loop(infra, topic, n, settings, raw_name, raw_handler(raw_name)),
            "baseline, raw aiokafka + asyncpg",
        )
        nofs_name = f"c{i}_nofs"
        keep(
            "no_faststream",
            await raw_loop(
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
            await raw_loop(infra, topic, n, settings, dec_name, decoding_handler(dec_name)),
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
