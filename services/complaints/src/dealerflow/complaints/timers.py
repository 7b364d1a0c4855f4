"""Timer handlers of the complaints service: an SLA clock's deadline passing."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from dealerflow.complaints.settings import ComplaintsSettings
from dealerflow.complaints.sla import CLOCK_TIMER_KIND
from dealerflow.complaints.usecases import Work, handle_clock_deadline
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.service import ServiceContext
from dealerflow.runtime.timers import Timer, TimerHandler


def handlers(ctx: ServiceContext) -> Mapping[str, TimerHandler]:
    """kind -> handler, closures over the running service's context."""
    settings = ctx.settings
    if not isinstance(settings, ComplaintsSettings):  # pragma: no cover - wiring guard
        raise TypeError("the complaints service runs with ComplaintsSettings")

    async def clock_deadline(conn: DbConnection, timer: Timer) -> None:
        work = Work(
            conn=conn,
            publish=lambda event: ctx.publish(conn, event),
            now=ctx.clock.now(),
            settings=settings,
        )
        await handle_clock_deadline(
            work, timer.dealer_id, uuid.UUID(str(timer.payload["complaint_id"])), timer.key
        )

    return {CLOCK_TIMER_KIND: clock_deadline}
