"""A complaint's work in the notifier (DOMAIN.md 4): the handler's task from the first
minute, the "we received it" message, the handler's alert at a breach and the
verification callback after the resolution. Pure rules, no I/O, no clock.

Choices (documented for operators, docs/services.md):
- ComplaintOpened gives the handler (``handler_id``) a handling task due at the
  acknowledge deadline (at once when the event has none); its script names every deadline
  the event carries. A reopened complaint gets a new handling task, one per reopening
  (``reopen_count`` in the key), due at once.
- The handling task is the handler's piece of work until the complaint is resolved: a
  new handler (ComplaintAssigned) takes it over; the resolution cancels it with the
  complaint's other open tasks (``no_longer_needed``).
- Acknowledging cancels the escalation tasks the acknowledge clock raised (their key names
  the clock: ``complaint:<id>:escalation:<level>:<clock>``); escalations of later clocks
  stay.
- The customer's "we received it" message is a service message (no marketing consent
  needed) sent at once within the dealer's send hours, through the contact policy.
- The verification callback is a task for customer relations (the dealer's
  ``customer_relations`` holders; not the handler, who should not check their own work),
  due ``complaints.verification_callback_after`` after the resolution (default 3 days),
  out of the dealer's quiet hours. Its outcome closes (satisfied) or reopens
  (dissatisfied) the complaint in the complaints service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from dealerflow.contracts.care_enums import RecordKind, ReminderKind, TaskKind
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.notifier.domain_task_texts import AlertText, alert_text, staff_text
from dealerflow.notifier.domain_types import (
    ComplaintEscalationFacts,
    PlannedReminder,
    PlannedTask,
    RecordRef,
    StaffRole,
)
from dealerflow.policy import BusinessCalendar, DealerPolicy

ACKNOWLEDGE_CLOCK = "acknowledge"


@dataclass(frozen=True, slots=True)
class ComplaintOpenedFacts:
    """What the notifier needs of ComplaintOpened (or of ComplaintReopened)."""

    dealer_id: str
    customer_id: UUID
    complaint_id: str
    handler_id: str
    severity: str
    summary: str
    opened_at: datetime
    acknowledge_due_at: datetime | None = None
    resolve_due_at: datetime | None = None
    reopen_count: int = 0
    first_update_due_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ComplaintBreachFacts:
    """From ComplaintSlaBreached."""

    dealer_id: str
    customer_id: UUID
    complaint_id: str
    handler_id: str
    clock: str
    severity: str
    due_at: datetime
    breached_at: datetime


def complaint_key(complaint_id: str) -> str:
    """Prefix of every business key about the complaint (tasks, reminders, alerts)."""
    return f"complaint:{complaint_id}:"


def handling_task_key(complaint_id: str, reopen_count: int = 0) -> str:
    suffix = "" if reopen_count == 0 else f":reopened-{reopen_count}"
    return f"{complaint_key(complaint_id)}handling{suffix}"


def escalation_task_key(complaint_id: str, level: int, clock: str) -> str:
    return f"{complaint_key(complaint_id)}escalation:{level}:{clock}"


def escalation_key_prefix(complaint_id: str) -> str:
    return f"{complaint_key(complaint_id)}escalation:"


def verification_task_key(complaint_id: str, resolved_at: datetime) -> str:
    """One verification callback per resolution (a complaint resolved again after a
    reopening gets a new one)."""
    stamp = resolved_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{complaint_key(complaint_id)}verification@{stamp}"


def is_acknowledge_escalation(business_key: str) -> bool:
    """Whether an escalation task's key says the acknowledge clock raised it."""
    return business_key.rsplit(":", 1)[-1] == ACKNOWLEDGE_CLOCK


def _deadline(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at is not None else "-"


def plan_handling_task(opened: ComplaintOpenedFacts) -> PlannedTask:
    """The handler's task, due at the acknowledge deadline (at once without one; at once
    for a reopened complaint: the customer is waiting again)."""
    due = opened.acknowledge_due_at if opened.reopen_count == 0 else None
    resolve_by = _deadline(opened.resolve_due_at)
    if opened.reopen_count:
        text = staff_text(
            "complaint_handling.reopened", reopen_count=opened.reopen_count, resolve_by=resolve_by
        )
    else:
        about = {
            "severity": opened.severity.capitalize(),
            "summary": opened.summary,
            "acknowledge_by": _deadline(opened.acknowledge_due_at),
            "resolve_by": resolve_by,
        }
        text = (
            staff_text(
                TaskKind.COMPLAINT_HANDLING,
                first_update_by=_deadline(opened.first_update_due_at),
                **about,
            )
            if opened.first_update_due_at is not None
            else staff_text("complaint_handling.no_update_clock", **about)
        )
    return PlannedTask(
        key=handling_task_key(opened.complaint_id, opened.reopen_count),
        kind=TaskKind.COMPLAINT_HANDLING,
        dealer_id=opened.dealer_id,
        customer_id=opened.customer_id,
        due_at=(due or opened.opened_at).astimezone(UTC),
        assignee_role=StaffRole.COMPLAINT_HANDLER,
        assignee_id=opened.handler_id,
        related=RecordRef(RecordKind.COMPLAINT, opened.complaint_id),
        **text,
    )


def complaint_ref(complaint_id: str) -> str:
    """The short reference the customer is given (the first 8 characters of the id)."""
    return complaint_id.replace("-", "")[:8].upper()


def plan_received_message(
    opened: ComplaintOpenedFacts, policy: DealerPolicy, now: datetime
) -> PlannedReminder:
    """The customer's "we received it" message: a service message, at the next allowed
    send time (never in the past)."""
    calendar = BusinessCalendar(policy)
    send_at = calendar.next_allowed_send_time(max(opened.opened_at, now).astimezone(UTC))
    return PlannedReminder(
        key=f"{complaint_key(opened.complaint_id)}received",
        kind=ReminderKind.COMPLAINT_UPDATE,
        dealer_id=opened.dealer_id,
        customer_id=opened.customer_id,
        send_at=send_at,
        purpose=ConsentPurpose.SERVICE,
        related=RecordRef(RecordKind.COMPLAINT, opened.complaint_id),
        params={
            "complaint_ref": complaint_ref(opened.complaint_id),
            "update_text": "we have received it and a member of our staff is handling it. "
            "We will contact you shortly.",
        },
    )


def plan_verification_task(
    dealer_id: str,
    customer_id: UUID,
    complaint_id: str,
    resolved_at: datetime,
    policy: DealerPolicy,
) -> PlannedTask:
    """Customer relations' verification callback, the dealer's delay after the
    resolution, moved out of the dealer's quiet hours (it is a call to the customer)."""
    calendar = BusinessCalendar(policy)
    due = calendar.next_allowed_send_time(
        resolved_at.astimezone(UTC) + policy.complaints.verification_callback_after
    )
    return PlannedTask(
        key=verification_task_key(complaint_id, resolved_at),
        kind=TaskKind.COMPLAINT_VERIFICATION,
        dealer_id=dealer_id,
        customer_id=customer_id,
        due_at=due,
        assignee_role=StaffRole.CUSTOMER_RELATIONS,
        assignee_id=None,
        related=RecordRef(RecordKind.COMPLAINT, complaint_id),
        **staff_text(TaskKind.COMPLAINT_VERIFICATION),
    )


def breach_alert(breach: ComplaintBreachFacts) -> AlertText:
    """The handler's message when a clock of their complaint ran out."""
    return alert_text(
        "alert.complaint_deadline_missed",
        clock=breach.clock,
        due_at=_deadline(breach.due_at),
        severity=breach.severity,
        complaint_id=breach.complaint_id,
    )


_ESCALATION_ROLES = {
    "department_manager": StaffRole.DEPARTMENT_MANAGER,
    "gm": StaffRole.GM,
    "oem_region": StaffRole.OEM_REGION,
}


def plan_complaint_escalation_alert(escalation: ComplaintEscalationFacts) -> PlannedTask:
    """A task for the rung the complaint was escalated to, due at once."""
    role = _ESCALATION_ROLES.get(escalation.role)
    if role is None:
        raise ValueError(f"unknown escalation role {escalation.role!r}")
    return PlannedTask(
        key=escalation_task_key(escalation.complaint_id, escalation.level, escalation.clock),
        kind=TaskKind.COMPLAINT_ESCALATION,
        dealer_id=escalation.dealer_id,
        customer_id=escalation.customer_id,
        due_at=escalation.escalated_at.astimezone(UTC),
        assignee_role=role,
        assignee_id=escalation.to_staff_id,
        related=RecordRef(RecordKind.COMPLAINT, escalation.complaint_id),
        **staff_text(TaskKind.COMPLAINT_ESCALATION, level=escalation.level, clock=escalation.clock),
    )
