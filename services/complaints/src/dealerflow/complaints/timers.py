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
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.service import ServiceContext, ServiceTimerHandler
from dealerflow.runtime.timers import Timer

Ctx = UseCaseContext[ComplaintsSettings]


def work(uc: Ctx) -> Work:
    return Work(conn=uc.conn, publish=uc.publish, now=uc.now, settings=uc.settings)


def handlers(ctx: ServiceContext[ComplaintsSettings]) -> Mapping[str, ServiceTimerHandler]:
    """kind -> handler."""

    async def clock_deadline(uc: Ctx, timer: Timer) -> None:
        complaint_id = uuid.UUID(str(timer.payload["complaint_id"]))
        await handle_clock_deadline(work(uc), timer.dealer_id, complaint_id, timer.key)

    async def contact_wait_over(uc: Ctx, timer: Timer) -> None:
        trigger_ref = str(timer.payload["trigger_ref"])
        await triggers.contact_wait_over(work(uc), timer.dealer_id, trigger_ref)

    return {CLOCK_TIMER_KIND: clock_deadline, CONTACT_WAIT_TIMER_KIND: contact_wait_over}
