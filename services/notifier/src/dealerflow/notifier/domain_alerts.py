"""Pure rules the notifier's use cases add to the planners: what a watch timer does when
the watched task is still open, how tasks are titled, which channel reaches a customer,
how timer keys are built (and the timer kinds). No I/O, no clock.

Choices (documented for operators):
- a warning watch sends the watched task's *current* assignee a staff alert, no task;
- an escalation or reassign watch creates a task for the manager role, keyed by the
  watch's key (so it is created once) and therefore nested under the watched task's key:
  recording the watched task's outcome cancels it (it is moot then);
- there is no dedicated task kind for a first-contact escalation in the v1 catalogue, so
  it is published as kind ``other`` with a telling title;
- a customer message goes to the preferred channel when it can (phone and in-person map
  to SMS), else to the first of the dealer's channels (``policy.contact.channels``, in
  its order) that has an address and is not opted out; a preferred channel the dealer
  does not use counts as the first channel of that list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dealerflow.contracts.care_enums import TaskKind, TaskOutcome
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import ContactChannel, ContactOutcome, MessageChannel
from dealerflow.notifier.domain_types import AlertKind, PlannedAlert, PlannedTask, RecordRef

ATTEMPT_MARK = ":attempt-"

# Timer kinds of the notifier (kind -> handler in dealerflow.notifier.timers).
TASK_DUE = "notifier.task_due"
TASK_WATCH = "notifier.task_watch"
REMINDER_SEND = "notifier.reminder_send"
STAFF_ALERT = "notifier.staff_alert"

_TITLES: dict[TaskKind, str] = {
    TaskKind.LEAD_FIRST_CONTACT: "First contact",
    TaskKind.LEAD_FOLLOW_UP: "Lead follow-up",
    TaskKind.LEAD_REGRADE: "Re-grade lead",
    TaskKind.DELIVERY_CALLBACK: "24 h delivery callback",
    TaskKind.SATISFACTION_CALLBACK: "7-day satisfaction callback",
    TaskKind.SERVICE_CALLBACK: "Service follow-up callback",
    TaskKind.DECLINED_REPAIR_FOLLOW_UP: "Declined repair follow-up",
    TaskKind.COMPLAINT_ESCALATION: "Complaint escalated",
}


def timer_key(dealer_id: str, business_key: str) -> str:
    """Key of the durable timer behind a task, watch or reminder. Business keys are unique
    per dealer only, and a dealer id never contains ':'."""
    return f"{dealer_id}:{business_key}"


def dependents_prefix(business_key: str) -> str:
    """Keys of the items that exist for a task (its watches, its escalation tasks)."""
    return f"{business_key}:"


def root_key(business_key: str) -> str:
    """The first attempt's key of a retried task ("k:attempt-3" -> "k")."""
    return business_key.split(ATTEMPT_MARK, 1)[0]


def task_title(kind: TaskKind | str, related: RecordRef | None) -> str:
    """A short title for the task list."""
    try:
        base = _TITLES.get(TaskKind(kind), TaskKind(kind).value.replace("_", " ").capitalize())
    except ValueError:
        base = str(kind).replace("_", " ").capitalize()
    return f"{base}: {related.kind.value} {related.id}" if related is not None else base


def task_outcome_of_contact(outcome: ContactOutcome | str) -> TaskOutcome:
    """A lead contact attempt as a first-contact task outcome."""
    reached = {ContactOutcome.REACHED, ContactOutcome.CALLBACK_REQUESTED}
    return TaskOutcome.REACHED if ContactOutcome(outcome) in reached else TaskOutcome.UNREACHABLE


def plan_watch_task(alert: PlannedAlert, watched_due_at: datetime) -> PlannedTask | None:
    """The manager's task when an escalation/reassign watch fires on an open task (None for a
    warning, which is an alert only)."""
    if alert.kind is AlertKind.WARNING:
        return None
    if alert.kind is AlertKind.ESCALATION:
        script = (
            f"The first contact of {alert.related.kind.value} {alert.related.id} was due "
            f"at {watched_due_at.isoformat()} and is not recorded: make sure it happens now."
        )
    else:
        script = (
            f"{alert.related.kind.value.capitalize()} {alert.related.id} missed its first-contact "
            "SLA again: reassign it to another consultant."
        )
    title = {
        AlertKind.ESCALATION: "First contact overdue",
        AlertKind.REASSIGN: "Reassign lead: first contact missed again",
    }[alert.kind]
    return PlannedTask(
        key=alert.key,
        kind=TaskKind.OTHER,
        dealer_id=alert.dealer_id,
        customer_id=alert.customer_id,
        due_at=alert.fire_at,
        assignee_role=alert.recipient_role,
        assignee_id=alert.recipient_id,
        related=alert.related,
        script=f"{title}. {script}",
    )


@dataclass(frozen=True, slots=True)
class StaffAlert:
    """A message to a staff member."""

    subject: str
    body: str


def watch_alert(alert_kind: AlertKind, watched_title: str, due_local: str) -> StaffAlert:
    """The staff message of a watch that fired on an open task (``due_local``: the watched
    task's due time in the dealer's local time)."""
    if alert_kind is AlertKind.WARNING:
        return StaffAlert(
            subject=f"Due soon: {watched_title}",
            body=f"{watched_title} is due at {due_local}. Record the outcome before then.",
        )
    if alert_kind is AlertKind.ESCALATION:
        return StaffAlert(
            subject=f"Overdue: {watched_title}",
            body=f"{watched_title} was due at {due_local} and has no outcome yet.",
        )
    return StaffAlert(
        subject=f"Reassign: {watched_title}",
        body=f"{watched_title} (due {due_local}) is still open: reassign it.",
    )


def escalation_alert(complaint_id: str, level: int, clock: str, severity: str) -> StaffAlert:
    """The staff message to the manager a complaint was escalated to."""
    return StaffAlert(
        subject=f"Complaint {complaint_id} escalated to you (level {level})",
        body=(
            f"The {clock} deadline of {severity} complaint {complaint_id} was missed. "
            "Take charge and contact the customer."
        ),
    )


_PREFERRED: dict[ContactChannel, MessageChannel] = {
    ContactChannel.PHONE: MessageChannel.SMS,
    ContactChannel.SMS: MessageChannel.SMS,
    ContactChannel.IN_PERSON: MessageChannel.SMS,
    ContactChannel.WECHAT: MessageChannel.WECHAT,
    ContactChannel.EMAIL: MessageChannel.EMAIL,
}


def address_for(contact: ContactSnapshot, channel: MessageChannel) -> str | None:
    """The customer's address on ``channel`` (None if unknown)."""
    if channel is MessageChannel.SMS:
        return contact.phone
    if channel is MessageChannel.WECHAT:
        return contact.wechat_openid
    if channel is MessageChannel.EMAIL:
        return contact.email
    return None


def choose_channel(contact: ContactSnapshot, enabled: Sequence[str]) -> MessageChannel:
    """The channel to reach the customer on among the dealer's ``enabled`` channels (see
    the module docstring). When none is usable the preferred one is returned, so the
    contact policy names the reason (opt-out, no address)."""
    dealer_channels = [MessageChannel(c) for c in enabled]
    preferred = _PREFERRED[contact.preferred_channel]
    if preferred not in dealer_channels:
        preferred = dealer_channels[0]
    candidates = [preferred] + [c for c in dealer_channels if c is not preferred]
    for channel in candidates:
        if channel not in contact.consent.opted_out_channels and address_for(contact, channel):
            return channel
    return preferred
