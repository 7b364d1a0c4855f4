"""A service's batch timer handlers (``ServiceDefinition.timer_batch_handlers``): one
use-case context per claimed batch, what it publishes written to the outbox after it
returns (one insert), and nothing of an attempt that failed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from dealerflow.contracts.envelope import decode
from dealerflow.contracts.events.leads import LeadGraded
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.context import EnvironmentDealerConfiguration, UseCaseContext
from dealerflow.runtime.migrations import migrate, runtime_migrations
from dealerflow.runtime.outbox import decode_headers
from dealerflow.runtime.service import ServiceContext, ServiceDefinition, poller_handlers
from dealerflow.runtime.settings import ServiceSettings
from dealerflow.runtime.timers import NewTimer, Timer, TimerPoller, schedule_many

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
KIND = "test.grade"


class Settings(ServiceSettings):
    service_name: str = "timertest"


def _definition(**handlers: object) -> ServiceDefinition[Settings]:
    return ServiceDefinition(
        name="timertest",
        title="timer test",
        settings_factory=Settings,
        migrations_package="dealerflow.runtime.sql",
        **handlers,  # type: ignore[arg-type]
    )


def _context(pool: asyncpg.Pool | None = None) -> ServiceContext[Settings]:
    return ServiceContext(
        settings=Settings(),
        clock=ManualClock(START),
        topics=TopicRegistry("t."),
        source="/dealerflow/timertest",
        dealers=EnvironmentDealerConfiguration(),
        pool=pool,
    )


async def _grade(uc: UseCaseContext[Settings], timers: Sequence[Timer]) -> None:
    for timer in timers:
        if timer.payload["lead_id"] == "L-bad":
            raise ValueError("this lead cannot be graded")
        await uc.publish(
            LeadGraded(
                dealer_id=timer.dealer_id,
                customer_id=uuid.UUID(int=1),
                occurred_at=uc.now,
                lead_id=timer.payload["lead_id"],
                grade="B",
                graded_at=uc.now,
            )
        )


def test_a_timer_kind_with_a_handler_and_a_batch_handler_is_refused() -> None:
    async def one(uc: UseCaseContext[Settings], timer: Timer) -> None:
        return None

    definition = _definition(
        timer_handlers=lambda ctx: {KIND: one}, timer_batch_handlers=lambda ctx: {KIND: _grade}
    )
    with pytest.raises(ValueError, match=KIND):
        poller_handlers(_context(), definition)


@pytest.mark.integration
async def test_a_batch_handler_publishes_what_its_batch_did_and_nothing_of_a_failed_attempt(
    pg_dsn: str, pg_schema: str, pg_pool: asyncpg.Pool
) -> None:
    await migrate(pg_dsn, pg_schema, runtime_migrations())
    ctx = _context(pg_pool)
    single, batch = poller_handlers(ctx, _definition(timer_batch_handlers=lambda c: {KIND: _grade}))
    assert (single, list(batch)) == ({}, [KIND])
    poller = TimerPoller(pg_pool, single, batch_handlers=batch, clock=ctx.clock)

    def timers(*leads: str) -> list[NewTimer]:
        due = START - timedelta(minutes=1)
        return [NewTimer(f"grade:{lead}", KIND, "D001", due, {"lead_id": lead}) for lead in leads]

    async with pg_pool.acquire() as conn, conn.transaction():
        await schedule_many(conn, timers("L-1", "L-2", "L-3"))
    assert await poller.fire_due() == 3
    async with pg_pool.acquire() as conn, conn.transaction():
        await schedule_many(conn, timers("L-4", "L-bad", "L-5"))
    assert await poller.fire_due() == 3  # the batch fails: one timer at a time, L-bad fails

    rows = await pg_pool.fetch("SELECT topic, value, headers::text AS h FROM outbox ORDER BY id")
    leads = [decode(r["value"], decode_headers(r["h"])).event.lead_id for r in rows]  # type: ignore[attr-defined]
    assert leads == ["L-1", "L-2", "L-3", "L-4", "L-5"]  # in due order, each once
    assert {r["topic"] for r in rows} == {"t.leads"}
    failed = await pg_pool.fetch("SELECT key, status FROM timers WHERE status <> 'fired'")
    assert [(r["key"], r["status"]) for r in failed] == [("grade:L-bad", "pending")]  # retried
