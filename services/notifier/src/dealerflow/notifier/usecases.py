"""Use cases of staff tasks and the reactions to other contexts' events.

Each takes the ``UseCaseContext`` of one transaction (``uc``) and plain data (facts mapped
from events by the consumers, or a command), calls the pure planners in ``domain*`` and
the repository, and publishes events through the outbox. A task is always created
together with its durable timer (key = dealer id + business key) and a ``TaskScheduled``;
re-planning the same business key is a no-op, which makes redelivered or repeated events
harmless.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from dealerflow.contracts.care_enums import RecordKind, TaskKind, TaskOutcome
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.notifier import domain, usecases_surveys
from dealerflow.notifier import repository as repo
from dealerflow.notifier.domain import (
    AlertKind,
    DeclinedItemFacts,
    DeliveryFacts,
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
    TASK_WATCH,
    plan_watch_task,
    root_key,
    timer_key,
    watch_alert,
)
from dealerflow.notifier.domain_calendar import is_off
from dealerflow.notifier.domain_surveys import without_satisfaction_callback
from dealerflow.notifier.domain_task_actions import count_unreachable, plan_unreachable_follow_up
from dealerflow.notifier.records import TaskRow
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases_alerts import queue_staff_alert, report_breach
from dealerflow.notifier.usecases_messages import ReminderToCreate, schedule_reminders
from dealerflow.notifier.usecases_task_actions import record_unreachable_attempts
from dealerflow.notifier.usecases_tasks import (
    TaskConflict,
    TaskNotFound,
    TaskToCreate,
    check_own,
    lock_task,
    record_outcome,
    schedule_task,
    schedule_tasks,
    task_of,
)
from dealerflow.policy import BusinessCalendar
from dealerflow.runtime import idempotency
from dealerflow.runtime.batches import rounds
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.timers import NewTimer

__all__ = [
    "CompleteTask",
    "Plan",
    "TaskConflict",
    "TaskNotFound",
    "TaskRuleError",
    "apply_plan",
    "apply_plans",
    "complete_task",
    "fire_watch",
    "on_repair_item_declined",
    "owner_care",
    "remember_contact",
    "remember_contacts",
    "rounds_by_customer",
]


Uc = UseCaseContext[NotifierSettings]
T = TypeVar("T")


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


@dataclass(frozen=True, slots=True)
class Plan:
    """What a planner returned for one event (or request), to apply in its context."""

    uc: Uc
    items: Sequence[PlannedItem]
    contact: ContactSnapshot | None


async def apply_plan(uc: Uc, items: Sequence[PlannedItem], contact: ContactSnapshot | None) -> None:
    """Schedule what a planner returned: tasks, watch timers, customer reminders
    (`apply_plans` of one)."""
    await apply_plans([Plan(uc, items, contact)])


async def apply_plans(plans: Sequence[Plan]) -> None:
    """Schedule what planners returned, each plan in its own context: tasks, watch timers,
    customer reminders, with one statement per table for all of them.

    Watches are armed only together with the task they watch, created by the same plan: a
    repeated event (an outside producer may publish the same fact under a new id) must not
    re-arm a watch that fired.
    """
    if not plans:
        return
    tasks = [
        (n, item) for n, p in enumerate(plans) for item in p.items if isinstance(item, PlannedTask)
    ]
    rows = await schedule_tasks([TaskToCreate(plans[n].uc, task) for n, task in tasks])
    created = {(n, task.key) for (n, task), row in zip(tasks, rows, strict=True) if row is not None}
    await plans[0].uc.schedule_timers(
        [
            NewTimer(
                key=timer_key(item.dealer_id, item.key),
                kind=TASK_WATCH,
                dealer_id=item.dealer_id,
                due_at=item.fire_at,
                payload=_alert_payload(item),
            )
            for n, p in enumerate(plans)
            for item in p.items
            if isinstance(item, PlannedAlert) and (n, item.watches) in created
        ]
    )
    await schedule_reminders(
        [
            ReminderToCreate(p.uc, item, p.contact)
            for p in plans
            for item in p.items
            if isinstance(item, PlannedReminder)
        ]
    )


async def remember_contact(
    uc: Uc,
    dealer_id: str,
    customer_id: uuid.UUID,
    contact: ContactSnapshot | None,
    as_of: datetime,
) -> None:
    """Keep the newest contact snapshot for messages sent later."""
    if contact is not None:
        await remember_contacts(uc, [repo.ContactSeen(dealer_id, customer_id, contact, as_of)])


async def remember_contacts(uc: Uc, seen: Sequence[repo.ContactSeen]) -> None:
    """Keep the newest contact snapshot of each customer, with one statement."""
    await repo.upsert_contacts(uc.conn, seen)


# -- reactions ------------------------------------------------------------------------------


async def owner_care(uc: Uc, delivery: DeliveryFacts) -> tuple[list[PlannedItem], bool]:
    """A delivery's owner care and whether the dealer surveys it: 24 h callback, 7-day
    satisfaction callback and the insurance-renewal reminder; with surveys on (and the
    dealer's delivery-survey rule), the satisfaction survey with its link instead of the
    callback (`usecases_surveys.plan_delivery_survey`), which comes at the link's expiry
    if the survey is unanswered."""
    policy = await uc.policy(delivery.dealer_id)
    plan = domain.plan_owner_care(delivery, policy)
    # a survey the dealer turned off leaves the 7-day callback in place
    surveying = usecases_surveys.surveys_on(uc, delivery.dealer_id) and not is_off(
        "delivery-survey", policy
    )
    if surveying:
        plan = without_satisfaction_callback(plan)  # the unanswered survey brings it
    return plan, surveying


class _OfCustomer(Protocol):
    @property
    def dealer_id(self) -> str: ...

    @property
    def customer_id(self) -> uuid.UUID: ...


def rounds_by_customer(items: Sequence[T], facts_of: Callable[[T], _OfCustomer]) -> list[list[T]]:
    """``items`` in rounds (`runtime.batches.rounds`, keyed by the customer), in order: a
    customer's n-th item in round n. A set-based reaction runs round after round, so a
    customer's second event in a batch (or the same fact again under a new id) sees the
    first one's effects, as one event after the other would."""
    return rounds(items, lambda item: [(facts_of(item).dealer_id, facts_of(item).customer_id)])


async def on_repair_item_declined(uc: Uc, item: DeclinedItemFacts) -> None:
    """The advisor's follow-up task for a declined repair line on its follow-up date
    (a task: no customer contact needed)."""
    policy = await uc.policy(item.dealer_id)
    await apply_plan(uc, [domain.plan_declined_item_followup(item, policy)], None)


# -- completing tasks -----------------------------------------------------------------------


@dataclass(frozen=True)
class CompleteTask:
    """Record a task's outcome (``POST /v1/tasks/{id}/complete``)."""

    dealer_id: str
    task_id: uuid.UUID
    outcome: TaskOutcome
    note: str | None = None
    #: staff id; when not given the caller (the token's subject), else the task's assignee
    completed_by: str | None = None
    #: the caller may only complete the tasks of this staff id (a consultant or advisor)
    only_of: str | None = None
    #: the request's Idempotency-Key: a retry with it gets the completed task back
    idempotency_key: str | None = None


async def complete_task(uc: Uc, cmd: CompleteTask) -> TaskRow:
    """Record the task's outcome: status done + TaskCompleted (dissatisfied opens a
    complaint); an unreachable service callback is tried again.

    Raises TaskNotFound, NotYourTask (``only_of`` is not the assignee), TaskConflict (not
    open; a retry with the same Idempotency-Key gets the completed task instead, whatever
    its body) or TaskRuleError (e.g. dissatisfied without a note).
    """
    key = idempotency.request_key(cmd.idempotency_key, None)
    if key is not None:
        # bodies are not compared (fingerprint None): a retry may leave out completed_by
        earlier = await idempotency.claim(
            uc.conn,
            dealer_id=cmd.dealer_id,
            scope=f"task-completion:{cmd.task_id}",
            key=key,
            fingerprint=None,
            resource_id=str(cmd.task_id),
        )
        if earlier is not None:  # the first try completed the task (its claim committed)
            return await task_of(uc, cmd.dealer_id, cmd.task_id, cmd.only_of)
    task = await lock_task(uc, cmd.dealer_id, task_id=cmd.task_id)
    if task is None:
        raise TaskNotFound(cmd.task_id)
    check_own(task, cmd.only_of)
    if not task.is_open:
        raise TaskConflict(f"task {cmd.task_id} is already {task.status}")
    domain.complete_task(TaskStatus.OPEN, cmd.outcome, cmd.note)
    done = await record_outcome(
        uc,
        task,
        outcome=cmd.outcome,
        note=cmd.note,
        completed_by=cmd.completed_by or uc.actor or task.assignee,
        completed_at=uc.now,
    )
    root = root_key(done.business_key)
    attempts = await repo.attempt_outcomes(uc.conn, done.dealer_id, root)
    unreachable = count_unreachable(outcome for _, outcome in attempts)
    done = await record_unreachable_attempts(uc, done, unreachable)
    if domain.needs_retry(cmd.outcome):
        await _retry_unreachable(uc, done, attempts, unreachable)
    return done


async def _retry_unreachable(
    uc: Uc, task: TaskRow, attempts: list[tuple[datetime, str]], unreachable: int
) -> None:
    """Service callbacks: try again next business day; after N unreachable days, a message.
    Delivery, satisfaction, retention and manual callbacks: try again next business day;
    after the dealer's number of unreachable attempts, a task for customer relations
    (`domain_task_actions.plan_unreachable_follow_up`). The next attempt carries the
    count."""
    root = root_key(task.business_key)
    root_task = await repo.get_task_by_key(uc.conn, task.dealer_id, root) or task
    policy = await uc.policy(task.dealer_id)
    calendar = BusinessCalendar(policy)
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
    if task.kind == TaskKind.SERVICE_CALLBACK.value:
        days = domain.consecutive_unreachable_days(attempts, calendar)
        follow_up: PlannedItem | None = domain.plan_unreachable_retry(
            original, days, uc.now, policy
        )
    else:
        follow_up = plan_unreachable_follow_up(
            original,
            unreachable,
            uc.now,
            calendar,
            policy.owner_care.unreachable_attempts_before_fallback,
        )
    if follow_up is None:
        return
    if isinstance(follow_up, PlannedTask):
        title = f"Customer unreachable: {root_task.title}"[:200]
        fallback = follow_up.kind is not original.kind
        created = await schedule_task(uc, follow_up, title=title if fallback else root_task.title)
        if created is not None:
            await record_unreachable_attempts(uc, created, unreachable)
        return
    contact = await repo.get_contact(uc.conn, task.dealer_id, task.customer_id)
    await apply_plan(uc, [follow_up], contact)


async def fire_watch(uc: Uc, dealer_id: str, payload: Mapping[str, Any]) -> None:
    """A warning/escalation/reassign watch fired: act only if the watched task is open."""
    alert = _alert_from(dealer_id, payload)
    watched = await repo.get_task_by_key(uc.conn, dealer_id, alert.watches)
    if watched is None or not watched.is_open:
        return
    policy = await uc.policy(dealer_id)
    due_local = BusinessCalendar(policy).local(watched.due_at).strftime("%Y-%m-%d %H:%M")
    recipient = watched.assignee
    planned = plan_watch_task(alert, watched.due_at)
    if planned is not None:
        task = await schedule_task(uc, planned)  # titled by its script (domain_task_texts)
        if task is None:
            return  # this watch already acted
        recipient = task.assignee
    await report_breach(uc, watched, alert.kind)
    await queue_staff_alert(
        uc,
        dealer_id=dealer_id,
        customer_id=watched.customer_id,
        recipient=recipient,
        business_key=alert.key,
        kind=f"first_contact_{alert.kind.value}",
        alert=watch_alert(alert.kind, watched.title, due_local),
        related=alert.related,
    )
