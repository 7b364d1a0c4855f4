"""The in-memory router harness: handlers run as the consumer runs them, in milliseconds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.envelope import Envelope
from dealerflow.contracts.events.leads import LeadGraded
from dealerflow.devinfra.router_harness import RouterHarness
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.consumer import EventRouter, HandlerContext
from dealerflow.runtime.settings import ServiceSettings

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CUSTOMER = uuid.UUID("2b1f3c9e-0000-5000-8000-000000000001")


def graded(grade: str = "B") -> LeadGraded:
    return LeadGraded(
        dealer_id="D001",
        customer_id=CUSTOMER,
        occurred_at=START,
        lead_id="L1",
        grade=grade,
        graded_at=START,
    )


router = EventRouter()


@router.on(LeadGraded)
async def regrade_reminder(ctx: HandlerContext, env: Envelope[Any]) -> None:
    event: LeadGraded = env.event
    if event.grade.value == "F":
        await ctx.cancel_timers(f"lead:{event.lead_id}:")
        return
    policy = await ctx.policy(event.dealer_id)
    await ctx.schedule_timer(
        key=f"lead:{event.lead_id}:regrade",
        kind="test.regrade",
        due_at=ctx.now + policy.leads.follow_up_every[event.grade.value],
    )
    await ctx.publish(graded("A"))


async def test_a_delivery_records_timers_and_published_events_with_their_cause() -> None:
    harness = RouterHarness(router, ServiceSettings(), clock=ManualClock(START))
    result = await harness.deliver(graded("B"), event_id="cause-1")
    assert result.handled
    [timer] = result.timers
    assert (timer.key, timer.dealer_id, timer.due_at) == (
        "lead:L1:regrade",
        "D001",
        START + timedelta(days=7),  # DOMAIN.md default cadence of grade B
    )
    [published] = result.published
    assert isinstance(published.event, LeadGraded)
    assert published.meta.causation_id == "cause-1"
    assert published.meta.correlation_id == "cause-1"


async def test_cancellations_are_recorded_and_unhandled_events_say_so() -> None:
    harness = RouterHarness(router, ServiceSettings(), clock=ManualClock(START))
    lost = await harness.deliver(graded("F"))
    assert lost.cancelled_prefixes == ["lead:L1:"]
    assert lost.published == []
    empty = RouterHarness(EventRouter(), ServiceSettings(), clock=ManualClock(START))
    assert not (await empty.deliver(graded())).handled


async def test_a_handler_that_touches_the_database_fails_loudly() -> None:
    db_router = EventRouter()

    @db_router.on(LeadGraded)
    async def writes(ctx: HandlerContext, env: Envelope[Any]) -> None:
        await ctx.conn.execute("SELECT 1")

    harness = RouterHarness(db_router, ServiceSettings(), clock=ManualClock(START))
    with pytest.raises(AssertionError, match="used the database"):
        await harness.deliver(graded())
