"""OutboxRelay against real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from prometheus_client import REGISTRY

from dealerflow.devinfra.fault_proxy import FaultProxy, proxied_pool
from dealerflow.runtime.db import create_pool
from dealerflow.runtime.migrations import migrate, runtime_migrations
from dealerflow.runtime.outbox import OutboxMessage, enqueue
from dealerflow.runtime.relay import OutboxRelay, murmur2_partitioner

CreateTopics = Callable[..., Awaitable[None]]


def test_partitioner_matches_kafkas_default() -> None:
    from aiokafka.partitioner import DefaultPartitioner

    rng = random.Random(7)
    partitions = list(range(12))
    keys = [rng.randbytes(n) for n in range(40) for _ in range(25)]
    keys += [str(uuid.UUID(int=rng.getrandbits(128))).encode() for _ in range(500)]
    for key in keys:
        assert murmur2_partitioner(key, partitions, partitions) == DefaultPartitioner()(
            key, partitions, partitions
        )
    # Kafka's UtilsTest: murmur2("21") == -973932308; toPositive(...) % 100 == 40
    assert murmur2_partitioner(b"21", list(range(100)), []) == 40
    assert murmur2_partitioner(None, [0, 1], [1]) == 1


def test_a_commit_below_the_rows_read_makes_the_next_read_start_over() -> None:
    relay = OutboxRelay(None, "127.0.0.1:1")  # type: ignore[arg-type]  # never started
    relay._read_ids, relay._read_floor = {7, 8, 10}, 10
    for already_read in ("7", "10", "11", ""):  # read, or above what was read: no rescan
        relay._on_notify(None, 0, "s_outbox", already_read)
        assert not relay._late_commit
    relay._on_notify(None, 0, "s_outbox", "9")  # committed after 10 was read
    assert relay._late_commit
    assert relay._wake.is_set()


@pytest.fixture
async def pool(pg_dsn: str, pg_schema: str, pg_pool: asyncpg.Pool) -> asyncpg.Pool:
    await migrate(pg_dsn, pg_schema, runtime_migrations())
    return pg_pool


@pytest.fixture
async def topic(topic_prefix: str, create_topics: CreateTopics) -> str:
    name = f"{topic_prefix}sales"
    await create_topics(name, partitions=3)
    return name


async def consume(
    bootstrap: str, topic: str, expected: int, limit_s: float = 30.0, idle_s: float | None = None
) -> list[Any]:
    """Read ``topic`` from the beginning until ``expected`` records arrived, ``limit_s``
    passed, or (with ``idle_s``) nothing new arrived for ``idle_s`` seconds."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + limit_s
        last_new = time.monotonic()
        while len(records) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for msgs in batch.values():
                records.extend(msgs)
                last_new = time.monotonic()
            if idle_s is not None and records and time.monotonic() - last_new > idle_s:
                break
    finally:
        await consumer.stop()
    return records


def relay_for(pool: asyncpg.Pool, bootstrap: str, **options: Any) -> OutboxRelay:
    defaults: dict[str, Any] = {
        "poll_interval_s": 0.2,
        "retry_backoff_s": 0.05,
        "max_backoff_s": 0.5,
        "leader_retry_s": 0.1,
        "metrics_interval_s": 0.0,
    }
    return OutboxRelay(pool, bootstrap, **(defaults | options))


@contextlib.asynccontextmanager
async def running(relay: OutboxRelay) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(relay.run())
    try:
        yield task
    finally:
        await relay.stop(grace_s=10)
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_for(predicate: Callable[[], Awaitable[bool]], limit_s: float = 20.0) -> None:
    deadline = time.monotonic() + limit_s
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def unpublished(pool: asyncpg.Pool) -> int:
    """Rows not yet acknowledged by Kafka (the relay deletes acknowledged rows)."""
    return int(await pool.fetchval("SELECT count(*) FROM outbox"))


def sample(name: str, schema: str) -> float:
    return REGISTRY.get_sample_value(name, {"schema": schema}) or 0.0


async def enqueue_committed(pool: asyncpg.Pool, messages: Sequence[OutboxMessage]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await enqueue(conn, messages)


@pytest.mark.integration
async def test_rows_reach_kafka_intact_and_in_key_order(
    pool: asyncpg.Pool, pg_schema: str, topic: str, kafka_bootstrap: str
) -> None:
    keys = [f"customer-{i}".encode() for i in range(7)]
    sent: list[OutboxMessage] = []
    for tx in range(30):  # 30 transactions of 10 messages, keys interleaved
        batch = [
            OutboxMessage(
                topic,
                keys[(tx + i) % len(keys)],
                f"{tx:03d}-{i}".encode(),
                [("ce_id", f"{tx}-{i}".encode()), ("bin", bytes([tx, 0, 255]))],
            )
            for i in range(10)
        ]
        await enqueue_committed(pool, batch)
        sent.extend(batch)
    sent.append(OutboxMessage(topic, None, b"no-key", []))
    await enqueue_committed(pool, sent[-1:])
    published_before = sample("dealerflow_outbox_published_total", pg_schema)

    async with running(relay_for(pool, kafka_bootstrap, batch_size=64)):
        records = await consume(kafka_bootstrap, topic, len(sent))
        await wait_for(lambda: _zero(unpublished(pool)))

    assert len(records) == len(sent)
    by_value = {r.value: r for r in records}
    for m in sent:
        r = by_value[m.value]
        assert r.key == m.key
        assert list(r.headers) == m.headers
    for key in keys:
        expected = [m.value for m in sent if m.key == key]
        got = [r.value for r in sorted(records, key=lambda r: r.offset) if r.key == key]
        assert got == expected, f"order broken for {key!r}"
        assert len({r.partition for r in records if r.key == key}) == 1
    assert sample("dealerflow_outbox_published_total", pg_schema) - published_before == len(sent)
    assert sample("dealerflow_outbox_backlog_rows", pg_schema) == 0


async def _zero(count: Awaitable[int]) -> bool:
    return await count == 0


@pytest.mark.integration
async def test_rolled_back_transaction_publishes_nothing(
    pool: asyncpg.Pool, topic: str, kafka_bootstrap: str
) -> None:
    async with running(relay_for(pool, kafka_bootstrap)):

        async def enqueue_then_fail() -> None:
            async with pool.acquire() as conn, conn.transaction():
                await enqueue(conn, [OutboxMessage(topic, b"k", b"rolled-back")])
                raise RuntimeError("abort")

        with pytest.raises(RuntimeError, match="abort"):
            await enqueue_then_fail()
        await enqueue_committed(pool, [OutboxMessage(topic, b"k", b"committed")])
        records = await consume(kafka_bootstrap, topic, 2, limit_s=5)
    assert [r.value for r in records] == [b"committed"]


@pytest.mark.integration
async def test_crash_between_ack_and_mark_republishes(
    pool: asyncpg.Pool, topic: str, kafka_bootstrap: str
) -> None:
    messages = [OutboxMessage(topic, b"k%d" % (i % 3), b"m%03d" % i) for i in range(50)]
    await enqueue_committed(pool, messages)
    acked: list[int] = []
    hook_called = asyncio.Event()

    async def crash_before_mark(ids: Sequence[int]) -> None:
        acked.extend(ids)
        hook_called.set()
        await asyncio.Event().wait()  # hang here until the process "dies"

    first = relay_for(pool, kafka_bootstrap, batch_size=20, after_send=crash_before_mark)
    task = asyncio.create_task(first.run())
    await asyncio.wait_for(hook_called.wait(), 20)
    task.cancel()  # the crash: Kafka has the batch, the database does not know
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert len(acked) == 20
    assert await unpublished(pool) == 50

    async with running(relay_for(pool, kafka_bootstrap, batch_size=20)):
        await wait_for(lambda: _zero(unpublished(pool)))
        # every row is in Kafka before it is deleted: read until the topic goes quiet
        records = await consume(kafka_bootstrap, topic, 10**9, idle_s=2.0)
    counts: dict[bytes, int] = defaultdict(int)
    for r in records:
        counts[r.value] += 1
    assert set(counts) == {m.value for m in messages}
    assert all(n in (1, 2) for n in counts.values())
    # the acknowledged batch is published again, and so may be the batch that was already
    # sent behind it (two in flight); nothing else is duplicated
    duplicated = sorted(v for v, n in counts.items() if n == 2)
    assert duplicated in ([m.value for m in messages[:20]], [m.value for m in messages[:40]])
    # per key, the first occurrences are still in order
    for key in (b"k0", b"k1", b"k2"):
        seen: list[bytes] = []
        for r in sorted(records, key=lambda r: r.offset):
            if r.key == key and r.value not in seen:
                seen.append(r.value)
        assert seen == [m.value for m in messages if m.key == key]


@pytest.mark.integration
async def test_kafka_unavailable_then_rows_are_delivered(
    pool: asyncpg.Pool, pg_schema: str, topic: str, kafka_bootstrap: str
) -> None:
    proxy = FaultProxy(kafka_bootstrap)
    messages = [OutboxMessage(topic, b"k", b"v%d" % i) for i in range(10)]
    await enqueue_committed(pool, messages)
    errors_before = sample("dealerflow_outbox_publish_errors_total", pg_schema)
    relay = relay_for(pool, f"127.0.0.1:{proxy.port}", max_backoff_s=0.3)
    try:
        async with running(relay):
            await asyncio.sleep(1.5)
            assert await unpublished(pool) == 10, "nothing can be published while Kafka is down"
            assert sample("dealerflow_outbox_publish_errors_total", pg_schema) > errors_before
            assert sample("dealerflow_outbox_backlog_rows", pg_schema) == 10
            await proxy.open()
            await wait_for(lambda: _zero(unpublished(pool)))
        records = await consume(kafka_bootstrap, topic, 10)
    finally:
        await proxy.close()
    assert [r.value for r in records] == [m.value for m in messages]


async def _published_within(pool: asyncpg.Pool, topic: str, limit_s: float) -> float:
    """Seconds until a row enqueued now is published (fails after ``limit_s``)."""
    started = time.monotonic()
    await enqueue_committed(pool, [OutboxMessage(topic, b"k", b"after")])
    await wait_for(lambda: _zero(unpublished(pool)), limit_s=limit_s)
    return time.monotonic() - started


@pytest.mark.integration
async def test_relay_resumes_within_a_second_or_two_after_a_kafka_outage(
    pool: asyncpg.Pool, topic: str, kafka_bootstrap: str
) -> None:
    proxy = FaultProxy(kafka_bootstrap)
    await enqueue_committed(pool, [OutboxMessage(topic, b"k", b"before")])
    # backoff 0.5, 1, 2, 4, 8 s (cap 30 s): 8 s down, a blind sleep would last to ~15 s
    relay = relay_for(pool, f"127.0.0.1:{proxy.port}", retry_backoff_s=0.5, max_backoff_s=30.0)
    try:
        async with running(relay):
            await asyncio.sleep(8.0)
            assert await unpublished(pool) == 1
            await proxy.open()
            started = time.monotonic()
            await wait_for(lambda: _zero(unpublished(pool)), limit_s=20)
            assert time.monotonic() - started < 4.0  # a blind backoff: >= 4.6 s more
    finally:
        await proxy.close()


@pytest.mark.integration
@pytest.mark.parametrize("fault", ["cut", "blackhole"])
async def test_relay_resumes_within_a_second_or_two_after_a_database_outage(
    pg_dsn: str, pg_schema: str, topic: str, kafka_bootstrap: str, fault: str
) -> None:
    # cut: PostgreSQL refuses; blackhole: it accepts and never answers (a hung server),
    # which only the pool's timeouts (2 s here, 5/5/30 s by default) turn into errors
    await migrate(pg_dsn, pg_schema, runtime_migrations())
    proxy, pool = await proxied_pool(pg_dsn, pg_schema, max_size=4)
    direct = await asyncpg.create_pool(
        pg_dsn, min_size=1, max_size=2, server_settings={"search_path": pg_schema}
    )
    relay = relay_for(pool, kafka_bootstrap, retry_backoff_s=0.5, max_backoff_s=30.0)
    try:
        async with running(relay):
            await wait_for(_async(lambda: relay.is_leader))
            assert await _published_within(direct, topic, 5) < 4.0
            # PostgreSQL is gone for the relay for 8 s (see above)
            await (proxy.cut() if fault == "cut" else proxy.blackhole())
            await asyncio.sleep(8.0)
            assert not relay.is_leader
            await proxy.open()
            assert await _published_within(direct, topic, 20) < 4.0
    finally:
        await proxy.cut()
        await pool.close()
        await direct.close()


@pytest.mark.integration
async def test_a_hung_database_costs_the_relay_one_statement_timeout(
    pg_dsn: str, pg_schema: str, kafka_bootstrap: str, caplog: pytest.LogCaptureFixture
) -> None:
    # the leader's next statement times out (2 s); without closing the connection the
    # UNLISTEN (and the unlock after it) would wait out the timeout again
    await migrate(pg_dsn, pg_schema, runtime_migrations())
    proxy, pool = await proxied_pool(pg_dsn, pg_schema, max_size=2, timeout_s=2.0)
    relay = relay_for(pool, kafka_bootstrap, retry_backoff_s=5.0, max_backoff_s=5.0)
    caplog.set_level(logging.ERROR, logger="dealerflow.runtime.relay")
    try:
        async with running(relay):
            await wait_for(_async(lambda: relay.is_leader))
            await proxy.blackhole()
            hung_at = time.time()

            def failures() -> list[logging.LogRecord]:
                return [r for r in caplog.records if "outbox relay failed" in r.getMessage()]

            await wait_for(_async(lambda: bool(failures())), limit_s=15)
            # the poll (0.2 s) + one timeout (2 s); two timeouts would be past 4 s
            assert failures()[0].created - hung_at < 3.2
    finally:
        await proxy.cut()
        await pool.close()


@pytest.mark.integration
async def test_failing_row_is_retried_never_skipped(
    pool: asyncpg.Pool, topic: str, kafka_bootstrap: str
) -> None:
    too_big = b"x" * 1_200_000  # above the producer's max_request_size: rejected on send
    await enqueue_committed(
        pool,
        [
            OutboxMessage(topic, b"k", b"first"),
            OutboxMessage(topic, b"k", too_big),
            OutboxMessage(topic, b"k", b"third"),
        ],
    )
    async with running(relay_for(pool, kafka_bootstrap, max_backoff_s=0.2)):

        async def retried() -> bool:
            row = await pool.fetchrow("SELECT attempts FROM outbox WHERE length(value) > 1000")
            return row is not None and row["attempts"] >= 3

        await wait_for(retried)
        rows = await pool.fetch("SELECT value, attempts, last_error FROM outbox ORDER BY id")
        # "first" was acknowledged and deleted; the failing row and the one behind it wait
        assert [r["value"] for r in rows] == [too_big, b"third"]
        assert "MessageSizeTooLarge" in rows[0]["last_error"]
        assert rows[1]["attempts"] == 0, "a row behind a failing one is not even tried"
        # an operator fixes the row; the relay continues from it, in order
        await pool.execute("UPDATE outbox SET value = 'second' WHERE length(value) > 1000")
        await wait_for(lambda: _zero(unpublished(pool)))
        records = await consume(kafka_bootstrap, topic, 3)
    assert [r.value for r in records] == [b"first", b"second", b"third"]


@pytest.mark.integration
async def test_one_leader_per_schema_and_takeover(
    pool: asyncpg.Pool, pg_dsn: str, pg_schema: str, topic: str, kafka_bootstrap: str
) -> None:
    other_pool = await create_pool(pg_dsn, pg_schema, min_size=1, max_size=2)
    first = relay_for(pool, kafka_bootstrap)
    second = relay_for(other_pool, kafka_bootstrap)
    try:
        async with running(first):
            await wait_for(_async(lambda: first.is_leader))
            async with running(second):
                await asyncio.sleep(0.5)
                assert first.is_leader
                assert not second.is_leader
                for i in range(5):
                    await enqueue_committed(pool, [OutboxMessage(topic, b"k", b"a%d" % i)])
                await wait_for(lambda: _zero(unpublished(pool)))
                assert first.published == 5
                assert second.published == 0
                await first.stop()
                await wait_for(_async(lambda: second.is_leader), limit_s=5)
                for i in range(5):
                    await enqueue_committed(pool, [OutboxMessage(topic, b"k", b"b%d" % i)])
                await wait_for(lambda: _zero(unpublished(pool)))
                assert second.published == 5
                assert first.published == 5
        records = await consume(kafka_bootstrap, topic, 10)
    finally:
        await other_pool.close()
    assert [r.value for r in records] == [b"a%d" % i for i in range(5)] + [
        b"b%d" % i for i in range(5)
    ]


def _async(check: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def predicate() -> bool:
        return check()

    return predicate
