"""Guarantee: durable timers fire exactly once and never early, with several replicas.

Two TimerPollers, each with its own connection pool (two replicas of a service), fire
thousands of timers falling due within about a second. Each firing records the poller's
clock reading in an effect row and writes an outbox record in the claiming transaction.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from dealerflow.devinfra.client import eventually
from dealerflow.runtime.clock import SystemClock
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.outbox import OutboxMessage, enqueue
from dealerflow.runtime.timers import NewTimer, Timer, TimerPoller, schedule_many
from tests.integration.guarantee_service import DEALER, Infra

pytestmark = pytest.mark.integration

TIMERS = 2400
SPREAD = timedelta(seconds=1.2)  # all of them fall due within this window


async def test_two_pollers_fire_every_timer_exactly_once_and_none_early(infra: Infra) -> None:
    await infra.pool.execute(
        "CREATE TABLE timer_effects (timer_id bigint, key text, due_at timestamptz,"
        " fired_seen_at timestamptz)"
    )
    clock = SystemClock()
    reminders = infra.topics.name("notifier")

    async def send_reminder(conn: DbConnection, timer: Timer) -> None:
        await conn.execute(
            "INSERT INTO timer_effects VALUES ($1, $2, $3, $4)",
            timer.id,
            timer.key,
            timer.due_at,
            clock.now(),  # what the poller believed "now" was when it fired this one
        )
        await enqueue(conn, [OutboxMessage(reminders, DEALER.encode(), timer.key.encode())])

    start = clock.now() + timedelta(seconds=1)
    step = SPREAD / TIMERS
    async with infra.pool.acquire() as conn, conn.transaction():
        created = await schedule_many(
            conn,
            [
                NewTimer(f"lead:{i}:callback", "callback", DEALER, start + i * step, {"n": i})
                for i in range(TIMERS)
            ],
        )
    assert created == TIMERS

    replicas = [
        TimerPoller(
            await infra.other_pool(max_size=6),
            {"callback": send_reminder},
            clock=clock,
            batch_size=200,
            poll_interval_s=0.2,
        )
        for _ in range(2)
    ]
    await infra.start_pollers(*replicas)

    async def all_fired() -> bool:
        return await infra.count("SELECT count(*) FROM timer_effects") >= TIMERS

    await eventually(all_fired, timeout_s=15, interval_s=0.1, what=f"{TIMERS} timers fired")
    await infra.close()  # stop both replicas; a double firing would have shown by now

    stats = await infra.pool.fetchrow(
        """
        SELECT count(*) AS firings,
               count(DISTINCT timer_id) AS timers,
               count(*) FILTER (WHERE fired_seen_at < due_at) AS early,
               max(fired_seen_at - due_at) AS max_late
        FROM timer_effects
        """
    )
    assert stats is not None
    assert (stats["firings"], stats["timers"], stats["early"]) == (TIMERS, TIMERS, 0)
    assert stats["max_late"] < timedelta(seconds=5)
    assert sum(p.fired for p in replicas) == TIMERS
    not_fired = "SELECT count(*) FROM timers WHERE status <> 'fired' OR fired_at < due_at"
    assert await infra.count(not_fired) == 0
    # the outbox record of each firing committed with it, once
    assert await infra.count("SELECT count(DISTINCT value) FROM outbox") == TIMERS
    assert await infra.count("SELECT count(*) FROM outbox") == TIMERS
