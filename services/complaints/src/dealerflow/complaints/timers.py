"""Timer handlers of the complaints service: an SLA clock's deadline passing, and an
automatic complaint's wait for the customer's contact running out."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from dealerflow.complaints import usecases_triggers as triggers
from dealerflow.complaints.contact_wait import CONTACT_WAIT_TIMER_KIND
from dealerflow.complaints.settings import ComplaintsSettings
from dealerflow.complaints.sla import CLOCK_TIMER_KIND
from dealerflow.complaints.usecases import Work, handle_clock_deadline
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.service import ServiceContext
from dealerflow.runtime.timers import Timer, TimerHandler


def handlers(ctx: ServiceContext) -> Mapping[str, TimerHandler]:
    """kind -> handler, closures over the running service's context."""
    settings = ctx.settings
    if not isinstance(settings, ComplaintsSettings):  # pragma: no cover - wiring guard
        raise TypeError("the complaints service runs with ComplaintsSettings")

    def work(conn: DbConnection) -> Work:
        async def publish(event: DomainEvent) -> str:
            return await ctx.publish(conn, event)

        return Work(conn=conn, publish=publish, now=ctx.clock.now(), settings=settings)

    async def clock_deadline(conn: DbConnection, timer: Timer) -> None:
        complaint_id = uuid.UUID(str(timer.payload["complaint_id"]))
        await handle_clock_deadline(work(conn), timer.dealer_id, complaint_id, timer.key)

    async def contact_wait_over(conn: DbConnection, timer: Timer) -> None:
        trigger_ref = str(timer.payload["trigger_ref"])
        await triggers.contact_wait_over(work(conn), timer.dealer_id, trigger_ref)

    return {CLOCK_TIMER_KIND: clock_deadline, CONTACT_WAIT_TIMER_KIND: contact_wait_over}
