"""HTTP API of the notifier (/v1): staff tasks, notifications, reminders.

Endpoints are thin: validate, run one use case in one transaction
(``ctx.run_in_transaction``), answer with ``XOut.of(result)``. Domain errors become
problems through the service's PROBLEMS map. Every request names its dealer
(``dealer_id``); another dealer's task is "not found".

Every operation is open to the dealer's staff (``allow(*STAFF)``). A caller who is only a
consultant or an advisor works their own tasks (`domain_tasks.own_tasks_only`): a list
without ``assignee`` is theirs, and another person's tasks (listed, read or completed)
are 403.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AwareDatetime

from dealerflow.contracts.care_enums import TaskOutcome
from dealerflow.contracts.types import DEALER_ID_PATTERN
from dealerflow.notifier import repository as repo
from dealerflow.notifier import repository_messages as msgs
from dealerflow.notifier import usecases
from dealerflow.notifier.domain_tasks import own_tasks_only
from dealerflow.notifier.schemas import (
    NotificationOut,
    NotificationPage,
    ReminderOut,
    ReminderPage,
    TaskCompletion,
    TaskOut,
    TaskPage,
    TaskStatusName,
)
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases_tasks import NotYourTask, task_of
from dealerflow.runtime.auth import STAFF, Principal, allow
from dealerflow.runtime.idempotency import IdempotencyKeyHeader
from dealerflow.runtime.pagination import DEFAULT_LIMIT, Cursor, Limit, decode_cursor, page_of
from dealerflow.runtime.service import ServiceContext, service_context

router = APIRouter(prefix="/v1")

DealerQuery = Annotated[
    str, Query(pattern=DEALER_ID_PATTERN, description="Dealer (store) code; required.")
]
DealerPath = Annotated[str, Path(pattern=DEALER_ID_PATTERN, description="Dealer (store) code.")]
Ctx = Annotated[ServiceContext[NotifierSettings], Depends(service_context)]
#: The dealer's staff; the handler gets the caller.
Staff = Annotated[Principal, allow(*STAFF)]


def _own(principal: Principal) -> str | None:
    return own_tasks_only(principal.roles, principal.subject)


def _after(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    # (time, id) of the previous page's last row; else runtime.pagination's 422 problem
    return decode_cursor(cursor, datetime, uuid.UUID)


# -- tasks ----------------------------------------------------------------------------------


@router.get("/tasks", response_model=TaskPage, tags=["tasks"])
async def list_tasks(
    ctx: Ctx,
    principal: Staff,
    dealer_id: DealerQuery,
    assignee: Annotated[
        str | None, Query(max_length=64, description="Staff id, or `me` for the caller.")
    ] = None,
    customer_id: uuid.UUID | None = None,
    status: Annotated[list[TaskStatusName] | None, Query(description="Repeatable.")] = None,
    due_from: Annotated[AwareDatetime | None, Query(description="Due at or after.")] = None,
    due_to: Annotated[AwareDatetime | None, Query(description="Due before.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> TaskPage:
    """A dealer's tasks by due time (then id), filtered; paginated with next_cursor. A
    consultant or advisor gets their own without naming themselves (``assignee``);
    ``assignee=me`` is the caller's own tasks (the token's subject), for any role."""
    if assignee == "me":  # "my tasks": the caller's, whatever their roles
        assignee = principal.subject
    own = _own(principal)
    if own is not None and assignee not in (None, own):
        raise NotYourTask("a consultant or advisor lists only their own tasks")
    assignee = assignee or own
    where = repo.TaskFilter(
        dealer_id=dealer_id,
        assignee=assignee,
        customer_id=customer_id,
        statuses=[s.value for s in status] if status else None,
        due_from=due_from,
        due_to=due_to,
    )
    after = _after(cursor)
    rows = await ctx.run_in_transaction(
        lambda uc: repo.list_tasks(uc.conn, where, after=after, limit=limit + 1)
    )
    page, next_cursor = page_of(rows, limit, lambda r: (r.due_at, r.id))
    return TaskPage(items=[TaskOut.of(r) for r in page], next_cursor=next_cursor)


@router.get(
    "/tasks/{task_id}",
    response_model=TaskOut,
    tags=["tasks"],
    responses={404: {"description": "No such task at this dealer (problem+json)"}},
)
async def get_task(
    ctx: Ctx, principal: Staff, task_id: uuid.UUID, dealer_id: DealerQuery
) -> TaskOut:
    """One task of the dealer (a consultant's or advisor's own)."""
    own = _own(principal)
    return TaskOut.of(await ctx.run_in_transaction(lambda uc: task_of(uc, dealer_id, task_id, own)))


@router.post(
    "/tasks/{task_id}/complete",
    response_model=TaskOut,
    tags=["tasks"],
    responses={
        404: {"description": "No such task at this dealer (problem+json)"},
        409: {"description": "The task is already done or cancelled (problem+json)"},
        422: {"description": "Invalid outcome, or dissatisfied without a note (problem+json)"},
    },
)
async def complete_task(
    ctx: Ctx,
    principal: Staff,
    task_id: uuid.UUID,
    dealer_id: DealerQuery,
    completion: TaskCompletion,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TaskOut:
    """Record the outcome: status done + TaskCompleted (dissatisfied opens a complaint);
    ``completed_by`` defaults to the caller."""
    cmd = usecases.CompleteTask(
        dealer_id=dealer_id,
        task_id=task_id,
        outcome=TaskOutcome(completion.outcome),
        note=completion.note,
        completed_by=completion.completed_by,
        only_of=_own(principal),
        idempotency_key=idempotency_key,
    )
    return TaskOut.of(await ctx.run_in_transaction(lambda uc: usecases.complete_task(uc, cmd)))


# -- notifications and reminders --------------------------------------------------------------


@router.get(
    "/notifications",
    response_model=NotificationPage,
    tags=["notifications"],
    dependencies=[allow(*STAFF)],
)
async def list_notifications(
    ctx: Ctx,
    dealer_id: DealerQuery,
    customer_id: uuid.UUID | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> NotificationPage:
    """Messages to customers and staff (sent, queued, failed, suppressed), oldest first."""
    after = _after(cursor)
    rows = await ctx.run_in_transaction(
        lambda uc: msgs.list_notifications(
            uc.conn, dealer_id, customer_id, after=after, limit=limit + 1
        )
    )
    page, next_cursor = page_of(rows, limit, lambda r: (r.created_at, r.id))
    return NotificationPage(items=[NotificationOut.of(r) for r in page], next_cursor=next_cursor)


@router.get(
    "/reminders", response_model=ReminderPage, tags=["notifications"], dependencies=[allow(*STAFF)]
)
async def list_reminders(
    ctx: Ctx,
    dealer_id: DealerQuery,
    customer_id: uuid.UUID | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ReminderPage:
    """Planned customer messages by send time."""
    after = _after(cursor)
    rows = await ctx.run_in_transaction(
        lambda uc: msgs.list_reminders(
            uc.conn, dealer_id, customer_id, after=after, limit=limit + 1
        )
    )
    page, next_cursor = page_of(rows, limit, lambda r: (r.send_at, r.id))
    return ReminderPage(items=[ReminderOut.of(r) for r in page], next_cursor=next_cursor)
