"""Durable timers and the TimerPoller against real PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from prometheus_client import REGISTRY

from dealerflow.devinfra.fault_proxy import proxied_pool
from dealerflow.runtime.clock import AcceleratedClock, Clock, ManualClock, SystemClock
from dealerflow.runtime.db import DbConnection, create_pool
from dealerflow.runtime.migrations import migrate, runtime_migrations
from dealerflow.runtime.outbox import OutboxMessage, enqueue
from dealerflow.runtime.timers import (
    BatchTimerHandler,
    NewTimer,
    Timer,
    TimerHandler,
    TimerPoller,
    cancel,
    cancel_prefix,
    schedule,
    schedule_many,
)

pytestmark = pytest.mark.integration

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
async def pool(pg_dsn: str, pg_schema: str, pg_pool: asyncpg.Pool) -> asyncpg.Pool:
    await migrate(pg_dsn, pg_schema, runtime_migrations())
    await pg_pool.execute(
        "CREATE TABLE effects (timer_id bigint, key text, due_at timestamptz, seen_at timestamptz)"
    )
    return pg_pool


def record_effect(clock: Clock) -> TimerHandler:
    async def handler(conn: DbConnection, timer: Timer) -> None:
        await conn.execute(
            "INSERT INTO effects VALUES ($1, $2, $3, $4)",
            timer.id,
            timer.key,
            timer.due_at,
            clock.now(),
        )

    return handler


async def add(pool: asyncpg.Pool, key: str, due_at: datetime, kind: str = "remind") -> bool:
    async with pool.acquire() as conn, conn.transaction():
        return await schedule(
            conn, key=key, kind=kind, dealer_id="d1", due_at=due_at, payload={"key": key}
        )


async def status_of(pool: asyncpg.Pool, key: str) -> list[str]:
    rows = await pool.fetch("SELECT status FROM timers WHERE key = $1 ORDER BY id", key)
    return [r["status"] for r in rows]


async def test_same_key_while_pending_is_one_timer(pool: asyncpg.Pool) -> None:
    clock = ManualClock(T0)
    assert await add(pool, "lead:1:callback", T0 + timedelta(hours=1))
    assert not await add(pool, "lead:1:callback", T0 + timedelta(hours=2))
    row = await pool.fetchrow("SELECT due_at, payload::text AS p FROM timers")
    assert row is not None
    assert row["due_at"] == T0 + timedelta(hours=1)
    assert row["p"] == '{"key": "lead:1:callback"}'
    poller = TimerPoller(pool, {"remind": record_effect(clock)}, clock=clock)
    clock.advance(timedelta(hours=1))
    assert await poller.fire_due() == 1
    # once fired, the key is free again
    assert await add(pool, "lead:1:callback", T0 + timedelta(hours=3))
    assert await status_of(pool, "lead:1:callback") == ["fired", "pending"]
    async with pool.acquire() as conn:
        created = await schedule_many(
            conn,
            [
                NewTimer("a", "remind", "d1", T0),
                NewTimer("a", "remind", "d1", T0 + timedelta(1)),
                NewTimer("b", "remind", "d1", T0),
            ],
        )
    assert created == 2
    with pytest.raises(ValueError, match="timezone-aware"):
        await add(pool, "naive", datetime(2025, 1, 1))


async def test_rolled_back_transaction_leaves_no_timer(pool: asyncpg.Pool) -> None:
    async def schedule_then_fail() -> None:
        async with pool.acquire() as conn, conn.transaction():
            await schedule(conn, key="k", kind="remind", dealer_id="d1", due_at=T0, payload={})
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError, match="abort"):
        await schedule_then_fail()
    assert await pool.fetchval("SELECT count(*) FROM timers") == 0


async def test_nothing_fires_early_and_cancelled_never_fires(pool: asyncpg.Pool) -> None:
    clock = ManualClock(T0)
    poller = TimerPoller(pool, {"remind": record_effect(clock)}, clock=clock)
    await add(pool, "t10", T0 + timedelta(seconds=10))
    await add(pool, "t20", T0 + timedelta(seconds=20))
    await add(pool, "cancelled", T0 + timedelta(seconds=5))
    async with pool.acquire() as conn:
        assert await cancel(conn, "cancelled")
        assert not await cancel(conn, "cancelled")
        assert not await cancel(conn, "no-such-key")
    assert await poller.fire_due() == 0
    clock.advance(timedelta(seconds=9, microseconds=999_999))
    assert await poller.fire_due() == 0
    clock.advance(timedelta(microseconds=1))
    assert await poller.fire_due() == 1
    assert [r["key"] for r in await pool.fetch("SELECT key FROM effects")] == ["t10"]
    clock.advance(timedelta(hours=1))
    assert await poller.fire_due() == 1
    assert await poller.fire_due() == 0
    assert await status_of(pool, "cancelled") == ["cancelled"]
    rows = await pool.fetch("SELECT key, due_at, seen_at FROM effects ORDER BY key")
    assert [r["key"] for r in rows] == ["t10", "t20"]
    assert all(r["seen_at"] >= r["due_at"] for r in rows)
    fired = await pool.fetchrow("SELECT fired_at, attempts FROM timers WHERE key = 't20'")
    assert fired is not None
    assert fired["fired_at"] == clock.now()
    assert fired["attempts"] == 1


async def test_cancel_while_firing_waits_and_finds_it_fired(pool: asyncpg.Pool) -> None:
    clock = ManualClock(T0)
    in_handler = asyncio.Event()
    release = asyncio.Event()

    async def slow(conn: DbConnection, timer: Timer) -> None:
        in_handler.set()
        await release.wait()

    await add(pool, "escalate", T0, kind="slow")
    poller = TimerPoller(pool, {"slow": slow}, clock=clock)
    firing = asyncio.create_task(poller.fire_due())
    await asyncio.wait_for(in_handler.wait(), 5)

    async def cancel_it() -> bool:
        async with pool.acquire() as conn:
            return await cancel(conn, "escalate")

    cancelling = asyncio.create_task(cancel_it())
    await asyncio.sleep(0.3)
    assert not cancelling.done(), "cancel must wait for the firing transaction"
    release.set()
    assert await firing == 1
    assert await cancelling is False
    assert await status_of(pool, "escalate") == ["fired"]


async def test_cancel_prefix_is_literal_and_scoped(pool: asyncpg.Pool) -> None:
    due = T0 + timedelta(days=1)
    for key in ["complaint:1:ack", "complaint:1:resolve", "complaint:10:ack", "complaint:2:ack",
                "a%b:1", "axb:1", "x_y", "xzy"]:  # fmt: skip
        await add(pool, key, due)
    async with pool.acquire() as conn:
        assert await cancel_prefix(conn, "complaint:1:") == 2
        assert await cancel_prefix(conn, "complaint:1:") == 0
        assert await cancel_prefix(conn, "a%") == 1
        assert await cancel_prefix(conn, "x_") == 1
        with pytest.raises(ValueError, match="non-empty"):
            await cancel_prefix(conn, "")
    pending = await pool.fetch("SELECT key FROM timers WHERE status = 'pending' ORDER BY key")
    assert [r["key"] for r in pending] == ["axb:1", "complaint:10:ack", "complaint:2:ack", "xzy"]


async def test_handler_writes_outbox_and_next_timer_in_same_transaction(
    pool: asyncpg.Pool,
) -> None:
    clock = ManualClock(T0)

    async def recurring(conn: DbConnection, timer: Timer) -> None:
        await enqueue(conn, [OutboxMessage("t.notifier", b"c1", timer.key.encode())])
        n = int(timer.payload["n"])
        if n < 3:
            await schedule(
                conn,
                key=timer.key,  # same key: the fired one no longer counts as pending
                kind=timer.kind,
                dealer_id=timer.dealer_id,
                due_at=timer.due_at + timedelta(days=1),
                payload={"n": n + 1},
            )

    async with pool.acquire() as conn:
        await schedule(
            conn, key="care:c1", kind="care", dealer_id="d1", due_at=T0, payload={"n": 1}
        )
    poller = TimerPoller(pool, {"care": recurring}, clock=clock)
    for _ in range(5):
        await poller.fire_due()
        clock.advance(timedelta(days=1))
    assert await status_of(pool, "care:c1") == ["fired", "fired", "fired"]
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 3


async def test_failing_handler_retries_then_fails_visibly(
    pool: asyncpg.Pool, pg_schema: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(T0)
    calls: list[str] = []
    good = record_effect(clock)

    async def flaky(conn: DbConnection, timer: Timer) -> None:
        calls.append(timer.key)
        await conn.execute("INSERT INTO effects (key) VALUES ('must be rolled back')")
        raise ValueError(f"SMS gateway rejected {timer.key}")

    poller = TimerPoller(
        pool,
        {"good": good, "bad": flaky},
        clock=clock,
        max_attempts=3,
        retry_backoff=timedelta(seconds=10),
    )
    await add(pool, "ok-1", T0, kind="good")
    await add(pool, "broken", T0, kind="bad")
    await add(pool, "ok-2", T0, kind="good")
    await add(pool, "mystery", T0, kind="unknown-kind")
    failures_before = REGISTRY.get_sample_value(
        "dealerflow_timers_failures_total", {"schema": pg_schema, "kind": "bad"}
    )
    with caplog.at_level(logging.WARNING, logger="dealerflow.runtime.timers"):
        assert await poller.fire_due() == 4
        # the good timers of the batch fired once, the failing one left no effect
        assert sorted(r["key"] for r in await pool.fetch("SELECT key FROM effects")) == [
            "ok-1",
            "ok-2",
        ]
        row = await pool.fetchrow("SELECT * FROM timers WHERE key = 'broken'")
        assert row is not None
        assert (row["status"], row["attempts"]) == ("pending", 1)
        assert row["due_at"] == T0 + timedelta(seconds=10)
        assert "SMS gateway rejected broken" in row["last_error"]
        unknown = await pool.fetchrow("SELECT * FROM timers WHERE key = 'mystery'")
        assert unknown is not None
        assert unknown["status"] == "pending"
        assert "no handler for timer kind 'unknown-kind'" in unknown["last_error"]

        assert await poller.fire_due() == 0  # backoff: not due again yet
        clock.advance(timedelta(seconds=10))
        assert await poller.fire_due() == 2
        clock.advance(timedelta(seconds=20))
        assert await poller.fire_due() == 2
        clock.advance(timedelta(days=1))
        assert await poller.fire_due() == 0
    for key in ("broken", "mystery"):
        final = await pool.fetchrow(
            "SELECT status, attempts, fired_at FROM timers WHERE key = $1", key
        )
        assert final is not None
        assert (final["status"], final["attempts"], final["fired_at"]) == ("failed", 3, None)
    assert calls.count("broken") >= 3
    assert any(
        r.levelno == logging.ERROR and "broken" in r.getMessage() and "for good" in r.getMessage()
        for r in caplog.records
    )
    failures_after = REGISTRY.get_sample_value(
        "dealerflow_timers_failures_total", {"schema": pg_schema, "kind": "bad"}
    )
    assert (failures_after or 0) - (failures_before or 0) == 3
    assert await pool.fetchval("SELECT count(*) FROM effects") == 2


async def test_batch_handler_gets_the_batch_and_isolates_a_failure(pool: asyncpg.Pool) -> None:
    clock = ManualClock(T0)
    calls: list[list[str]] = []

    async def bulk(conn: DbConnection, timers: Sequence[Timer]) -> None:
        calls.append([t.key for t in timers])
        await conn.executemany(
            "INSERT INTO effects VALUES ($1, $2, $3, $4)",
            [(t.id, t.key, t.due_at, clock.now()) for t in timers],
        )
        if any(t.payload.get("poison") for t in timers):
            raise RuntimeError("template missing")

    handlers: dict[str, BatchTimerHandler] = {"bulk": bulk}
    poller = TimerPoller(pool, {}, batch_handlers=handlers, clock=clock, max_attempts=1)
    async with pool.acquire() as conn:
        await schedule_many(
            conn,
            [
                NewTimer(f"b{i}", "bulk", "d1", T0 + timedelta(seconds=i), {"poison": i == 2})
                for i in range(5)
            ],
        )
    clock.advance(timedelta(minutes=1))
    assert await poller.fire_due() == 5
    # one call with the whole batch, then one call per timer to find the culprit
    assert calls == [["b0", "b1", "b2", "b3", "b4"], ["b0"], ["b1"], ["b2"], ["b3"], ["b4"]]
    keys = [r["key"] for r in await pool.fetch("SELECT key FROM effects ORDER BY key")]
    assert keys == ["b0", "b1", "b3", "b4"]
    failed = await pool.fetchrow("SELECT status, last_error FROM timers WHERE key = 'b2'")
    assert failed is not None
    assert failed["status"] == "failed"
    assert failed["last_error"] == "RuntimeError: template missing"
    assert poller.fired == 4


async def test_a_failure_is_recorded_masked_and_storable(pool: asyncpg.Pool) -> None:
    # the error quotes a refused phone number and a NUL: stored as is, the NUL would fail
    # the poller's own UPDATE (and so every batch), the number would reach operators
    clock = ManualClock(T0)

    async def refuses(conn: DbConnection, timer: Timer) -> None:
        raise ValueError("'1381234567\x00' is not a valid phone number")

    poller = TimerPoller(pool, {"remind": refuses}, clock=clock, max_attempts=1)
    await add(pool, "nul", T0)
    clock.advance(timedelta(minutes=1))
    assert await poller.fire_due() == 1
    failed = await pool.fetchrow("SELECT status, last_error FROM timers WHERE key = 'nul'")
    assert failed is not None
    assert failed["status"] == "failed"
    assert failed["last_error"] == "ValueError: '******4567\\u0000' is not a valid phone number"


async def test_restart_fires_what_the_old_poller_left(
    pool: asyncpg.Pool, pg_dsn: str, pg_schema: str
) -> None:
    clock = ManualClock(T0)
    async with pool.acquire() as conn:
        await schedule_many(
            conn, [NewTimer(f"r{i}", "remind", "d1", T0 + timedelta(seconds=i)) for i in range(25)]
        )
    clock.advance(timedelta(minutes=1))
    old = TimerPoller(pool, {"remind": record_effect(clock)}, clock=clock, batch_size=10)
    assert await old.fire_due() == 10
    # the old poller is gone; a new one with its own pool picks up the rest
    other_pool = await create_pool(pg_dsn, pg_schema, min_size=1, max_size=2)
    try:
        new = TimerPoller(other_pool, {"remind": record_effect(clock)}, clock=clock, batch_size=10)
        assert await new.fire_due() == 10
        assert await new.fire_due() == 5
        assert await new.fire_due() == 0
    finally:
        await other_pool.close()
    keys = [r["key"] for r in await pool.fetch("SELECT key FROM effects ORDER BY due_at")]
    assert keys == [f"r{i}" for i in range(25)]  # each once, earliest due first


@contextlib.asynccontextmanager
async def running(*pollers: TimerPoller) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(p.run()) for p in pollers]
    try:
        yield
    finally:
        for p in pollers:
            await p.stop(grace_s=10)
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t


async def wait_for(predicate: Callable[[], Awaitable[bool]], limit_s: float = 30.0) -> None:
    deadline = time.monotonic() + limit_s
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def test_two_pollers_fire_each_timer_exactly_once_and_never_early(
    pool: asyncpg.Pool, pg_dsn: str, pg_schema: str
) -> None:
    clock = SystemClock()
    n = 2000
    start = clock.now() + timedelta(seconds=1)
    async with pool.acquire() as conn:
        await schedule_many(
            conn,
            [
                NewTimer(f"k{i}", "remind", f"d{i % 7}", start + timedelta(milliseconds=i))
                for i in range(n)
            ],
        )
    pool_b = await create_pool(pg_dsn, pg_schema, min_size=1, max_size=3)
    handlers = {"remind": record_effect(clock)}
    a = TimerPoller(pool, handlers, clock=clock, batch_size=200, poll_interval_s=0.5)
    b = TimerPoller(pool_b, handlers, clock=clock, batch_size=200, poll_interval_s=0.5)
    fired_before = REGISTRY.get_sample_value(
        "dealerflow_timers_fired_total", {"schema": pg_schema, "kind": "remind"}
    )
    try:
        async with running(a, b):

            async def all_fired() -> bool:
                return bool(await pool.fetchval("SELECT count(*) FROM effects") >= n)

            await wait_for(all_fired)
            await asyncio.sleep(0.5)  # give a double firing the chance to show
    finally:
        await pool_b.close()
    stats = await pool.fetchrow(
        "SELECT count(*) AS total, count(DISTINCT timer_id) AS distinct_timers,"
        " count(*) FILTER (WHERE seen_at < due_at) AS early,"
        " max(extract(epoch FROM seen_at - due_at)) AS max_late FROM effects"
    )
    assert stats is not None
    assert (stats["total"], stats["distinct_timers"], stats["early"]) == (n, n, 0)
    assert stats["max_late"] < 5
    assert a.fired + b.fired == n
    assert await pool.fetchval("SELECT count(*) FROM timers WHERE status <> 'fired'") == 0
    fired_after = REGISTRY.get_sample_value(
        "dealerflow_timers_fired_total", {"schema": pg_schema, "kind": "remind"}
    )
    assert (fired_after or 0) - (fired_before or 0) == n
    lateness = REGISTRY.get_sample_value(
        "dealerflow_timer_lateness_seconds_count", {"schema": pg_schema}
    )
    assert lateness is not None
    assert lateness >= n


async def test_notify_wakes_a_sleeping_poller(pool: asyncpg.Pool) -> None:
    clock = SystemClock()
    poller = TimerPoller(pool, {"remind": record_effect(clock)}, clock=clock, poll_interval_s=60)
    async with running(poller):
        await asyncio.sleep(0.5)  # the poller is now asleep for up to 60 s
        due = clock.now() + timedelta(milliseconds=300)
        started = time.monotonic()
        await add(pool, "soon", due)

        async def fired() -> bool:
            return bool(await pool.fetchval("SELECT count(*) FROM effects") == 1)

        await wait_for(fired, limit_s=5)
        assert time.monotonic() - started < 2.0
    seen = await pool.fetchrow("SELECT due_at, seen_at FROM effects")
    assert seen is not None
    assert seen["seen_at"] >= seen["due_at"]


@pytest.mark.parametrize("fault", ["cut", "blackhole"])
async def test_poller_resumes_within_a_second_or_two_after_a_database_outage(
    pool: asyncpg.Pool, pg_dsn: str, pg_schema: str, fault: str
) -> None:
    # cut: PostgreSQL refuses; blackhole: it hangs (accepts, never answers), which the
    # pool's timeouts turn into errors the poller backs off from and probes
    proxy, through_proxy = await proxied_pool(pg_dsn, pg_schema, max_size=6)
    clock = SystemClock()
    poller = TimerPoller(
        through_proxy, {"remind": record_effect(clock)}, clock=clock, poll_interval_s=0.2
    )

    async def fired(count: int) -> bool:
        return bool(await pool.fetchval("SELECT count(*) FROM effects") == count)

    try:
        async with running(poller):
            await add(pool, "before", clock.now())
            await wait_for(lambda: fired(1), limit_s=5)
            # backoff 0.5, 1, 2, 4, 8 s (cap 30 s): 8 s down, a blind sleep lasts to ~15 s
            await (proxy.cut() if fault == "cut" else proxy.blackhole())
            await asyncio.sleep(8.0)
            await proxy.open()
            started = time.monotonic()
            await add(pool, "after", clock.now())
            await wait_for(lambda: fired(2), limit_s=20)
            assert time.monotonic() - started < 4.0  # a blind backoff: >= 4.6 s more
    finally:
        await proxy.cut()
        await through_proxy.close()


async def test_a_database_hanging_mid_batch_is_not_retried_timer_by_timer(
    pool: asyncpg.Pool, pg_dsn: str, pg_schema: str
) -> None:
    # the handler of the first timer finds the database hung: the batch fails on a
    # statement timeout, and redoing it one savepoint per timer on that connection would
    # wait out the timeout once per timer; it is rolled back at once, nothing is lost
    proxy, through_proxy = await proxied_pool(pg_dsn, pg_schema, max_size=2, timeout_s=1.0)
    clock = SystemClock()
    calls: list[str] = []
    effect = record_effect(clock)

    async def hangs_once(conn: DbConnection, timer: Timer) -> None:
        calls.append(timer.key)
        if len(calls) == 1:
            await proxy.blackhole()
        await effect(conn, timer)

    poller = TimerPoller(through_proxy, {"remind": hangs_once}, clock=clock, batch_size=10)
    try:
        for key in ("a", "b", "c"):
            await add(pool, key, clock.now() - timedelta(seconds=1))
        with pytest.raises(TimeoutError):
            await poller.fire_due()
        assert calls == ["a"], "the batch was redone timer by timer on a hung connection"
        await proxy.open()
        assert await poller.fire_due() == 3
        assert sorted(r["key"] for r in await pool.fetch("SELECT key FROM effects")) == [
            "a",
            "b",
            "c",
        ]
        assert [await status_of(pool, k) for k in ("a", "b", "c")] == [["fired"]] * 3
    finally:
        await proxy.cut()
        await through_proxy.close()


async def test_accelerated_clock_fires_on_clock_time_not_db_time(
    pool: asyncpg.Pool, pg_schema: str
) -> None:
    clock = AcceleratedClock(T0, speed=120)  # two clock minutes per real second
    poller = TimerPoller(pool, {"remind": record_effect(clock)}, clock=clock, poll_interval_s=30)
    await add(pool, "in-one-minute", T0 + timedelta(minutes=1))
    await add(pool, "in-one-day", T0 + timedelta(days=1))
    started = time.monotonic()
    async with running(poller):

        async def fired() -> bool:
            return bool(await pool.fetchval("SELECT count(*) FROM effects") == 1)

        await wait_for(fired, limit_s=5)
        elapsed = time.monotonic() - started
        await asyncio.sleep(0.3)
    assert 0.45 <= elapsed < 2.0
    row = await pool.fetchrow("SELECT key, due_at, seen_at FROM effects")
    assert row is not None
    assert row["key"] == "in-one-minute"
    assert row["seen_at"] >= row["due_at"]
    assert await status_of(pool, "in-one-day") == ["pending"]
    pending = REGISTRY.get_sample_value("dealerflow_timers_pending", {"schema": pg_schema})
    assert pending in (1.0, 2.0)
