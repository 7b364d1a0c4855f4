"""Notifier planners for leads: first contact, grade cadence, appointment reminders.

See `dealerflow.notifier.domain` for the conventions (keys, timing choices).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dealerflow.contracts.care_enums import RecordKind, ReminderKind, TaskKind
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.notifier.domain_types import (
    AlertKind,
    AppointmentFacts,
    LeadFacts,
    LeadGradeFacts,
    PlannedAlert,
    PlannedItem,
    PlannedReminder,
    PlannedTask,
    RecordRef,
    StaffRole,
)
from dealerflow.policy import BusinessCalendar, DealerPolicy


def _local_text(calendar: BusinessCalendar, moment: datetime) -> str:
    return calendar.local(moment).strftime("%Y-%m-%d %H:%M")


# -- leads ---------------------------------------------------------------------------------


def first_contact_key(lead_id: str) -> str:
    """Business key of a lead's first-contact task."""
    return f"lead:{lead_id}:first-contact"


def first_contact_watch_keys(lead_id: str) -> list[str]:
    """Keys to cancel once the lead's first contact is recorded (its task completed)."""
    base = first_contact_key(lead_id)
    return [f"{base}:warn", f"{base}:escalate", f"{base}:reassign"]


def plan_first_contact(lead: LeadFacts, policy: DealerPolicy, now: datetime) -> list[PlannedItem]:
    """First-contact task per the channel's SLA, its warning/escalation/reassign watches
    and, for walk-ins and calls, the thank-you message.

    The SLA runs from `lead.created_at`; an event processed late keeps its original
    deadlines (overdue watches then fire at once). `now` only keeps the thank-you message
    out of the past.
    """
    calendar = BusinessCalendar(policy)
    sla = policy.leads.first_contact[policy.leads.class_of_channel(lead.channel)]
    start = lead.created_at
    due = calendar.due(start, sla.first_contact)
    reassign_at = due
    for _ in range(policy.leads.reassign_after_breaches - 1):
        reassign_at = calendar.due(reassign_at, sla.first_contact)
    related = RecordRef(RecordKind.LEAD, lead.lead_id)
    task_key = first_contact_key(lead.lead_id)
    warn_key, escalate_key, reassign_key = first_contact_watch_keys(lead.lead_id)

    def watch(key: str, kind: AlertKind, at: datetime, role: StaffRole) -> PlannedAlert:
        recipient = lead.consultant_id if role is StaffRole.CONSULTANT else None
        return PlannedAlert(
            key=key,
            kind=kind,
            dealer_id=lead.dealer_id,
            customer_id=lead.customer_id,
            fire_at=at,
            recipient_role=role,
            recipient_id=recipient,
            watches=task_key,
            related=related,
        )

    warn_at = calendar.point_of(start, sla.first_contact, policy.leads.warn_at_fraction)
    items: list[PlannedItem] = [
        PlannedTask(
            key=task_key,
            kind=TaskKind.LEAD_FIRST_CONTACT,
            dealer_id=lead.dealer_id,
            customer_id=lead.customer_id,
            due_at=due,
            assignee_role=StaffRole.CONSULTANT,
            assignee_id=lead.consultant_id,
            related=related,
            script="First contact: thank the prospect, confirm the needs, invite a visit.",
        ),
        watch(warn_key, AlertKind.WARNING, warn_at, StaffRole.CONSULTANT),
        watch(escalate_key, AlertKind.ESCALATION, due, StaffRole.SALES_MANAGER),
        watch(reassign_key, AlertKind.REASSIGN, reassign_at, StaffRole.SALES_MANAGER),
    ]
    if sla.thank_you_message is not None:
        thank_at = max(calendar.due(start, sla.thank_you_message), now.astimezone(UTC))
        items.append(
            PlannedReminder(
                key=f"lead:{lead.lead_id}:thank-you",
                kind=ReminderKind.THANK_YOU,
                dealer_id=lead.dealer_id,
                customer_id=lead.customer_id,
                send_at=calendar.next_allowed_send_time(thank_at),
                purpose=ConsentPurpose.SERVICE,
                related=related,
            )
        )
    return items


def grade_follow_up_prefixes(lead_id: str) -> tuple[str, str]:
    """Key prefixes of the tasks a grade's cadence plans (follow-up call, re-grade prompt):
    a newer grade cancels the open ones under them (see `plan_grade_follow_up`)."""
    return f"lead:{lead_id}:follow-up@", f"lead:{lead_id}:regrade@"


def plan_grade_follow_up(grade: LeadGradeFacts, policy: DealerPolicy) -> list[PlannedTask]:
    """The next follow-up call per the grade's cadence and, for H, the re-grade prompt at
    the end of its 7-day horizon. Grades without a cadence (N, O, D, F) plan nothing.

    The keys carry the grading time, so the same grade planned again yields the same keys
    and a newer grade new ones: the caller cancels the open tasks under
    `grade_follow_up_prefixes` that the newer plan does not contain.
    """
    cadence = {str(g): every for g, every in policy.leads.follow_up_every.items()}.get(grade.grade)
    if cadence is None:
        return []
    related = RecordRef(RecordKind.LEAD, grade.lead_id)
    stamp = grade.graded_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    follow_up, regrade = grade_follow_up_prefixes(grade.lead_id)
    tasks = [
        PlannedTask(
            key=f"{follow_up}{stamp}",
            kind=TaskKind.LEAD_FOLLOW_UP,
            dealer_id=grade.dealer_id,
            customer_id=grade.customer_id,
            due_at=grade.graded_at.astimezone(UTC) + cadence,
            assignee_role=StaffRole.CONSULTANT,
            assignee_id=grade.consultant_id,
            related=related,
            script=f"Follow up the grade {grade.grade} prospect; record outcome and next date.",
        )
    ]
    if grade.grade == "H":
        tasks.append(
            PlannedTask(
                key=f"{regrade}{stamp}",
                kind=TaskKind.LEAD_REGRADE,
                dealer_id=grade.dealer_id,
                customer_id=grade.customer_id,
                due_at=grade.graded_at.astimezone(UTC) + policy.leads.hot_regrade_after,
                assignee_role=StaffRole.CONSULTANT,
                assignee_id=grade.consultant_id,
                related=related,
                script="Still grade H after its horizon: re-grade the lead.",
            )
        )
    return tasks


# -- appointments --------------------------------------------------------------------------

_REMINDER_OF_PURPOSE = {
    "store_visit": ReminderKind.APPOINTMENT,
    "test_drive": ReminderKind.TEST_DRIVE,
    "delivery": ReminderKind.DELIVERY,
}


def appointment_reminder_kind(purpose: str) -> ReminderKind:
    """The message template of an appointment's reminders, by its purpose (an
    AppointmentPurpose value); an unknown purpose gets the plain appointment reminder."""
    return _REMINDER_OF_PURPOSE.get(purpose, ReminderKind.APPOINTMENT)


def appointment_reminders_prefix(record: RecordRef) -> str:
    """Key prefix of every reminder planned for the appointment `record`, whatever its
    start time: cancelling the appointment cancels the reminders under it."""
    return f"{record.kind.value}:{record.id}:reminder-"


def _reminder_keys(record: RecordRef, starts_at: datetime, offsets: list[timedelta]) -> list[str]:
    stamp = starts_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    labels = []
    for offset in offsets:
        minutes = int(offset.total_seconds() // 60)
        labels.append(f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m")
    prefix = appointment_reminders_prefix(record)
    return [f"{prefix}{label}@{stamp}" for label in labels]


def appointment_reminder_keys(
    record: RecordRef, starts_at: datetime, policy: DealerPolicy
) -> list[str]:
    """Keys of the reminders planned for an appointment starting at `starts_at`."""
    return _reminder_keys(record, starts_at, policy.leads.appointment_reminders_before)


def plan_appointment_reminders(
    appointment: AppointmentFacts, policy: DealerPolicy, now: datetime
) -> list[PlannedReminder]:
    """Reminders 24 h and 2 h (per policy) before the start.

    None is planned in the past; one pushed out of quiet hours is kept only if it still
    goes out before the appointment starts.
    """
    calendar = BusinessCalendar(policy)
    offsets = policy.leads.appointment_reminders_before
    keys = appointment_reminder_keys(appointment.record, appointment.starts_at, policy)
    params = {"appointment_time": _local_text(calendar, appointment.starts_at)}
    if appointment.location:
        params["location"] = appointment.location
    reminders = []
    for key, offset in zip(keys, offsets, strict=True):
        send_at = calendar.next_allowed_send_time(appointment.starts_at - offset)
        if send_at < now or send_at >= appointment.starts_at:
            continue
        reminders.append(
            PlannedReminder(
                key=key,
                kind=appointment.reminder_kind,
                dealer_id=appointment.dealer_id,
                customer_id=appointment.customer_id,
                send_at=send_at,
                purpose=ConsentPurpose.SERVICE,
                related=appointment.record,
                params=params,
            )
        )
    return reminders
