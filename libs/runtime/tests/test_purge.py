"""The purge against real PostgreSQL: what each table keeps, on the services' clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from dealerflow.runtime.clock import (
    AcceleratedClock,
    Clock,
    ManualClock,
    SystemClock,
    wall_duration,
)
from dealerflow.runtime.migrations import migrate, runtime_migrations
from dealerflow.runtime.purge import Purger, RetentionPolicy, purge_once

pytestmark = pytest.mark.integration

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)

# as the services' migrations create it (dealerflow.runtime.idempotency's docstring)
IDEMPOTENCY = """
CREATE TABLE idempotency_keys (
    dealer_id text NOT NULL, scope text NOT NULL, key text NOT NULL, request_hash text,
    resource_id text, status_code integer, response jsonb,
    created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (dealer_id, scope, key)
)
"""


@pytest.fixture
async def pool(pg_dsn: str, pg_schema: str, pg_pool: asyncpg.Pool) -> asyncpg.Pool:
    await migrate(pg_dsn, pg_schema, runtime_migrations())
    return pg_pool


async def _inbox(pool: asyncpg.Pool, event_id: str, real_age: timedelta) -> None:
    await pool.execute(
        "INSERT INTO inbox (consumer, event_id, received_at) "
        "VALUES ('c', $1, now() - $2::interval)",
        event_id,
        real_age,
    )


async def _timer(pool: asyncpg.Pool, key: str, status: str, at: datetime) -> None:
    fired_at = at if status == "fired" else None
    await pool.execute(
        "INSERT INTO timers (key, kind, dealer_id, due_at, status, fired_at) "
        "VALUES ($1, 'k', 'd1', $2, $3, $4)",
        key,
        at,
        status,
        fired_at,
    )


async def _column(pool: asyncpg.Pool, sql: str) -> list[str]:
    return sorted(r[0] for r in await pool.fetch(sql))


def test_a_span_of_an_accelerated_clock_passes_in_less_real_time() -> None:
    assert wall_duration(AcceleratedClock(T0, 7200), timedelta(days=14)) == timedelta(seconds=168)
    assert wall_duration(SystemClock(), timedelta(days=1)) == timedelta(days=1)
    assert wall_duration(ManualClock(T0), timedelta(hours=2)) == timedelta(hours=2)


async def test_the_inbox_keeps_what_its_retention_on_an_accelerated_clock_allows(
    pool: asyncpg.Pool,
) -> None:
    # 14 days at x7200 are 168 real seconds: a row received 10 real minutes ago is 50 days
    # old on the services' clock (the regression: compared in real days, kept for ever)
    await _inbox(pool, "old", timedelta(minutes=10))
    await _inbox(pool, "recent", timedelta(seconds=30))
    counts = await purge_once(pool, AcceleratedClock(T0, 7200), RetentionPolicy())
    assert counts.inbox == 1
    assert await _column(pool, "SELECT event_id FROM inbox") == ["recent"]


async def test_the_real_clock_keeps_the_same_rows(pool: asyncpg.Pool) -> None:
    await _inbox(pool, "old", timedelta(minutes=10))
    await _inbox(pool, "weeks", timedelta(days=15))
    counts = await purge_once(pool, SystemClock(), RetentionPolicy())
    assert counts.inbox == 1
    assert await _column(pool, "SELECT event_id FROM inbox") == ["old"]


async def test_fired_and_cancelled_timers_go_after_their_retention_pending_and_failed_stay(
    pool: asyncpg.Pool,
) -> None:
    clock = ManualClock(T0 + timedelta(days=100))
    old, recent = T0, T0 + timedelta(days=90)
    for status in ("fired", "cancelled", "pending", "failed"):
        await _timer(pool, f"{status}-old", status, old)
        await _timer(pool, f"{status}-recent", status, recent)
    counts = await purge_once(pool, clock, RetentionPolicy(timers=timedelta(days=30)))
    assert counts.timers == 2
    assert await _column(pool, "SELECT key FROM timers") == [
        "cancelled-recent",
        "failed-old",
        "failed-recent",
        "fired-recent",
        "pending-old",
        "pending-recent",
    ]


async def test_idempotency_keys_are_purged_where_the_schema_has_them(pool: asyncpg.Pool) -> None:
    assert (await purge_once(pool, SystemClock(), RetentionPolicy())).idempotency_keys == 0
    await pool.execute(IDEMPOTENCY)
    await pool.execute(
        "INSERT INTO idempotency_keys (dealer_id, scope, key, created_at) VALUES "
        "('d1', 's', 'old', now() - interval '8 days'), ('d2', 's', 'new', now())"
    )
    counts = await purge_once(pool, SystemClock(), RetentionPolicy())
    assert counts.idempotency_keys == 1
    assert await _column(pool, "SELECT key FROM idempotency_keys") == ["new"]


async def test_a_backlog_goes_in_batches(pool: asyncpg.Pool) -> None:
    await pool.execute(
        "INSERT INTO inbox (consumer, event_id, received_at) "
        "SELECT 'c', 'e' || n, now() - interval '20 days' FROM generate_series(1, 25) AS n"
    )
    counts = await purge_once(pool, SystemClock(), RetentionPolicy(), batch_size=10)
    assert counts.inbox == 25
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 0


async def test_the_purger_runs_until_stopped(pool: asyncpg.Pool) -> None:
    clock: Clock = AcceleratedClock(T0, 7200)
    await _inbox(pool, "old", timedelta(minutes=10))
    purger = Purger(pool, clock, interval_s=0.05)
    task = asyncio.create_task(purger.run())
    try:
        await asyncio.wait_for(purger.first_pass.wait(), 30)
    finally:
        await purger.stop()
        await asyncio.wait_for(task, 10)
    assert purger.purged.inbox == 1
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 0
