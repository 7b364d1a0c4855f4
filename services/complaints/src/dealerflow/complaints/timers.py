"""Timer handlers of the complaints service: an SLA clock's deadline passing, and an
automatic complaint's wait for the customer's contact running out."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from dealerflow.complaints import usecases_triggers as triggers
from dealerflow.complaints.settings import ComplaintsSettings
from dealerflow.complaints.usecases import Uc
from dealerflow.complaints.usecases_breach import handle_clock_deadline
from dealerflow.complaints.usecases_clocks import CLOCK_TIMER_KIND
from dealerflow.complaints.usecases_contact_wait import CONTACT_WAIT_TIMER_KIND
from dealerflow.runtime.service import ServiceContext, ServiceTimerHandler
from dealerflow.runtime.timers import Timer


async def clock_deadline(uc: Uc, timer: Timer) -> None:
    """An SLA clock ran out: breach, escalate, re-arm."""
    complaint_id = uuid.UUID(str(timer.payload["complaint_id"]))
    await handle_clock_deadline(uc, timer.dealer_id, complaint_id, timer.key)


async def contact_wait_over(uc: Uc, timer: Timer) -> None:
    """A parked trigger waited long enough for its contact."""
    await triggers.contact_wait_over(uc, timer.dealer_id, str(timer.payload["trigger_ref"]))


def handlers(ctx: ServiceContext[ComplaintsSettings]) -> Mapping[str, ServiceTimerHandler]:
    """kind -> handler."""
    return {CLOCK_TIMER_KIND: clock_deadline, CONTACT_WAIT_TIMER_KIND: contact_wait_over}
