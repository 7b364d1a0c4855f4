"""Shared pieces of benchmark 2: the effect table, the raw getmany loop and its handlers.

The raw loop is the baseline (``AIOKafkaConsumer.getmany`` + one asyncpg transaction per
batch + manual commit); it also drives ``EventConsumer.process_batch`` without FastStream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from bench.common import Infra
from dealerflow.contracts.envelope import KafkaRecord, decode
from dealerflow.runtime import inbox
from dealerflow.runtime.relay import murmur2_partitioner
from dealerflow.runtime.settings import ServiceSettings

EFFECTS = """
CREATE TABLE effects (
    event_id    text PRIMARY KEY,
    event_type  text NOT NULL,
    customer_id uuid NOT NULL,
    dealer_id   text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""
INSERT_ONE = (
    "INSERT INTO effects (event_id, event_type, customer_id, dealer_id) VALUES ($1, $2, $3, $4)"
)
INSERT_MANY = """
INSERT INTO effects (event_id, event_type, customer_id, dealer_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[])
"""

DONE_SQL = "SELECT count(*) FROM effects"

Batch = Sequence[ConsumerRecord[Any, Any]]


async def produce(infra: Infra, topic: str, records: list[KafkaRecord]) -> None:
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


class Watch:
    """Start time (first batch), and the moment ``count(*)`` of effects reaches ``n``
    (``done_sql``: the count to watch instead)."""

    def __init__(self, pool: asyncpg.Pool, n: int, done_sql: str = DONE_SQL) -> None:
        self.pool = pool
        self.n = n
        self.done_sql = done_sql
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
                done = await conn.fetchval(self.done_sql)
                if done >= self.n:
                    return time.perf_counter()
                if task is not None and task.done():
                    task.result()
                    raise RuntimeError("consumer loop ended early")
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"only {done:,} of {self.n:,} effects after 600 s")
                await asyncio.sleep(0.005)


async def prepare(infra: Infra, name: str, ddl: str = EFFECTS) -> tuple[str, asyncpg.Pool]:
    schema = await infra.schema(name)
    pool = await infra.pool(schema)
    await pool.execute(ddl)
    return schema, pool


async def raw_loop(
    infra: Infra,
    topic: str,
    n: int,
    settings: ServiceSettings,
    name: str,
    handle: Callable[[asyncpg.Pool, Batch], Awaitable[None]],
    *,
    ddl: str = EFFECTS,
    done_sql: str = DONE_SQL,
) -> dict[str, Any]:
    """The baseline loop over ``topic`` until ``done_sql`` counts ``n`` (tables: ``ddl``)."""
    _, pool = await prepare(infra, name, ddl)
    watch = Watch(pool, n, done_sql)
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


def raw_handler(consumer_name: str) -> Callable[[asyncpg.Pool, Batch], Awaitable[None]]:
    async def handle(pool: asyncpg.Pool, batch: Batch) -> None:
        ids = [_header(r, "ce_id") for r in batch]
        async with pool.acquire() as conn, conn.transaction():
            fresh = await inbox.claim_many(conn, consumer_name, ids)
            rows = [(i, r) for i, r in zip(ids, batch, strict=True) if i in fresh]
            await conn.execute(
                INSERT_MANY,
                [i for i, _ in rows],
                [_header(r, "ce_type") for _, r in rows],
                [r.key.decode() for _, r in rows],
                [_header(r, "ce_dealerid") for _, r in rows],
            )

    return handle


def decoding_handler(consumer_name: str) -> Callable[[asyncpg.Pool, Batch], Awaitable[None]]:
    async def handle(pool: asyncpg.Pool, batch: Batch) -> None:
        envs = [decode(r.value, r.headers) for r in batch]
        async with pool.acquire() as conn, conn.transaction():
            fresh = await inbox.claim_many(conn, consumer_name, [e.meta.id for e in envs])
            todo = [e for e in envs if e.meta.id in fresh]
            await conn.execute(
                INSERT_MANY,
                [e.meta.id for e in todo],
                [e.meta.type for e in todo],
                [e.event.customer_id for e in todo],
                [e.meta.dealer_id for e in todo],
            )

    return handle
