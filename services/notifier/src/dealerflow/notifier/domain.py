"""Notifier rules: which staff tasks, customer reminders and alerts an event causes.

Pure planners: they take plain facts (mapped from an event by the consumer), a dealer's
`DealerPolicy` and, where it matters, the current time, and return what to schedule. They
never read a clock or a database. Every planned item has a stable business `key`, so the
same event planned twice yields the same keys and the timer store dedupes on them.

Choices DOMAIN.md leaves open (documented for the services):
- the walk-in/phone thank-you message is planned at the end of its 2-hour window (the
  customer has left the showroom by then), moved out of quiet hours;
- the n-th first-contact breach is the end of the n-th SLA period, each counted like the
  SLA itself; the reassignment watch fires at breach number `reassign_after_breaches`;
- the 7-day satisfaction callback goes to customer relations, not to the consultant who
  sold the car, so the answer is not coloured by who asks;
- date-based items (insurance, declined repair items) are planned at
  `contact.reminder_send_time` (10:00 local) on their day;
- appointment reminder keys contain the appointment's start time: a rescheduled
  appointment gets new keys; cancel the old ones with `appointment_reminder_keys` for the
  previous start (AppointmentRescheduled carries it) or all of them by
  `appointment_reminders_prefix` (``"<record kind>:<id>:reminder-"``);
- a lead's follow-up keys contain what their due time derives from (the grading, the
  contact or re-engagement counted from, the contact that agreed a date): a re-plan
  cancels the open tasks under `grade_follow_up_prefixes` that its own plan does not
  contain (`plan_follow_up`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from dealerflow.contracts.care_enums import RecordKind, ReminderKind, TaskKind
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.notifier.domain_contact import SendDecision, SendVerdict, decide_send
from dealerflow.notifier.domain_deliveries import record_of_delivered_car
from dealerflow.notifier.domain_leads import (
    appointment_reminder_keys,
    appointment_reminder_kind,
    appointment_reminders_prefix,
    first_contact_key,
    first_contact_watch_keys,
    grade_follow_up_prefixes,
    plan_appointment_reminders,
    plan_first_contact,
    plan_follow_up,
)
from dealerflow.notifier.domain_task_texts import staff_text
from dealerflow.notifier.domain_tasks import (
    TaskRuleError,
    TaskStatus,
    complete_task,
    consecutive_unreachable_days,
    is_dissatisfied,
    needs_retry,
)
from dealerflow.notifier.domain_templates import (
    MissingTemplateParams,
    RenderedMessage,
    render_message,
    template_params,
)
from dealerflow.notifier.domain_types import (
    AlertKind,
    AppointmentFacts,
    ComplaintEscalationFacts,
    ComplaintFinishedFacts,
    DeclinedItemFacts,
    DeliveryFacts,
    HandoverFacts,
    LeadAssignmentFacts,
    LeadClosedFacts,
    LeadContactFacts,
    LeadFacts,
    LeadGradeFacts,
    PlannedAlert,
    PlannedItem,
    PlannedReminder,
    PlannedTask,
    RecordRef,
    StaffRole,
)
from dealerflow.policy import BusinessCalendar, DealerPolicy, add_months

__all__ = [
    "AlertKind",
    "AppointmentFacts",
    "ComplaintEscalationFacts",
    "ComplaintFinishedFacts",
    "DeclinedItemFacts",
    "DeliveryFacts",
    "HandoverFacts",
    "LeadAssignmentFacts",
    "LeadClosedFacts",
    "LeadContactFacts",
    "LeadFacts",
    "LeadGradeFacts",
    "MissingTemplateParams",
    "PlannedAlert",
    "PlannedItem",
    "PlannedReminder",
    "PlannedTask",
    "RecordRef",
    "RenderedMessage",
    "SendDecision",
    "SendVerdict",
    "StaffRole",
    "TaskRuleError",
    "TaskStatus",
    "appointment_reminder_keys",
    "appointment_reminder_kind",
    "appointment_reminders_prefix",
    "complete_task",
    "consecutive_unreachable_days",
    "decide_send",
    "first_contact_key",
    "first_contact_watch_keys",
    "grade_follow_up_prefixes",
    "is_dissatisfied",
    "needs_retry",
    "next_insurance_renewal",
    "plan_appointment_reminders",
    "plan_declined_item_followup",
    "plan_first_contact",
    "plan_follow_up",
    "plan_owner_care",
    "plan_service_followup",
    "plan_unreachable_retry",
    "render_message",
    "template_params",
]


def _on_day(calendar: BusinessCalendar, day: date) -> datetime:
    """The planned instant of a date-based item: reminder time on that local date."""
    return calendar.next_allowed_send_time(
        calendar.at_local(day, calendar.policy.contact.reminder_send_time)
    )


# -- owner care and service ----------------------------------------------------------------


def plan_owner_care(delivery: DeliveryFacts, policy: DealerPolicy) -> list[PlannedItem]:
    """Consultant callback at 24 h, satisfaction callback at 7 days and the
    insurance-renewal reminder (see the module docstring for the timing choices; about
    the contract when the delivery names one, so that its cancellation withdraws it). The
    first maintenance is service-center's calendar: its MaintenanceDue brings the
    reminder (`usecases_maintenance`)."""
    calendar = BusinessCalendar(policy)
    care = policy.owner_care
    delivered_at = delivery.delivered_at.astimezone(UTC)
    related = RecordRef(RecordKind.DELIVERY, delivery.delivery_id)
    base = f"delivery:{delivery.delivery_id}"

    insured_from = delivery.insurance_start or calendar.local(delivered_at).date()
    anniversary = add_months(insured_from, 12)
    renewal_at = _on_day(calendar, anniversary - care.insurance_renewal_remind_before)

    def reminder(key: str, kind: ReminderKind, at: datetime, **params: str) -> PlannedReminder:
        return PlannedReminder(
            key=key,
            kind=kind,
            dealer_id=delivery.dealer_id,
            customer_id=delivery.customer_id,
            send_at=at,
            purpose=ConsentPurpose.SERVICE,
            related=record_of_delivered_car(delivery),
            params=params,
        )

    return [
        PlannedTask(
            key=f"{base}:callback-24h",
            kind=TaskKind.DELIVERY_CALLBACK,
            dealer_id=delivery.dealer_id,
            customer_id=delivery.customer_id,
            due_at=delivered_at + care.callback_after_delivery,
            assignee_role=StaffRole.CONSULTANT,
            assignee_id=delivery.consultant_id,
            related=related,
            **staff_text(TaskKind.DELIVERY_CALLBACK),
        ),
        PlannedTask(
            key=f"{base}:satisfaction-7d",
            kind=TaskKind.SATISFACTION_CALLBACK,
            dealer_id=delivery.dealer_id,
            customer_id=delivery.customer_id,
            due_at=delivered_at + care.satisfaction_after_delivery,
            assignee_role=StaffRole.CUSTOMER_RELATIONS,
            assignee_id=None,
            related=related,
            **staff_text(TaskKind.SATISFACTION_CALLBACK),
        ),
        reminder(
            f"{base}:insurance-renewal-1y",
            ReminderKind.INSURANCE_RENEWAL,
            renewal_at,
            renewal_date=anniversary.isoformat(),
        ),
    ]


def next_insurance_renewal(
    current: PlannedReminder, policy: DealerPolicy
) -> PlannedReminder | None:
    """The following year's insurance-renewal reminder, planned when this year's falls
    due (so the reminder comes every year, not only after the first): the renewal date a
    year later, the key's year count one up (``...:insurance-renewal-2y``), the same
    record and purpose. None for a reminder of another kind or without a renewal date."""
    renewal = current.params.get("renewal_date")
    head, sep, years = current.key.rpartition(":insurance-renewal-")
    if current.kind is not ReminderKind.INSURANCE_RENEWAL or renewal is None or not sep:
        return None
    count = int(years.removesuffix("y")) if years.removesuffix("y").isdigit() else 1
    anniversary = add_months(date.fromisoformat(renewal), 12)
    send_at = _on_day(
        BusinessCalendar(policy), anniversary - policy.owner_care.insurance_renewal_remind_before
    )
    return PlannedReminder(
        key=f"{head}{sep}{count + 1}y",
        kind=ReminderKind.INSURANCE_RENEWAL,
        dealer_id=current.dealer_id,
        customer_id=current.customer_id,
        send_at=send_at,
        purpose=current.purpose,
        related=current.related,
        params={**current.params, "renewal_date": anniversary.isoformat()},
    )


def plan_service_followup(handover: HandoverFacts, policy: DealerPolicy) -> PlannedTask:
    """The advisor's callback 3 days (per policy) after the vehicle was handed over."""
    return PlannedTask(
        key=f"repair-order:{handover.repair_order_id}:callback-3d",
        kind=TaskKind.SERVICE_CALLBACK,
        dealer_id=handover.dealer_id,
        customer_id=handover.customer_id,
        due_at=handover.handed_over_at.astimezone(UTC) + policy.service.followup_after_handover,
        assignee_role=StaffRole.ADVISOR,
        assignee_id=handover.advisor_id,
        related=RecordRef(RecordKind.REPAIR_ORDER, handover.repair_order_id),
        **staff_text(TaskKind.SERVICE_CALLBACK),
    )


def plan_unreachable_retry(
    original: PlannedTask, unreachable_days: int, now: datetime, policy: DealerPolicy
) -> PlannedTask | PlannedReminder:
    """After an unreachable outcome: another attempt on the next business day, or, once the
    customer was unreachable on `unreachable_days_before_message` days, a message instead.

    `unreachable_days` comes from `consecutive_unreachable_days` (including today's).
    """
    calendar = BusinessCalendar(policy)
    if unreachable_days >= policy.service.unreachable_days_before_message:
        return PlannedReminder(
            key=f"{original.key}:message-fallback",
            kind=ReminderKind.SERVICE_FOLLOW_UP,
            dealer_id=original.dealer_id,
            customer_id=original.customer_id,
            send_at=calendar.next_allowed_send_time(now),
            purpose=ConsentPurpose.SERVICE,
            related=original.related,
        )
    return PlannedTask(
        key=f"{original.key}:attempt-{unreachable_days + 1}",
        kind=original.kind,
        dealer_id=original.dealer_id,
        customer_id=original.customer_id,
        due_at=calendar.add_business_days(now, 1),
        assignee_role=original.assignee_role,
        assignee_id=original.assignee_id,
        related=original.related,
        **staff_text("attempt", attempt=unreachable_days + 1, script=original.script),
    )


def plan_declined_item_followup(item: DeclinedItemFacts, policy: DealerPolicy) -> PlannedTask:
    """The advisor's follow-up of a declined repair item (default 30 days later)."""
    calendar = BusinessCalendar(policy)
    follow_up_on = item.follow_up_on or (
        calendar.local(item.declined_at + policy.service.declined_item_followup_after).date()
    )
    return PlannedTask(
        key=f"repair-order:{item.repair_order_id}:declined:{item.item_id}:follow-up",
        kind=TaskKind.DECLINED_REPAIR_FOLLOW_UP,
        dealer_id=item.dealer_id,
        customer_id=item.customer_id,
        due_at=_on_day(calendar, follow_up_on),
        assignee_role=StaffRole.ADVISOR,
        assignee_id=item.advisor_id,
        related=RecordRef(RecordKind.REPAIR_ORDER, item.repair_order_id),
        **staff_text(TaskKind.DECLINED_REPAIR_FOLLOW_UP, item=item.item_description),
    )
