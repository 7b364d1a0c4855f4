"""Notifier planners for leads: first contact, the follow-up cadence (grade, agreed
next contact, declined invitation), the lost-lead review, appointment reminders.

See `dealerflow.notifier.domain` for the conventions (keys, timing choices).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from dealerflow.contracts.care_enums import RecordKind, ReminderKind, TaskKind
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.notifier.domain_task_texts import StaffText, staff_text
from dealerflow.notifier.domain_types import (
    AlertKind,
    AppointmentFacts,
    LeadFacts,
    LeadLostFacts,
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


#: The key suffixes of a first-contact task's watches (the escalation and reassign ones
#: plan tasks of their own under these keys).
FIRST_CONTACT_WATCH_SUFFIXES = (":warn", ":escalate", ":reassign")


def first_contact_watch_keys(lead_id: str) -> list[str]:
    """Keys to cancel once the lead's first contact is recorded (its task completed)."""
    base = first_contact_key(lead_id)
    return [f"{base}{suffix}" for suffix in FIRST_CONTACT_WATCH_SUFFIXES]


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
            **staff_text(TaskKind.LEAD_FIRST_CONTACT),
        ),
        watch(warn_key, AlertKind.WARNING, warn_at, StaffRole.CONSULTANT),
        watch(escalate_key, AlertKind.ESCALATION, due, StaffRole.SALES_MANAGER),
        watch(reassign_key, AlertKind.REASSIGN, reassign_at, StaffRole.SALES_MANAGER),
    ]
    if sla.thank_you_message is not None and lead.thank_you:
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
    """Key prefixes of the lead's sales follow-up tasks (follow-up call, re-grade prompt):
    a re-plan cancels the open ones under them that the new plan does not contain (see
    `plan_follow_up`), a declined invitation all of them."""
    return f"lead:{lead_id}:follow-up@", f"lead:{lead_id}:regrade@"


#: grades with no sales cadence: contract signed, delivered, lost
NO_SALES_CADENCE = frozenset({"O", "D", "F"})


@dataclass(frozen=True, slots=True)
class LeadFollowUp:
    """What the notifier knows of a lead for its follow-up cadence (kept per lead from the
    leads events): the grade, the latest logged contact and the next-contact date agreed in
    it, and a declined invitation with the re-engagement that lifted it.

    ``next_contact_on`` is void (None) once the lead closed or the customer declined after
    that contact; a contact logged later brings its own.
    """

    dealer_id: str
    customer_id: UUID
    lead_id: str
    consultant_id: str | None = None
    grade: str | None = None  # LeadGrade value; None: no LeadGraded seen (a new lead, N)
    graded_at: datetime | None = None
    contacted_at: datetime | None = None
    next_contact_on: date | None = None  # dealer-local date
    declined_at: datetime | None = None
    reengaged_at: datetime | None = None

    @property
    def invitation_declined(self) -> bool:
        """True while the customer's declined invitation stands (no re-engagement since)."""
        if self.declined_at is None:
            return False
        return self.reengaged_at is None or self.reengaged_at <= self.declined_at

    def reopened_after(self, moment: datetime) -> bool:
        """True when the lead got a grade with a sales cadence after ``moment`` (e.g. a
        lost lead reopened by the manager's review since)."""
        live = self.grade is not None and self.grade not in NO_SALES_CADENCE
        return live and self.graded_at is not None and self.graded_at > moment


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def plan_follow_up(lead: LeadFollowUp, policy: DealerPolicy) -> list[PlannedTask]:
    """The lead's sales follow-up tasks as they should be now.

    - None while a declined invitation stands (the handbook: no pitching until the customer
      re-engages), nor for a grade without a sales cadence (O, D, F).
    - The follow-up call: on the date agreed at the latest contact (at
      ``contact.reminder_send_time``, dealer local), else one cadence interval of the
      grade (H 2 days, A 3, B 7, C 14 by default) after the latest of the grading, the
      contact and the re-engagement; N has no cadence, so only an agreed date plans one.
    - For H, the re-grade prompt ``hot_regrade_after`` the grading (a contact does not
      move the grade's horizon).

    Keys carry what the due time derives from (the contact that agreed the date, or the
    moment counted from; the re-grade prompt its grading, or the re-engagement after it),
    so the same state plans the same keys and a change new ones: the caller cancels the
    open tasks under `grade_follow_up_prefixes` the plan does not contain. A key never
    comes back once its task was cancelled (the facts it derives from only move forward),
    so a re-plan is never blocked by a cancelled task of the same key.
    """
    grade = lead.grade or "N"
    if lead.invitation_declined or grade in NO_SALES_CADENCE:
        return []
    related = RecordRef(RecordKind.LEAD, lead.lead_id)
    follow_up, regrade = grade_follow_up_prefixes(lead.lead_id)

    def task(key: str, kind: TaskKind, due_at: datetime, text: StaffText) -> PlannedTask:
        return PlannedTask(
            key=key,
            kind=kind,
            dealer_id=lead.dealer_id,
            customer_id=lead.customer_id,
            due_at=due_at.astimezone(UTC),
            assignee_role=StaffRole.CONSULTANT,
            assignee_id=lead.consultant_id,
            related=related,
            **text,
        )

    tasks: list[PlannedTask] = []
    every = {str(g): e for g, e in policy.leads.follow_up_every.items()}.get(grade)
    since = [t for t in (lead.graded_at, lead.contacted_at, lead.reengaged_at) if t is not None]
    if lead.next_contact_on is not None and lead.contacted_at is not None:
        day = lead.next_contact_on
        due = BusinessCalendar(policy).at_local(day, policy.contact.reminder_send_time)
        text = staff_text("lead_follow_up.agreed", day=day.isoformat(), grade=grade)
        key = f"{follow_up}{_stamp(lead.contacted_at)}:{day.isoformat()}"
        tasks.append(task(key, TaskKind.LEAD_FOLLOW_UP, due, text))
    elif every is not None and since:
        anchor = max(since)
        text = staff_text(TaskKind.LEAD_FOLLOW_UP, grade=grade)
        tasks.append(
            task(f"{follow_up}{_stamp(anchor)}", TaskKind.LEAD_FOLLOW_UP, anchor + every, text)
        )
    if grade == "H" and lead.graded_at is not None:
        due = lead.graded_at + policy.leads.hot_regrade_after
        text = staff_text(TaskKind.LEAD_REGRADE)
        # a prompt cancelled by a decline comes back after the re-engagement: a new key
        resumed = max(lead.graded_at, lead.reengaged_at or lead.graded_at)
        tasks.append(task(f"{regrade}{_stamp(resumed)}", TaskKind.LEAD_REGRADE, due, text))
    return tasks


def lost_review_prefix(lead_id: str) -> str:
    """Key prefix of the lead's lost-review tasks: one per loss (a reopened lead lost again
    gets a new one); reopening the lead cancels the open one."""
    return f"lead:{lead_id}:lost-review@"


def plan_lost_review(lost: LeadLostFacts) -> PlannedTask:
    """The sales manager's review of a lost lead, due at once: approve the loss or reopen
    the lead (DOMAIN.md: lost -> manager review). The reason note stays in leads (it may
    name people); the task carries the reason code."""
    return PlannedTask(
        key=f"{lost_review_prefix(lost.lead_id)}{_stamp(lost.lost_at)}",
        kind=TaskKind.LEAD_LOST_REVIEW,
        dealer_id=lost.dealer_id,
        customer_id=lost.customer_id,
        due_at=lost.lost_at.astimezone(UTC),
        assignee_role=StaffRole.SALES_MANAGER,
        assignee_id=None,
        related=RecordRef(RecordKind.LEAD, lost.lead_id),
        **staff_text(TaskKind.LEAD_LOST_REVIEW, reason=lost.reason.replace("_", " ")),
    )


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
    record: RecordRef,
    starts_at: datetime,
    policy: DealerPolicy,
    before: list[timedelta] | None = None,
) -> list[str]:
    """Keys of the reminders planned for an appointment starting at `starts_at` (`before`:
    the lead times, default the policy's appointment reminders)."""
    offsets = policy.leads.appointment_reminders_before if before is None else before
    return _reminder_keys(record, starts_at, offsets)


def plan_appointment_reminders(
    appointment: AppointmentFacts,
    policy: DealerPolicy,
    now: datetime,
    before: list[timedelta] | None = None,
) -> list[PlannedReminder]:
    """Reminders 24 h and 2 h (per policy; `before` other lead times) before the start.

    None is planned in the past; one pushed out of quiet hours is kept only if it still
    goes out before the appointment starts.
    """
    calendar = BusinessCalendar(policy)
    offsets = policy.leads.appointment_reminders_before if before is None else before
    keys = appointment_reminder_keys(appointment.record, appointment.starts_at, policy, offsets)
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
