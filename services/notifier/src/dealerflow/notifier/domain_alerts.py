"""Pure rules the notifier's use cases add to the planners: what a watch timer does when
the watched task is still open, how tasks are titled, which channel reaches a customer,
how timer keys are built (and the timer kinds). No I/O, no clock.

Choices (documented for operators):
- a warning watch sends the watched task's *current* assignee a staff alert, no task;
- an escalation or reassign watch creates a task for the manager role, keyed by the
  watch's key (so it is created once) and therefore nested under the watched task's key:
  recording the watched task's outcome cancels it (it is moot then);
- a reassign watch that acts also publishes the watched task's TaskDue again, with
  ``breaches`` the dealer's ``reassign_after_breaches`` (:func:`breaches_at_watch`): leads
  reassigns the lead on it, and the LeadAssigned (reason ``sla_breach``) that follows
  gets a staff message to the previous and to the new consultant
  (:func:`breach_reassignment_alerts`); the manager's task stays, for a lead nobody else
  was on duty to take;
- there is no dedicated task kind for a first-contact escalation in the v1 catalogue, so
  it is published as kind ``other`` with a telling title;
- a complaint escalated to the OEM/region rung of a dealer whose ``people.oem_region``
  has a ``webhook_url`` gets its alert on channel ``oem_webhook``: the notification's
  body is the JSON document POSTed there (:func:`oem_escalation_alert`), built from the
  event's facts only (ids, level, clock, severity, times), never from the customer's
  contact: no name, phone or ID number, and not the customer id either (a UUIDv5 of the
  phone number, which anyone can recompute from a list of numbers);
- a customer message goes to the preferred channel when it can (phone and in-person map
  to SMS), else to the first of the dealer's fallback channels
  (``policy.contact.channel_order`` among ``policy.contact.channels``) that has an address
  and is not opted out; a preferred channel the dealer does not use counts as the first
  channel of ``channels``. When the message falls due the contact policy is asked again
  on each of them in turn (`domain_contact.first_open_channel`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from dealerflow.contracts.care_enums import TaskKind, TaskOutcome
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import (
    AssignmentReason,
    ContactChannel,
    ContactOutcome,
    MessageChannel,
)
from dealerflow.notifier.domain_task_texts import AlertText, alert_text, staff_text
from dealerflow.notifier.domain_types import (
    AlertKind,
    ComplaintEscalationFacts,
    PlannedAlert,
    PlannedTask,
    StaffRole,
)

ATTEMPT_MARK = ":attempt-"

# Timer kinds of the notifier (kind -> handler in dealerflow.notifier.timers).
TASK_DUE = "notifier.task_due"
TASK_WATCH = "notifier.task_watch"
REMINDER_SEND = "notifier.reminder_send"
STAFF_ALERT = "notifier.staff_alert"

#: Channel (``notifications.channel``) of the alerts POSTed to the dealer's OEM/region
#: webhook (``people.oem_region.webhook_url``); other staff alerts have ``staff``.
OEM_WEBHOOK_CHANNEL = "oem_webhook"


def timer_key(dealer_id: str, business_key: str) -> str:
    """Key of the durable timer behind a task, watch or reminder. Business keys are unique
    per dealer only, and a dealer id never contains ':'."""
    return f"{dealer_id}:{business_key}"


def alert_timer_key(notification_id: object) -> str:
    """Key of the durable timer that delivers a queued staff alert."""
    return f"alert:{notification_id}"


def dependents_prefix(business_key: str) -> str:
    """Keys of the items that exist for a task (its watches, its escalation tasks)."""
    return f"{business_key}:"


def root_key(business_key: str) -> str:
    """The first attempt's key of a retried task ("k:attempt-3" -> "k")."""
    return business_key.split(ATTEMPT_MARK, 1)[0]


def task_outcome_of_contact(outcome: ContactOutcome | str) -> TaskOutcome:
    """A lead contact attempt as a first-contact task outcome."""
    reached = {ContactOutcome.REACHED, ContactOutcome.CALLBACK_REQUESTED}
    return TaskOutcome.REACHED if ContactOutcome(outcome) in reached else TaskOutcome.UNREACHABLE


def plan_watch_task(alert: PlannedAlert, watched_due_at: datetime) -> PlannedTask | None:
    """The manager's task when an escalation/reassign watch fires on an open task (None for a
    warning, which is an alert only)."""
    if alert.kind is AlertKind.WARNING:
        return None
    record = f"{alert.related.kind.value} {alert.related.id}"
    if alert.kind is AlertKind.ESCALATION:
        text = staff_text(
            "other.first_contact_overdue", record=record, due_at=watched_due_at.isoformat()
        )
    else:
        text = staff_text("other.reassign_lead", record=record[:1].upper() + record[1:])
    return PlannedTask(
        key=alert.key,
        kind=TaskKind.OTHER,
        dealer_id=alert.dealer_id,
        customer_id=alert.customer_id,
        due_at=alert.fire_at,
        assignee_role=alert.recipient_role,
        assignee_id=alert.recipient_id,
        related=alert.related,
        **text,
    )


@dataclass(frozen=True, slots=True)
class StaffAlert:
    """A message to a staff member as written (an OEM webhook document); the others are
    an :class:`~dealerflow.notifier.domain_task_texts.AlertText` of the catalogue, written
    in the staff language when queued."""

    subject: str
    body: str


def watch_alert(alert_kind: AlertKind, watched_title: str, due_local: str) -> AlertText:
    """The staff message of a watch that fired on an open task (``due_local``: the watched
    task's due time in the dealer's local time)."""
    key = {
        AlertKind.WARNING: "alert.due_soon",
        AlertKind.ESCALATION: "alert.overdue",
    }.get(alert_kind, "alert.reassign")
    return alert_text(key, title=watched_title, due_at=due_local)


def breaches_at_watch(alert_kind: AlertKind, reassign_after_breaches: int) -> int | None:
    """The ``breaches`` of the TaskDue a watch that acted publishes again (None: none).

    Only the reassign watch does, with the dealer's count; when that count is 1 the watch
    fires at the due time, whose TaskDue (breaches 1) already says it.
    """
    if alert_kind is AlertKind.REASSIGN and reassign_after_breaches > 1:
        return reassign_after_breaches
    return None


@dataclass(frozen=True, slots=True)
class BreachReassignment:
    """A lead (re)assigned to ``consultant_id`` (LeadAssigned), with why."""

    dealer_id: str
    customer_id: uuid.UUID
    lead_id: str
    consultant_id: str
    previous_consultant_id: str | None
    reason: str  # an AssignmentReason value
    assigned_at: datetime


def breach_reassignment_alerts(moved: BreachReassignment) -> list[tuple[str, AlertText]]:
    """Who is told what when a lead was taken from its consultant after a missed first
    contact (reason ``sla_breach``): the previous consultant and the new one, as
    ``(recipient, alert)``; nobody for any other reassignment."""
    previous = moved.previous_consultant_id
    if moved.reason != AssignmentReason.SLA_BREACH.value or not previous:
        return []
    if previous == moved.consultant_id:
        return []
    lead, new = moved.lead_id, moved.consultant_id
    return [
        (previous, alert_text("alert.lead_reassigned_away", lead_id=lead, consultant=new)),
        (new, alert_text("alert.lead_reassigned_to_you", lead_id=lead, previous=previous)),
    ]


def escalation_alert(complaint_id: str, level: int, clock: str, severity: str) -> AlertText:
    """The staff message to the manager a complaint was escalated to."""
    return alert_text(
        "alert.complaint_escalated",
        complaint_id=complaint_id,
        level=level,
        clock=clock,
        severity=severity,
    )


def goes_to_oem_webhook(escalation: ComplaintEscalationFacts, webhook_url: str | None) -> bool:
    """Whether the escalation's alert is POSTed to the OEM/region webhook (the OEM/region
    rung of a dealer that configured one) instead of the staff channel."""
    return escalation.role == StaffRole.OEM_REGION.value and bool(webhook_url)


def oem_escalation_alert(
    escalation: ComplaintEscalationFacts, severity: str, dealer_name: str
) -> StaffAlert:
    """The alert of an OEM/region escalation as a webhook document (``body``: its JSON):
    ``type`` "complaint_escalated", ``complaint_id``, ``dealer_id``, ``dealer_name``,
    ``level``, ``role``, ``reason`` ("<clock>_deadline_missed"), ``clock``, ``severity``,
    ``due_at`` (the missed deadline, UTC; null if unknown), ``escalated_at`` and a
    customer-safe ``summary``."""
    summary = (
        f"{severity.capitalize()} complaint {escalation.complaint_id} at {dealer_name} "
        f"missed its {escalation.clock} deadline and is escalated to the OEM/region "
        f"(level {escalation.level})."
    )
    document = {
        "type": "complaint_escalated",
        "complaint_id": escalation.complaint_id,
        "dealer_id": escalation.dealer_id,
        "dealer_name": dealer_name,
        "level": escalation.level,
        "role": escalation.role,
        "reason": f"{escalation.clock}_deadline_missed",
        "clock": escalation.clock,
        "severity": severity,
        "due_at": _utc(escalation.due_at),
        "escalated_at": _utc(escalation.escalated_at),
        "summary": summary,
    }
    return StaffAlert(
        subject=f"Complaint {escalation.complaint_id} escalated to the OEM/region",
        body=json.dumps(document, ensure_ascii=False, sort_keys=True),
    )


def _utc(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z") if at is not None else None


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


def channel_candidates(
    contact: ContactSnapshot, enabled: Sequence[str], order: Sequence[str] | None = None
) -> list[MessageChannel]:
    """The channels to try for the customer, in turn: the preferred one (a channel the
    dealer does not use counts as the first of ``enabled``), then the others of ``order``
    (``policy.contact.channel_order``; None: ``enabled`` as listed) the dealer uses."""
    dealer_channels = [MessageChannel(c) for c in enabled]
    preferred = _PREFERRED[contact.preferred_channel]
    if preferred not in dealer_channels:
        preferred = dealer_channels[0]
    then = [MessageChannel(c) for c in (enabled if order is None else order)]
    others = [c for c in then if c in dealer_channels and c is not preferred]
    return [preferred, *dict.fromkeys(others)]


def choose_channel(
    contact: ContactSnapshot, enabled: Sequence[str], order: Sequence[str] | None = None
) -> MessageChannel:
    """The channel to reach the customer on among the dealer's ``enabled`` channels (see
    the module docstring and :func:`channel_candidates`) as far as the contact snapshot
    tells: the first not opted out that has an address. When none is usable the preferred
    one is returned, so the contact policy names the reason (opt-out, no address)."""
    candidates = channel_candidates(contact, enabled, order)
    for channel in candidates:
        if channel not in contact.consent.opted_out_channels and address_for(contact, channel):
            return channel
    return candidates[0]
