"""Use cases of staff tasks and the reactions to other contexts' events.

Each takes an :class:`~dealerflow.notifier.effects.Effects` bound to one transaction and
plain data (facts mapped from events by the consumers, or request fields), calls the pure
planners in ``domain*`` and the repository, and publishes events through the outbox. A
task is always created together with its durable timer (key = dealer id + business key)
and a ``TaskScheduled``; re-planning the same business key is a no-op, which makes
redelivered or repeated events harmless.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from dealerflow.contracts.care_enums import RecordKind, TaskCancelReason, TaskKind, TaskOutcome
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import ContactOutcome
from dealerflow.notifier import domain
from dealerflow.notifier import repository as repo
from dealerflow.notifier.domain import (
    AlertKind,
    ComplaintEscalationFacts,
    DeliveryFacts,
    HandoverFacts,
    LeadFacts,
    PlannedAlert,
    PlannedItem,
    PlannedReminder,
    PlannedTask,
    RecordRef,
    StaffRole,
    TaskRuleError,
    TaskStatus,
)
from dealerflow.notifier.domain_alerts import (
    escalation_alert,
    plan_watch_task,
    root_key,
    task_outcome_of_contact,
    timer_key,
    watch_alert,
)
from dealerflow.notifier.effects import TASK_WATCH, Effects
from dealerflow.notifier.usecases_alerts import queue_staff_alert
from dealerflow.notifier.usecases_messages import schedule_reminder
from dealerflow.notifier.usecases_tasks import (
    TaskConflict,
    TaskNotFound,
    cancel_tasks_about,
    lock_task,
    record_outcome,
    schedule_task,
)
from dealerflow.policy import BusinessCalendar
from dealerflow.runtime import timers

__all__ = [
    "TaskConflict",
    "TaskNotFound",
    "TaskRuleError",
    "apply_plan",
    "complete_task",
    "fire_watch",
    "on_complaint_escalated",
    "on_complaint_finished",
    "on_lead_assigned",
    "on_lead_closed",
    "on_lead_contacted",
    "on_lead_created",
    "on_vehicle_delivered",
    "on_vehicle_handed_over",
    "remember_contact",
]


def _alert_payload(alert: PlannedAlert) -> dict[str, Any]:
    return {
        "key": alert.key,
        "kind": alert.kind.value,
        "customer_id": str(alert.customer_id),
        "fire_at": alert.fire_at.isoformat(),
        "recipient_role": alert.recipient_role.value,
        "recipient_id": alert.recipient_id,
        "watches": alert.watches,
        "related_kind": alert.related.kind.value,
        "related_id": alert.related.id,
    }


def _alert_from(dealer_id: str, payload: Mapping[str, Any]) -> PlannedAlert:
    return PlannedAlert(
        key=str(payload["key"]),
        kind=AlertKind(payload["kind"]),
        dealer_id=dealer_id,
        customer_id=uuid.UUID(str(payload["customer_id"])),
        fire_at=datetime.fromisoformat(str(payload["fire_at"])),
        recipient_role=StaffRole(payload["recipient_role"]),
        recipient_id=payload.get("recipient_id"),
        watches=str(payload["watches"]),
        related=RecordRef(RecordKind(payload["related_kind"]), str(payload["related_id"])),
    )


async def apply_plan(
    fx: Effects, items: Sequence[PlannedItem], contact: ContactSnapshot | None
) -> None:
    """Schedule what a planner returned: tasks, watch timers, customer reminders.

    Watches are armed only together with the task they watch: a repeated event (an outside
    producer may publish the same fact under a new id) must not re-arm a watch that fired.
    """
    created: set[str] = set()
    for item in items:
        if isinstance(item, PlannedTask):
            if await schedule_task(fx, item) is not None:
                created.add(item.key)
        elif isinstance(item, PlannedAlert) and item.watches in created:
            await timers.schedule(
                fx.conn,
                key=timer_key(item.dealer_id, item.key),
                kind=TASK_WATCH,
                dealer_id=item.dealer_id,
                due_at=item.fire_at,
                payload=_alert_payload(item),
            )
        elif isinstance(item, PlannedReminder):
            await schedule_reminder(fx, item, contact)


async def remember_contact(
    fx: Effects,
    dealer_id: str,
    customer_id: uuid.UUID,
    contact: ContactSnapshot | None,
    as_of: datetime,
) -> None:
    """Keep the newest contact snapshot for messages sent later."""
    if contact is not None:
        await repo.upsert_contact(
            fx.conn, dealer_id, customer_id, contact.model_dump(mode="json"), as_of
        )


# -- reactions ------------------------------------------------------------------------------


async def on_lead_created(fx: Effects, lead: LeadFacts, contact: ContactSnapshot | None) -> None:
    """First-contact task per the channel's SLA, its watches and the thank-you message."""
    await remember_contact(fx, lead.dealer_id, lead.customer_id, contact, lead.created_at)
    policy = await fx.policy(lead.dealer_id)
    await apply_plan(fx, domain.plan_first_contact(lead, policy, fx.now()), contact)


def first_contact_key(lead_id: str) -> str:
    """Business key of a lead's first-contact task."""
    return f"lead:{lead_id}:first-contact"


async def on_lead_contacted(
    fx: Effects,
    *,
    dealer_id: str,
    lead_id: str,
    consultant_id: str,
    outcome: ContactOutcome | str,
    contacted_at: datetime,
) -> repo.TaskRow | None:
    """A recorded contact closes the open first-contact task (and stops its watches)."""
    task = await lock_task(fx, dealer_id, key=first_contact_key(lead_id))
    if task is None or not task.is_open:
        return None
    return await record_outcome(
        fx,
        task,
        outcome=task_outcome_of_contact(outcome),
        note="First contact recorded in the lead's contact log.",
        completed_by=consultant_id,
        completed_at=contacted_at.astimezone(UTC),
        completion_key=None,
    )


async def on_lead_assigned(
    fx: Effects, *, dealer_id: str, lead_id: str, consultant_id: str
) -> None:
    """A (re)assigned lead's open first-contact task follows the lead."""
    await repo.reassign_open_task(
        fx.conn, dealer_id, first_contact_key(lead_id), consultant_id, fx.now()
    )


async def on_vehicle_delivered(
    fx: Effects, delivery: DeliveryFacts, contact: ContactSnapshot | None
) -> None:
    """24 h callback, 7-day satisfaction callback, first-maintenance and insurance reminders."""
    await remember_contact(
        fx, delivery.dealer_id, delivery.customer_id, contact, delivery.delivered_at
    )
    policy = await fx.policy(delivery.dealer_id)
    await apply_plan(fx, domain.plan_owner_care(delivery, policy), contact)


async def on_vehicle_handed_over(
    fx: Effects, handover: HandoverFacts, contact: ContactSnapshot | None
) -> None:
    """The advisor's follow-up callback 3 days after the handover."""
    await remember_contact(
        fx, handover.dealer_id, handover.customer_id, contact, handover.handed_over_at
    )
    policy = await fx.policy(handover.dealer_id)
    await apply_plan(fx, [domain.plan_service_followup(handover, policy)], contact)


async def on_complaint_escalated(
    fx: Effects, escalation: ComplaintEscalationFacts, severity: str
) -> None:
    """An alert task for the manager of the level, and a staff message to them."""
    planned = domain.plan_complaint_escalation_alert(escalation)
    task = await schedule_task(fx, planned)
    if task is None:
        return
    await queue_staff_alert(
        fx,
        dealer_id=task.dealer_id,
        customer_id=task.customer_id,
        recipient=task.assignee,
        business_key=task.business_key,
        kind="complaint_escalation",
        alert=escalation_alert(
            escalation.complaint_id, escalation.level, escalation.clock, severity
        ),
        related=planned.related,
    )


async def on_complaint_finished(fx: Effects, *, dealer_id: str, complaint_id: str) -> None:
    """A resolved or closed complaint needs no more alerts: cancel its open tasks/timers."""
    await timers.cancel_prefix(fx.conn, timer_key(dealer_id, f"complaint:{complaint_id}:"))
    await cancel_tasks_about(
        fx,
        dealer_id,
        (RecordKind.COMPLAINT.value, complaint_id),
        TaskCancelReason.NO_LONGER_NEEDED,
    )


async def on_lead_closed(fx: Effects, *, dealer_id: str, lead_id: str) -> None:
    """A lost or converted lead needs no first contact any more: its open tasks go."""
    await cancel_tasks_about(
        fx, dealer_id, (RecordKind.LEAD.value, lead_id), TaskCancelReason.LEAD_CLOSED
    )


# -- completing tasks -----------------------------------------------------------------------


async def complete_task(
    fx: Effects,
    *,
    dealer_id: str,
    task_id: uuid.UUID,
    outcome: TaskOutcome,
    note: str | None,
    completed_by: str | None,
    idempotency_key: str | None = None,
) -> repo.TaskRow:
    """Record a task's outcome (POST /v1/tasks/{id}/complete).

    Raises TaskNotFound, TaskConflict (not open; a retry with the same Idempotency-Key gets
    the completed task instead) or TaskRuleError (e.g. dissatisfied without a note).
    """
    task = await lock_task(fx, dealer_id, task_id=task_id)
    if task is None:
        raise TaskNotFound(f"no task {task_id} at dealer {dealer_id}")
    if not task.is_open:
        if idempotency_key is not None and task.completion_key == idempotency_key:
            return task
        raise TaskConflict(f"task {task_id} is already {task.status}")
    domain.complete_task(TaskStatus.OPEN, outcome, note)
    done = await record_outcome(
        fx,
        task,
        outcome=outcome,
        note=note,
        completed_by=completed_by or task.assignee,
        completed_at=fx.now(),
        completion_key=idempotency_key,
    )
    if domain.needs_retry(outcome) and done.kind == TaskKind.SERVICE_CALLBACK.value:
        await _retry_unreachable(fx, done)
    return done


async def _retry_unreachable(fx: Effects, task: repo.TaskRow) -> None:
    """Service callbacks: try again next business day; after N unreachable days, a message."""
    root = root_key(task.business_key)
    root_task = await repo.get_task_by_key(fx.conn, task.dealer_id, root) or task
    policy = await fx.policy(task.dealer_id)
    attempts = await repo.attempt_outcomes(fx.conn, task.dealer_id, root)
    days = domain.consecutive_unreachable_days(attempts, BusinessCalendar(policy))
    original = PlannedTask(
        key=root,
        kind=TaskKind(root_task.kind),
        dealer_id=root_task.dealer_id,
        customer_id=root_task.customer_id,
        due_at=root_task.due_at,
        assignee_role=StaffRole(root_task.assignee_role),
        assignee_id=root_task.assignee,
        related=RecordRef(
            RecordKind(root_task.related_kind or "customer"),
            root_task.related_id or str(root_task.customer_id),
        ),
        script=root_task.script or "",
    )
    follow_up = domain.plan_unreachable_retry(original, days, fx.now(), policy)
    contact_data = await repo.get_contact(fx.conn, task.dealer_id, task.customer_id)
    contact = ContactSnapshot.model_validate(contact_data) if contact_data else None
    await apply_plan(fx, [follow_up], contact)


async def fire_watch(fx: Effects, dealer_id: str, payload: Mapping[str, Any]) -> None:
    """A warning/escalation/reassign watch fired: act only if the watched task is open."""
    alert = _alert_from(dealer_id, payload)
    watched = await repo.get_task_by_key(fx.conn, dealer_id, alert.watches)
    if watched is None or not watched.is_open:
        return
    policy = await fx.policy(dealer_id)
    due_local = BusinessCalendar(policy).local(watched.due_at).strftime("%Y-%m-%d %H:%M")
    recipient = watched.assignee
    planned = plan_watch_task(alert, watched.due_at)
    if planned is not None:
        title = "First contact overdue" if alert.kind is AlertKind.ESCALATION else "Reassign lead"
        task = await schedule_task(
            fx, planned, title=f"{title}: {alert.related.kind.value} {alert.related.id}"
        )
        if task is None:
            return  # this watch already acted
        recipient = task.assignee
    await queue_staff_alert(
        fx,
        dealer_id=dealer_id,
        customer_id=watched.customer_id,
        recipient=recipient,
        business_key=alert.key,
        kind=f"first_contact_{alert.kind.value}",
        alert=watch_alert(alert.kind, watched.title, due_local),
        related=alert.related,
    )
