"""Benchmark 1: outbox relay throughput (rows/s from the outbox table into Kafka).

Measured: ``rows`` CloudEvents are enqueued with :func:`dealerflow.runtime.outbox.enqueue`
(committed before the clock starts), then an :class:`OutboxRelay` with the service
defaults publishes them to a 6-partition topic; the clock runs from ``relay.run()`` until
the relay has deleted the last acknowledged row (``relay.published == rows``), so producer
start-up, leadership, reads, sends, acks and deletes are all inside. Afterwards the outbox
must be empty and the topic must hold exactly ``rows`` records.

Baseline, same run: a raw ``AIOKafkaProducer(enable_idempotence=True, acks="all")`` with
aiokafka's defaults sends the same records to another 6-partition topic (``send`` each,
then await every delivery future), clock from ``producer.start()`` to the last ack. A
second, informational row uses the relay's own producer settings (``linger_ms``, 1 MiB
batches, the relay's murmur2 partitioner): the ceiling the relay could reach without its
database work.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaProducer

from bench.common import (
    BenchResult,
    Figure,
    Infra,
    chunks,
    paired_ratio,
    progress,
    summarize,
)
from bench.events import make_records, mean_sizes
from dealerflow.contracts.envelope import KafkaRecord
from dealerflow.runtime.db import transaction
from dealerflow.runtime.outbox import OutboxMessage, enqueue
from dealerflow.runtime.relay import OutboxRelay, murmur2_partitioner
from dealerflow.runtime.settings import ServiceSettings

TARGET_ROWS_PER_S = 10_000
ENQUEUE_CHUNK = 5_000


async def _relay_run(
    infra: Infra, records: list[KafkaRecord], settings: ServiceSettings, name: str
) -> dict[str, Any]:
    topic = await infra.topic(name, partitions=6)
    schema = await infra.schema(name)
    pool = await infra.pool(schema)

    started = time.perf_counter()
    for part in chunks(records, ENQUEUE_CHUNK):
        async with transaction(pool) as conn:
            await enqueue(conn, [OutboxMessage(topic, r.key, r.value, r.headers) for r in part])
    enqueue_s = time.perf_counter() - started
    progress(f"relay: {len(records):,} rows enqueued in {enqueue_s:.2f} s")

    relay = OutboxRelay(
        pool,
        infra.kafka,
        batch_size=settings.relay_batch_size,
        poll_interval_s=settings.relay_poll_interval_s,
        linger_ms=settings.relay_linger_ms,
        max_batch_bytes=settings.relay_max_batch_bytes,
        compression_type=settings.relay_compression,
        client_id=f"bench-{infra.run_id}-relay",
    )
    started = time.perf_counter()
    task = asyncio.create_task(relay.run())
    deadline = started + 600
    while relay.published < len(records):
        if task.done():
            task.result()
            raise RuntimeError("the relay stopped before publishing every row")
        if time.perf_counter() > deadline:
            raise TimeoutError(f"relay published {relay.published:,} of {len(records):,}")
        await asyncio.sleep(0.002)
    elapsed = time.perf_counter() - started
    await relay.stop()
    await task

    async with pool.acquire() as conn:
        left = await conn.fetchval("SELECT count(*) FROM outbox")
    in_topic = await infra.topic_offsets(topic)
    if left or in_topic != len(records):
        raise AssertionError(f"relay check failed: {left} rows left, {in_topic} in the topic")
    return {
        "seconds": elapsed,
        "rows_per_s": len(records) / elapsed,
        "enqueue_seconds": enqueue_s,
        "enqueue_rows_per_s": len(records) / enqueue_s,
        "records_in_topic": in_topic,
    }


async def _raw_producer_run(
    infra: Infra, records: list[KafkaRecord], name: str, **options: Any
) -> dict[str, Any]:
    topic = await infra.topic(name, partitions=6)
    producer = AIOKafkaProducer(
        bootstrap_servers=infra.kafka, enable_idempotence=True, acks="all", **options
    )
    started = time.perf_counter()
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value=r.value, key=r.key, headers=r.headers) for r in records
        ]
        await asyncio.gather(*futures)
        elapsed = time.perf_counter() - started
    finally:
        await producer.stop()
    in_topic = await infra.topic_offsets(topic)
    if in_topic != len(records):
        raise AssertionError(f"raw producer check failed: {in_topic} records in the topic")
    return {"seconds": elapsed, "rows_per_s": len(records) / elapsed}


async def run(infra: Infra, *, rows: int, repeat: int = 1) -> BenchResult:
    """Run benchmark 1 and its baselines (``repeat`` times, medians); see the docstring."""
    settings = ServiceSettings(kafka_bootstrap=infra.kafka, pg_dsn=infra.dsn)
    progress(f"relay: encoding {rows:,} CloudEvents")
    records = make_records(rows)
    value_bytes, record_bytes = mean_sizes(records)

    relay_runs, raw_runs, tuned_runs = [], [], []
    for i in range(repeat):
        relay_runs.append(await _relay_run(infra, records, settings, f"relay{i}"))
        progress(f"relay: {relay_runs[-1]['rows_per_s']:,.0f} rows/s")
        raw_runs.append(await _raw_producer_run(infra, records, f"relay{i}_raw"))
        progress(f"relay baseline (aiokafka defaults): {raw_runs[-1]['rows_per_s']:,.0f} rows/s")
        tuned_runs.append(
            await _raw_producer_run(
                infra,
                records,
                f"relay{i}_raw_tuned",
                linger_ms=settings.relay_linger_ms,
                max_batch_size=settings.relay_max_batch_bytes,
                max_request_size=max(settings.relay_max_batch_bytes, 1_048_576),
                partitioner=murmur2_partitioner,
            )
        )
        tuned_rate = tuned_runs[-1]["rows_per_s"]
        progress(f"relay baseline (relay's producer settings): {tuned_rate:,.0f} rows/s")
    measured, raw, tuned = summarize(relay_runs), summarize(raw_runs), summarize(tuned_runs)

    rate = measured["rows_per_s"]
    return BenchResult(
        name="relay",
        title=(
            f"1. Outbox relay -> Kafka: {rows:,} rows, 6 partitions, "
            f"~{value_bytes:.0f} B JSON body / ~{record_bytes:.0f} B with headers"
        ),
        baseline=(
            "raw AIOKafkaProducer (idempotent, acks=all, aiokafka defaults) sending the same "
            "records, send() each then await all futures, no database"
        ),
        figures=[
            Figure(
                "throughput",
                rate,
                raw["rows_per_s"],
                "rows/s",
                f">= {TARGET_ROWS_PER_S:,}",
                rate >= TARGET_ROWS_PER_S,
                paired_ratio=paired_ratio(relay_runs, raw_runs, "rows_per_s"),
            ),
            Figure(
                "vs raw producer with the relay's settings",
                rate,
                tuned["rows_per_s"],
                "rows/s",
                note=(
                    f"linger_ms={settings.relay_linger_ms}, max_batch_size="
                    f"{settings.relay_max_batch_bytes}, cached murmur2 partitioner: the "
                    "ceiling without the outbox reads and deletes"
                ),
                paired_ratio=paired_ratio(relay_runs, tuned_runs, "rows_per_s"),
            ),
            Figure(
                "enqueue (5,000 rows per transaction)",
                measured["enqueue_rows_per_s"],
                None,
                "rows/s",
            ),
        ],
        params={
            "rows": rows,
            "repeat": repeat,
            "partitions": 6,
            "relay_batch_size": settings.relay_batch_size,
            "relay_linger_ms": settings.relay_linger_ms,
            "relay_max_batch_bytes": settings.relay_max_batch_bytes,
            "mean_value_bytes": round(value_bytes, 1),
            "mean_record_bytes": round(record_bytes, 1),
        },
        details={"relay": measured, "raw_defaults": raw, "raw_relay_settings": tuned},
    )
