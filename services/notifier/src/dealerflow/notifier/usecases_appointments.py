"""Reactions to what happens to a booked appointment: a move re-plans the customer's
reminders for the new time; a cancellation or an arrival cancels those still pending; a
no-show cancels them too and gives the consultant a follow-up call.

Same conventions as `usecases_leads` (pure planners in `domain_appointments`, stable
business keys: a redelivered or repeated event changes nothing). A cancelled reminder
publishes no event (the contracts have none): its status says ``cancelled``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from dealerflow.contracts.care_enums import ReminderKind
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.notifier import repository as repo
from dealerflow.notifier import repository_messages as msgs
from dealerflow.notifier.domain_alerts import timer_key
from dealerflow.notifier.domain_appointments import (
    AppointmentEndFacts,
    AppointmentMoveFacts,
    NoShowFacts,
    plan_no_show_follow_up,
    reminders_after_move,
)
from dealerflow.notifier.domain_leads import appointment_reminders_prefix
from dealerflow.notifier.domain_types import PlannedReminder, RecordRef
from dealerflow.notifier.records import ReminderRow
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases import apply_plan
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]
log = logging.getLogger("dealerflow.notifier")


async def cancel_reminders(uc: Uc, dealer_id: str, reminders: list[ReminderRow]) -> None:
    """Cancel these reminders (not sent yet) with their timers."""
    # timers first: the poller locks a timer, then the reminder it sends
    for reminder in reminders:
        await uc.cancel_timer(timer_key(dealer_id, reminder.business_key))
    keys = [reminder.business_key for reminder in reminders]
    if keys:
        await msgs.cancel_scheduled_reminders(uc.conn, dealer_id, keys, uc.now)
        log.info("dealer %s: cancelled reminders %s", dealer_id, ", ".join(keys))


async def _pending(uc: Uc, dealer_id: str, record: RecordRef) -> list[ReminderRow]:
    """The appointment's reminders not sent yet."""
    prefix = appointment_reminders_prefix(record)
    return await msgs.scheduled_reminders(uc.conn, dealer_id, prefix)


async def withdraw_reminders(uc: Uc, dealer_id: str, record: RecordRef) -> None:
    """The record's reminders not sent yet go, with their timers (an appointment, test
    drive, delivery or service appointment that is off)."""
    await cancel_reminders(uc, dealer_id, await _pending(uc, dealer_id, record))


async def replace_reminders(
    uc: Uc,
    dealer_id: str,
    record: RecordRef,
    planned: Sequence[PlannedReminder],
    contact: ContactSnapshot | None,
    pending: list[ReminderRow] | None = None,
) -> None:
    """The ``planned`` reminders of the record's (new) time replace its pending ones; a
    pending reminder the plan contains stays (a repeated event planned it already).
    ``pending``: the record's pending reminders when the caller read them already."""
    if pending is None:
        pending = await _pending(uc, dealer_id, record)
    keep = {reminder.key for reminder in planned}
    await cancel_reminders(uc, dealer_id, [r for r in pending if r.business_key not in keep])
    await apply_plan(uc, planned, contact)


def _as_before(move: AppointmentMoveFacts, pending: list[ReminderRow]) -> AppointmentMoveFacts:
    """A move that does not say what the appointment is for (an older producer) keeps the
    template and place of the reminders it replaces."""
    if move.reminder_kind is not None or not pending:
        return move
    earlier = pending[0]
    return replace(
        move, reminder_kind=ReminderKind(earlier.kind), location=earlier.params.get("location")
    )


async def on_appointment_rescheduled(uc: Uc, move: AppointmentMoveFacts) -> None:
    """The reminders of the new time replace the pending ones (sent with the newest
    contact snapshot known for the customer, as those of the booking)."""
    pending = await _pending(uc, move.dealer_id, move.record)
    policy = await uc.policy(move.dealer_id)
    planned = reminders_after_move(_as_before(move, pending), policy, uc.now)
    contact = await repo.get_contact(uc.conn, move.dealer_id, move.customer_id)
    await replace_reminders(uc, move.dealer_id, move.record, planned, contact, pending)


async def on_appointment_ended(uc: Uc, ended: AppointmentEndFacts) -> None:
    """Cancelled or attended: the appointment's pending reminders go."""
    await withdraw_reminders(uc, ended.dealer_id, ended.record)


async def on_appointment_no_show(uc: Uc, no_show: NoShowFacts) -> None:
    """The pending reminders go (one deferred past the start, say) and the consultant
    gets the follow-up call."""
    await withdraw_reminders(uc, no_show.dealer_id, no_show.record)
    policy = await uc.policy(no_show.dealer_id)
    await apply_plan(uc, [plan_no_show_follow_up(no_show, policy)], None)
