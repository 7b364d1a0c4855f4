"""Staff tasks: creating one (row + durable timer + TaskScheduled), recording its outcome
(TaskCompleted; its watches and the tasks that only existed because of it are cancelled),
cancelling, and the due timer (status due + TaskDue)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dealerflow.contracts.care_enums import TaskCancelReason, TaskKind, TaskOutcome
from dealerflow.contracts.contact import RelatedRecord
from dealerflow.contracts.events.notifier import (
    TaskCancelled,
    TaskCompleted,
    TaskDue,
    TaskScheduled,
)
from dealerflow.notifier import repository as repo
from dealerflow.notifier.domain import PlannedTask, TaskRuleError
from dealerflow.notifier.domain_alerts import TASK_DUE, dependents_prefix, timer_key
from dealerflow.notifier.domain_calendar import disabled_rule
from dealerflow.notifier.domain_people import assignee_for
from dealerflow.notifier.domain_task_texts import render_task_text, render_task_title
from dealerflow.notifier.records import NewTask, TaskRow
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.timers import NewTimer

Uc = UseCaseContext[NotifierSettings]
log = logging.getLogger("dealerflow.notifier.tasks")


class TaskNotFound(LookupError):
    """No task with that id at that dealer (another dealer's task is not found either)."""

    def __init__(self, task_id: uuid.UUID) -> None:
        super().__init__(f"No task with id {task_id}")


class TaskConflict(TaskRuleError):
    """The task is not open any more (done or cancelled)."""


class NotYourTask(PermissionError):
    """A consultant or advisor asked for (or to complete) another person's tasks (403)."""


def check_own(task: TaskRow, only_of: str | None) -> TaskRow:
    """``task``, unless the caller may only work the tasks of ``only_of`` and it is not
    theirs (`domain_tasks.own_tasks_only`); raises NotYourTask."""
    if only_of is not None and task.assignee != only_of:
        raise NotYourTask(f"task {task.id} is assigned to someone else")
    return task


def related_of(task: TaskRow) -> RelatedRecord | None:
    if task.related_kind is None or task.related_id is None:
        return None
    return RelatedRecord.model_validate({"kind": task.related_kind, "id": task.related_id})


# -- creating tasks and watches -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskToCreate:
    """A planned task to create in the context ``uc`` of the event (or request) it
    reacts to; ``title`` and ``task_id`` as in `schedule_task`."""

    uc: Uc
    planned: PlannedTask
    title: str | None = None
    task_id: uuid.UUID | None = None


async def schedule_task(
    uc: Uc, planned: PlannedTask, *, title: str | None = None, task_id: uuid.UUID | None = None
) -> TaskRow | None:
    """Create the task with its due timer and publish TaskScheduled; None if it exists,
    or when the dealer turned the task's care-calendar rule off (`schedule_tasks` of one)."""
    return (await schedule_tasks([TaskToCreate(uc, planned, title, task_id)]))[0]


async def schedule_tasks(todo: Sequence[TaskToCreate]) -> list[TaskRow | None]:
    """Create the tasks with their due timers and publish a TaskScheduled each (caused by
    its own context's event): one statement for the tasks and one for their timers,
    whatever their number (all contexts share one connection). Per entry of ``todo`` the
    task created, or None if its business key exists (or came earlier in ``todo``) or
    when the dealer turned the task's care-calendar rule off (``care.disabled``, see
    `domain_calendar`). The assignee comes from the dealer's people on the day the task
    is due (see `domain_people`: stand-ins for people away, holders of roles,
    placeholders)."""
    if not todo:
        return []
    new = [await _new_task(item) for item in todo]
    rows = await repo.insert_tasks(todo[0].uc.conn, [t for t in new if t is not None])
    by_id = {row.id: row for row in rows}
    created = [by_id.get(t.id) if t is not None else None for t in new]
    made = [(item.uc, row) for item, row in zip(todo, created, strict=True) if row is not None]
    await todo[0].uc.schedule_timers(
        [
            NewTimer(
                key=timer_key(task.dealer_id, task.business_key),
                kind=TASK_DUE,
                dealer_id=task.dealer_id,
                due_at=task.due_at,
                payload={"task_id": str(task.id)},
            )
            for _, task in made
        ]
    )
    for uc, task in made:
        await publish_scheduled(uc, task, occurred_at=task.created_at)
    return created


async def _new_task(item: TaskToCreate) -> NewTask | None:
    """The row of a planned task (assignee, title, script); None when its rule is off."""
    uc, planned, title = item.uc, item.planned, item.title
    dealer = await uc.dealer(planned.dealer_id)
    if (off := disabled_rule(planned, dealer.policy)) is not None:
        log.info(off.not_planned(planned))
        return None
    due_day = planned.due_at.astimezone(dealer.policy.calendar.tz).date()
    assignee = assignee_for(
        planned.assignee_role, planned.assignee_id, dealer, planned.dealer_id, due_day
    )
    locale, wording = dealer.profile.staff_locale, dealer.policy.contact.task_texts
    script = planned.script
    if planned.text is not None:
        rendered = render_task_text(planned.kind, planned.text, planned.related, locale, wording)
        script, refused = rendered.script, rendered.dealer_text_refused
        title = title or rendered.title
    else:
        generated, refused = render_task_title(planned.kind, planned.related, locale, wording)
        title = title or generated
    if refused is not None:
        log.warning(
            "dealer %s task text %s/%s not used (%s): wrote the built-in one",
            planned.dealer_id,
            planned.text.key if planned.text is not None else planned.kind.value,
            locale or "en",
            refused,
        )
    return NewTask(
        id=item.task_id or uuid.uuid4(),
        dealer_id=planned.dealer_id,
        customer_id=planned.customer_id,
        business_key=planned.key,
        kind=planned.kind.value,
        title=title,
        assignee=assignee,
        assignee_role=planned.assignee_role.value,
        due_at=planned.due_at.astimezone(UTC),
        script=script,
        related_kind=planned.related.kind.value,
        related_id=planned.related.id,
        source_event_id=uc.source_event_id,
        created_at=uc.now,
    )


async def publish_scheduled(
    uc: Uc, task: TaskRow, *, occurred_at: datetime, previous_assignee_id: str | None = None
) -> None:
    """TaskScheduled of ``task`` as it is now: when created, and again when claimed,
    reassigned (``previous_assignee_id``) or snoozed."""
    await uc.publish(
        TaskScheduled(
            dealer_id=task.dealer_id,
            customer_id=task.customer_id,
            occurred_at=occurred_at,
            task_id=str(task.id),
            kind=TaskKind(task.kind),
            assignee_id=task.assignee,
            due_at=task.due_at,
            title=task.title,
            script=task.script,
            related=related_of(task),
            previous_assignee_id=previous_assignee_id,
        )
    )


async def cancel_tasks(
    uc: Uc, selected: repo.TaskSelection, reason: TaskCancelReason
) -> list[TaskRow]:
    """Cancel the selected open tasks, their timers and watches; TaskCancelled each."""
    for task in await repo.open_tasks(uc.conn, selected):
        await release_timers(uc, task)  # timers before tasks, see release_timers
    cancelled = await repo.cancel_open_tasks(uc.conn, selected, uc.now)
    for task in cancelled:
        await publish_cancelled(uc, task, reason)
    return cancelled


async def publish_cancelled(uc: Uc, task: TaskRow, reason: TaskCancelReason) -> None:
    """Tell staff front ends a task is gone."""
    await uc.publish(
        TaskCancelled(
            dealer_id=task.dealer_id,
            customer_id=task.customer_id,
            occurred_at=task.cancelled_at or uc.now,
            task_id=str(task.id),
            kind=TaskKind(task.kind),
            reason=reason,
            cancelled_at=task.cancelled_at or uc.now,
        )
    )


async def release_timers(uc: Uc, task: TaskRow) -> None:
    """Cancel a task's pending due timer and everything keyed under it (watches, the timers
    of its escalation tasks).

    Lock order: timers before tasks. The timer poller claims (locks) timers and then its
    handlers update tasks, so a transaction that locked a task first and then waited for a
    timer row could deadlock with it. Call this before locking the task row.
    """
    await uc.cancel_timer(timer_key(task.dealer_id, task.business_key))
    await uc.cancel_timers(timer_key(task.dealer_id, dependents_prefix(task.business_key)))


async def lock_task(
    uc: Uc, dealer_id: str, *, task_id: uuid.UUID | None = None, key: str | None = None
) -> TaskRow | None:
    """Release the task's timers (see release_timers), then lock and return its row.

    For closing a task; the caller's transaction rolls the release back if it fails.
    """
    if task_id is not None:
        seen = await repo.get_task(uc.conn, dealer_id, task_id)
    elif key is not None:
        seen = await repo.get_task_by_key(uc.conn, dealer_id, key)
    else:
        raise ValueError("lock_task needs task_id or key")
    if seen is None:
        return None
    if seen.is_open:
        await release_timers(uc, seen)
    return await repo.get_task(uc.conn, dealer_id, seen.id, for_update=True)


async def record_outcome(
    uc: Uc,
    task: TaskRow,
    *,
    outcome: TaskOutcome,
    note: str | None,
    completed_by: str,
    completed_at: datetime,
) -> TaskRow:
    """Record the outcome of a locked open task and publish TaskCompleted."""
    done = await repo.complete_task(
        uc.conn,
        task.dealer_id,
        task.id,
        outcome=outcome.value,
        note=note,
        completed_by=completed_by,
        completed_at=completed_at,
    )
    if done is None:  # pragma: no cover - the row is locked and was open
        raise TaskConflict(f"task {task.id} is not open")
    # tasks that only existed because of this one (escalations) are moot; their timers
    # went with release_timers
    dependents = repo.TaskSelection(done.dealer_id, key_prefix=dependents_prefix(done.business_key))
    for moot in await repo.cancel_open_tasks(uc.conn, dependents, uc.now):
        await publish_cancelled(uc, moot, TaskCancelReason.NO_LONGER_NEEDED)
    await uc.publish(
        TaskCompleted(
            dealer_id=done.dealer_id,
            customer_id=done.customer_id,
            occurred_at=completed_at,
            task_id=str(done.id),
            kind=TaskKind(done.kind),
            assignee_id=completed_by,
            outcome=outcome,
            note=note,
            related=related_of(done),
            completed_at=completed_at,
        )
    )
    return done


# -- timers ---------------------------------------------------------------------------------


async def task_of(
    uc: Uc, dealer_id: str, task_id: uuid.UUID, only_of: str | None = None
) -> TaskRow:
    """The dealer's task ``task_id``; raises TaskNotFound, or NotYourTask when the caller
    may only see the tasks of ``only_of``."""
    task = await repo.get_task(uc.conn, dealer_id, task_id)
    if task is None:
        raise TaskNotFound(task_id)
    return check_own(task, only_of)


async def fire_tasks_due(uc: Uc, due: Sequence[tuple[str, Mapping[str, Any]]]) -> list[TaskRow]:
    """The due times of tasks came (``(dealer_id, timer payload)`` each), all in one
    statement: status due + TaskDue for each task still open, in the order given (the
    tasks returned); a task done or cancelled meanwhile is left as it is."""
    tasks = await repo.mark_tasks_due(
        uc.conn,
        [(dealer_id, uuid.UUID(str(payload["task_id"]))) for dealer_id, payload in due],
        uc.now,
    )
    for task in tasks:
        await publish_task_due(uc, task)
    return tasks


async def publish_task_due(uc: Uc, task: TaskRow, breaches: int = 1) -> None:
    """Tell that ``task`` is open past its due time, ``breaches`` SLA periods by now."""
    await uc.publish(
        TaskDue(
            dealer_id=task.dealer_id,
            customer_id=task.customer_id,
            occurred_at=uc.now,
            task_id=str(task.id),
            kind=TaskKind(task.kind),
            assignee_id=task.assignee,
            due_at=task.due_at,
            related=related_of(task),
            breaches=breaches,
        )
    )
