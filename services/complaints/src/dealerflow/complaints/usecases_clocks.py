"""Keeping a complaint's SLA clocks: stored rows (complaint_clocks) plus one durable timer
per running clock, changed together in the caller's transaction.

A timer's key is the domain's `Clock.key` ("complaint:<id>:clock:<kind>:<reopen>.<attempt>"),
so "complaint:<id>:" cancels everything of a complaint and
"complaint:<id>:clock:<kind>:<reopen>." one clock with all its re-arms.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime

from dealerflow.complaints import repository
from dealerflow.complaints.domain import pause, resume
from dealerflow.complaints.records import ClockRecord, ClockStatus
from dealerflow.contracts.care_enums import SlaClock
from dealerflow.policy import DealerPolicy
from dealerflow.runtime import timers
from dealerflow.runtime.db import DbConnection

#: Timer kind of an SLA clock deadline (handled by dealerflow.complaints.timers).
CLOCK_TIMER_KIND = "complaint.sla_clock"


def complaint_timer_prefix(complaint_id: uuid.UUID) -> str:
    """Prefix of every timer of a complaint."""
    return f"complaint:{complaint_id}:"


def timer_payload(clock: ClockRecord) -> dict[str, object]:
    """What the clock timer carries (the handler re-reads the row; this is for operators)."""
    return {
        "complaint_id": str(clock.complaint_id),
        "clock": clock.kind.value,
        "reopen_count": clock.reopen_count,
        "attempt": clock.attempt,
    }


def _new_timer(clock: ClockRecord) -> timers.NewTimer:
    if clock.due_at is None or clock.timer_key is None:
        raise ValueError(f"clock {clock.kind} is not running")
    return timers.NewTimer(
        key=clock.timer_key,
        kind=CLOCK_TIMER_KIND,
        dealer_id=clock.dealer_id,
        due_at=clock.due_at,
        payload=timer_payload(clock),
    )


async def arm(conn: DbConnection, clocks: Sequence[ClockRecord]) -> None:
    """Store freshly started clocks and schedule their deadline timers."""
    await repository.insert_clocks(conn, clocks)
    await timers.schedule_many(conn, [_new_timer(c) for c in clocks])


async def rearm(conn: DbConnection, clock: ClockRecord) -> None:
    """Schedule the timer of an existing clock that runs again (re-armed or resumed)."""
    await timers.schedule_many(conn, [_new_timer(clock)])


async def stop(
    conn: DbConnection,
    clocks: Sequence[ClockRecord],
    kinds: Collection[SlaClock] | None,
    *,
    at: datetime,
    action: str,
    status: str = ClockStatus.MET,
) -> list[ClockRecord]:
    """Stop the open clocks of ``kinds`` (None: all) with ``status``; cancel their timers
    (every re-arm of them too). Returns the clocks stopped."""
    stopped = []
    for clock in clocks:
        if clock.status not in ClockStatus.OPEN or (kinds is not None and clock.kind not in kinds):
            continue
        await timers.cancel_prefix(conn, clock.timer_prefix)
        done = replace(clock, status=status, stopped_at=at, stopped_by=action)
        await repository.save_clock(conn, done)
        stopped.append(done)
    return stopped


async def cancel_all(conn: DbConnection, complaint_id: uuid.UUID) -> int:
    """Cancel every pending timer of a complaint (whatever clock or arming it belongs to)."""
    return await timers.cancel_prefix(conn, complaint_timer_prefix(complaint_id))


async def pause_running(
    conn: DbConnection, clocks: Sequence[ClockRecord], at: datetime, policy: DealerPolicy
) -> list[ClockRecord]:
    """Pause every running pausable clock (its timer is cancelled, its remaining time kept);
    returns the clocks paused."""
    paused = []
    for clock in clocks:
        if clock.status != ClockStatus.RUNNING:
            continue
        held = pause(clock.to_domain(), at, policy)
        if not held.paused:
            continue  # not pausable (the legal inform clock by default)
        if clock.timer_key is not None:
            await timers.cancel(conn, clock.timer_key)
        record = replace(clock.with_domain(held, ClockStatus.PAUSED), timer_key=clock.timer_key)
        await repository.save_clock(conn, record)
        paused.append(record)
    return paused


async def resume_paused(
    conn: DbConnection, clocks: Sequence[ClockRecord], at: datetime, policy: DealerPolicy
) -> list[ClockRecord]:
    """Restart every paused clock with the time it had left; returns them."""
    resumed = []
    for clock in clocks:
        if clock.status != ClockStatus.PAUSED:
            continue
        running = clock.with_domain(resume(clock.to_domain(), at, policy), ClockStatus.RUNNING)
        await repository.save_clock(conn, running)
        await rearm(conn, running)
        resumed.append(running)
    return resumed
