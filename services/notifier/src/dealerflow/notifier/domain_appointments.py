"""Notifier planners for what happens to a booked appointment after the booking: moved,
cancelled, attended, missed. The reminders of the booking itself are planned by
`domain_leads.plan_appointment_reminders`; the keys are explained in `domain`.

- moved (AppointmentRescheduled): the reminders of the new time replace every pending
  one of the appointment (their keys carry the start time, so the new time's keys are
  new and a repeat of the same move plans the same keys);
- cancelled or attended: nobody needs reminding, the pending reminders go;
- missed (AppointmentNoShow): the pending reminders go, and the consultant gets a
  follow-up call to win the customer back. It is due as a phoned-in lead's first call
  (the dealer's first-contact SLA of the phone class, 24 hours by default): the same
  call-back promise, so it is one setting per dealer, not a number of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dealerflow.contracts.care_enums import RecordKind, ReminderKind, TaskKind
from dealerflow.notifier.domain_leads import plan_appointment_reminders
from dealerflow.notifier.domain_task_texts import staff_text
from dealerflow.notifier.domain_types import (
    AppointmentFacts,
    PlannedReminder,
    PlannedTask,
    RecordRef,
    StaffRole,
)
from dealerflow.policy import BusinessCalendar, DealerPolicy


@dataclass(frozen=True, slots=True)
class AppointmentMoveFacts:
    """From AppointmentRescheduled."""

    dealer_id: str
    customer_id: UUID
    record: RecordRef
    previous_starts_at: datetime
    starts_at: datetime
    #: None when the event does not say (an older producer): the reminders it replaces do
    reminder_kind: ReminderKind | None = None
    location: str | None = None


@dataclass(frozen=True, slots=True)
class AppointmentEndFacts:
    """From AppointmentCancelled or AppointmentAttended (the reminders are moot)."""

    dealer_id: str
    record: RecordRef


@dataclass(frozen=True, slots=True)
class NoShowFacts:
    """From AppointmentNoShow."""

    dealer_id: str
    customer_id: UUID
    record: RecordRef
    lead_id: str
    consultant_id: str
    scheduled_for: datetime
    recorded_at: datetime


def reminders_after_move(
    move: AppointmentMoveFacts, policy: DealerPolicy, now: datetime
) -> list[PlannedReminder]:
    """The reminders of the appointment's new time (24 h and 2 h before, per policy; none
    in the past), to replace its pending ones: those under
    `appointment_reminders_prefix` with other keys."""
    booking = AppointmentFacts(
        dealer_id=move.dealer_id,
        customer_id=move.customer_id,
        record=move.record,
        starts_at=move.starts_at,
        reminder_kind=move.reminder_kind or ReminderKind.APPOINTMENT,
        location=move.location,
    )
    return plan_appointment_reminders(booking, policy, now)


def no_show_follow_up_key(record: RecordRef) -> str:
    """Business key of the follow-up call after the appointment `record` was missed."""
    return f"{record.kind.value}:{record.id}:no-show"


def plan_no_show_follow_up(no_show: NoShowFacts, policy: DealerPolicy) -> PlannedTask:
    """The consultant's call to the customer who missed the appointment, due within the
    first-contact SLA of a phoned-in lead from when the no-show was recorded."""
    calendar = BusinessCalendar(policy)
    sla = policy.leads.first_contact[policy.leads.class_of_channel("phone")].first_contact
    missed = calendar.local(no_show.scheduled_for).strftime("%Y-%m-%d %H:%M")
    return PlannedTask(
        key=no_show_follow_up_key(no_show.record),
        kind=TaskKind.APPOINTMENT_NO_SHOW,
        dealer_id=no_show.dealer_id,
        customer_id=no_show.customer_id,
        due_at=calendar.due(no_show.recorded_at, sla),
        assignee_role=StaffRole.CONSULTANT,
        assignee_id=no_show.consultant_id,
        # about the lead: it follows the lead when reassigned and goes when it closes
        related=RecordRef(RecordKind.LEAD, no_show.lead_id),
        **staff_text(TaskKind.APPOINTMENT_NO_SHOW, missed=missed),
    )
