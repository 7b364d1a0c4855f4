"""Staff working their tasks: claim, snooze, reassign, a task created by hand, and the
escalation of a task left open past its due time (rules in `domain_task_actions`).

A claim, a reassignment or a snooze publishes TaskScheduled again with the same task id
(``previous_assignee_id`` on a claim or a reassignment), so staff front ends update their
copy. Every step takes an Idempotency-Key: a retry with it gets the task as it is now,
the same key with a different request is 422; a task that is done or cancelled is 409.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dealerflow.contracts.care_enums import RecordKind, TaskKind
from dealerflow.notifier import repository as repo
from dealerflow.notifier import repository_task_actions as actions
from dealerflow.notifier.domain_alerts import TASK_DUE, timer_key
from dealerflow.notifier.domain_task_actions import (
    check_manual_due,
    check_snooze,
    escalates_when_overdue,
    escalation_role,
    manual_task_key,
    may_claim,
    overdue_key,
    snooze_limit,
)
from dealerflow.notifier.domain_task_texts import alert_text, overdue_title, staff_text
from dealerflow.notifier.domain_types import PlannedTask, RecordRef, StaffRole
from dealerflow.notifier.records import TaskRow
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases_alerts import queue_staff_alert
from dealerflow.notifier.usecases_tasks import (
    NotYourTask,
    TaskConflict,
    TaskNotFound,
    check_own,
    publish_scheduled,
    schedule_task,
    task_of,
)
from dealerflow.policy import BusinessCalendar
from dealerflow.runtime import idempotency, timers
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]

#: Timer kind of an overdue task's escalation (handler in dealerflow.notifier.timers).
TASK_OVERDUE = "notifier.task_overdue"


async def _replayed(
    uc: Uc, dealer_id: str, scope: str, key: str | None, cmd: object, task_id: uuid.UUID
) -> bool:
    """Claim the step's Idempotency-Key; True when an earlier request with it did the work
    (the caller answers with the task as it is). Raises IdempotencyKeyReused (422) for the
    same key with a different command."""
    request = idempotency.request_key(key, None)
    if request is None:
        return False
    earlier = await idempotency.claim(
        uc.conn,
        dealer_id=dealer_id,
        scope=scope,
        key=request,
        fingerprint=idempotency.fingerprint_of(cmd),
        resource_id=str(task_id),
    )
    return earlier is not None


async def _open_task(uc: Uc, dealer_id: str, task_id: uuid.UUID) -> TaskRow:
    """The open task, locked; TaskNotFound / TaskConflict (done or cancelled)."""
    task = await repo.get_task(uc.conn, dealer_id, task_id, for_update=True)
    if task is None:
        raise TaskNotFound(task_id)
    if not task.is_open:
        raise TaskConflict(f"task {task_id} is already {task.status}")
    return task


# -- claim ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimTask:
    """The caller takes the task (``POST /v1/tasks/{id}/claim``)."""

    dealer_id: str
    task_id: uuid.UUID
    #: the caller (token subject) and their roles
    subject: str
    roles: tuple[str, ...]
    idempotency_key: str | None = None


async def claim_task(uc: Uc, cmd: ClaimTask) -> TaskRow:
    """Make the caller the assignee; raises NotYourTask when a consultant or advisor claims
    a task neither theirs nor in their role's pool. Claiming one's own task changes
    nothing (no event)."""
    scope = f"task-claim:{cmd.task_id}"
    body = {"subject": cmd.subject}
    if await _replayed(uc, cmd.dealer_id, scope, cmd.idempotency_key, body, cmd.task_id):
        return await task_of(uc, cmd.dealer_id, cmd.task_id)
    task = await _open_task(uc, cmd.dealer_id, cmd.task_id)
    if task.assignee == cmd.subject:
        return task
    if not may_claim(cmd.roles, cmd.subject, task.assignee, cmd.dealer_id):
        raise NotYourTask(f"task {task.id} is someone else's and not in your pool")
    return await _give(uc, task, cmd.subject)


async def _give(uc: Uc, task: TaskRow, assignee: str) -> TaskRow:
    moved = await actions.set_assignee(uc.conn, task.dealer_id, task.id, assignee, uc.now)
    if moved is None:  # pragma: no cover - the row is locked and open
        raise TaskConflict(f"task {task.id} is not open")
    await publish_scheduled(uc, moved, occurred_at=uc.now, previous_assignee_id=task.assignee)
    return moved


# -- reassign -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReassignTask:
    """A manager gives the task to ``assignee`` (``POST /v1/tasks/{id}/reassign``)."""

    dealer_id: str
    task_id: uuid.UUID
    assignee: str
    idempotency_key: str | None = None


async def reassign_task(uc: Uc, cmd: ReassignTask) -> TaskRow:
    """Give the task to ``cmd.assignee`` (TaskScheduled with the previous assignee); the
    same assignee again changes nothing."""
    scope = f"task-reassign:{cmd.task_id}"
    body = {"assignee": cmd.assignee}
    if await _replayed(uc, cmd.dealer_id, scope, cmd.idempotency_key, body, cmd.task_id):
        return await task_of(uc, cmd.dealer_id, cmd.task_id)
    task = await _open_task(uc, cmd.dealer_id, cmd.task_id)
    if task.assignee == cmd.assignee:
        return task
    return await _give(uc, task, cmd.assignee)


# -- snooze ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnoozeTask:
    """Move the task's due time to ``until`` (``POST /v1/tasks/{id}/snooze``)."""

    dealer_id: str
    task_id: uuid.UUID
    until: datetime
    reason: str
    snoozed_by: str
    #: the caller may only snooze the tasks of this staff id (a consultant or advisor)
    only_of: str | None = None
    idempotency_key: str | None = None


async def snooze_task(uc: Uc, cmd: SnoozeTask) -> TaskRow:
    """Snooze an open task: due time ``until`` (not past its hard SLA, see
    `domain_task_actions.snooze_limit`), status scheduled again, its due timer moved and
    a pending overdue escalation dropped (it is armed again when the new due time passes);
    first-contact watches stay on the planned due time. TaskScheduled with the new due
    time. Raises NotYourTask, TaskConflict, TaskRuleError."""
    scope = f"task-snooze:{cmd.task_id}"
    body = {"until": cmd.until.isoformat(), "reason": cmd.reason}
    if await _replayed(uc, cmd.dealer_id, scope, cmd.idempotency_key, body, cmd.task_id):
        return await task_of(uc, cmd.dealer_id, cmd.task_id, cmd.only_of)
    seen = await repo.get_task(uc.conn, cmd.dealer_id, cmd.task_id)
    if seen is None:
        raise TaskNotFound(cmd.task_id)
    check_own(seen, cmd.only_of)
    # timers before tasks (see usecases_tasks.release_timers); rolled back on an error
    if seen.is_open:
        await uc.cancel_timer(timer_key(seen.dealer_id, seen.business_key))
        await uc.cancel_timer(timer_key(seen.dealer_id, overdue_key(seen.business_key)))
    task = await _open_task(uc, cmd.dealer_id, cmd.task_id)
    policy = await uc.policy(cmd.dealer_id)
    limit = snooze_limit(task.kind, task.hard_due_at, policy.owner_care.task_snooze_max)
    until = check_snooze(cmd.until.astimezone(UTC), uc.now, limit, cmd.reason)
    snoozed = await actions.snooze(
        uc.conn,
        task.dealer_id,
        task.id,
        until=until,
        reason=cmd.reason,
        snoozed_by=cmd.snoozed_by,
        now=uc.now,
    )
    if snoozed is None:  # pragma: no cover - the row is locked and open
        raise TaskConflict(f"task {task.id} is not open")
    await uc.schedule_timer(
        key=timer_key(snoozed.dealer_id, snoozed.business_key),
        kind=TASK_DUE,
        dealer_id=snoozed.dealer_id,
        due_at=until,
        payload={"task_id": str(snoozed.id)},
    )
    await publish_scheduled(uc, snoozed, occurred_at=uc.now)
    return snoozed


# -- a task created by hand -----------------------------------------------------------------


@dataclass(frozen=True)
class CreateTask:
    """Staff create a task by hand (``POST /v1/tasks``), kind ``manual``."""

    dealer_id: str
    customer_id: uuid.UUID
    title: str
    due_at: datetime
    assignee: str
    assignee_role: StaffRole
    description: str | None = None
    #: the caller may only create tasks for this staff id (a consultant or advisor)
    only_of: str | None = None
    idempotency_key: str | None = None


async def create_task(uc: Uc, cmd: CreateTask) -> TaskRow:
    """A manual task with its due timer and TaskScheduled, about the customer; the
    assignee's stand-in gets it when they are away on the due day (`domain_people`)."""
    if cmd.only_of is not None and cmd.assignee != cmd.only_of:
        raise NotYourTask("a consultant or advisor creates tasks for themselves only")
    task_id = uuid.uuid4()
    earlier = await idempotency.claimed_resource(
        uc.conn,
        None
        if cmd.idempotency_key is None
        else idempotency.RequestKey(f"key:{cmd.idempotency_key}", idempotency.fingerprint_of(cmd)),
        dealer_id=cmd.dealer_id,
        scope="task-create",
        resource_id=task_id,
    )
    if earlier is not None:
        return await task_of(uc, cmd.dealer_id, earlier)
    due_at = check_manual_due(cmd.due_at.astimezone(UTC), uc.now)
    planned = PlannedTask(
        key=manual_task_key(task_id),
        kind=TaskKind.MANUAL,
        dealer_id=cmd.dealer_id,
        customer_id=cmd.customer_id,
        due_at=due_at,
        assignee_role=cmd.assignee_role,
        assignee_id=cmd.assignee,
        related=RecordRef(RecordKind.CUSTOMER, str(cmd.customer_id)),
        script=cmd.description or cmd.title,
    )
    created = await schedule_task(uc, planned, title=cmd.title, task_id=task_id)
    if created is None:  # pragma: no cover - the key holds a fresh uuid
        raise TaskConflict("the task exists already")
    return created


# -- overdue escalation ---------------------------------------------------------------------


async def arm_overdue_escalations(uc: Uc, tasks: Sequence[TaskRow]) -> int:
    """The tasks just fell due: each one's escalation to the manager, the dealer's
    ``owner_care.task_overdue_escalate_after`` later (none when null or for kinds that
    are not escalated), all timers in one statement; how many were scheduled. A timer is
    keyed under its task's key: recording the outcome cancels it."""
    escalations = []
    for task in tasks:
        after = (await uc.policy(task.dealer_id)).owner_care.task_overdue_escalate_after
        if after is None or not escalates_when_overdue(task.kind, task.business_key):
            continue
        escalations.append(
            timers.NewTimer(
                key=timer_key(task.dealer_id, overdue_key(task.business_key)),
                kind=TASK_OVERDUE,
                dealer_id=task.dealer_id,
                due_at=task.due_at + after,
                payload={"task_id": str(task.id)},
            )
        )
    return await timers.schedule_many(uc.conn, escalations)


async def fire_overdue_escalation(uc: Uc, dealer_id: str, payload: Mapping[str, Any]) -> None:
    """The task is still open past the dealer's escalation delay: a task for the manager
    of the assignee's role (kind other, nested under the task: its outcome cancels it)
    and a staff alert to that manager."""
    task = await repo.get_task(uc.conn, dealer_id, uuid.UUID(str(payload["task_id"])))
    if task is None or not task.is_open:
        return
    policy = await uc.policy(dealer_id)
    due_local = BusinessCalendar(policy).local(task.due_at).strftime("%Y-%m-%d %H:%M")
    related = RecordRef(
        RecordKind(task.related_kind or RecordKind.CUSTOMER.value),
        task.related_id or str(task.customer_id),
    )
    planned = PlannedTask(
        key=overdue_key(task.business_key),
        kind=TaskKind.OTHER,
        dealer_id=dealer_id,
        customer_id=task.customer_id,
        due_at=uc.now,
        assignee_role=escalation_role(task.assignee_role),
        assignee_id=None,
        related=related,
        **staff_text(
            "other.task_overdue", title=task.title, assignee=task.assignee, due_at=due_local
        ),
    )
    locale = (await uc.dealer(dealer_id)).profile.staff_locale
    escalation = await schedule_task(uc, planned, title=overdue_title(task.title, locale))
    if escalation is None:
        return  # this escalation already acted
    await queue_staff_alert(
        uc,
        dealer_id=dealer_id,
        customer_id=task.customer_id,
        recipient=escalation.assignee,
        business_key=escalation.business_key,
        kind="task_overdue_escalation",
        alert=alert_text(
            "alert.task_overdue", title=task.title, assignee=task.assignee, due_at=due_local
        ),
        related=related,
    )


# -- unreachable count ----------------------------------------------------------------------


async def record_unreachable_attempts(uc: Uc, task: TaskRow, count: int) -> TaskRow:
    """Show on ``task`` how many of its attempts found the customer unreachable."""
    if task.unreachable_attempts == count:
        return task
    counted = await actions.set_unreachable_attempts(uc.conn, task.dealer_id, task.id, count)
    return counted or task
