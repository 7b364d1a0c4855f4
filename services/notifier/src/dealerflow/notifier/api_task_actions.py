"""HTTP API of staff working their tasks (/v1): claim, snooze, reassign, and a task created
by hand. Thin: one use case of ``usecases_task_actions`` per request in one transaction,
answered with the task (``TaskOut``). Every step takes ``Idempotency-Key``.

Roles: claim, snooze and a new task are open to the dealer's staff (a consultant or
advisor claims their own or their role's pool, snoozes their own and creates tasks for
themselves, see `domain_task_actions`); reassigning is for managers (sales/service
manager, GM).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from dealerflow.notifier.api import Ctx, DealerQuery, Staff
from dealerflow.notifier.domain_task_actions import manual_task_role
from dealerflow.notifier.domain_tasks import own_tasks_only
from dealerflow.notifier.domain_types import StaffRole
from dealerflow.notifier.schemas import TaskOut
from dealerflow.notifier.schemas_task_actions import ManualTaskIn, TaskReassignment, TaskSnooze
from dealerflow.notifier.usecases_task_actions import (
    ClaimTask,
    CreateTask,
    ReassignTask,
    SnoozeTask,
    claim_task,
    create_task,
    reassign_task,
    snooze_task,
)
from dealerflow.runtime.auth import MANAGERS, Principal, allow
from dealerflow.runtime.idempotency import IdempotencyKeyHeader

router = APIRouter(prefix="/v1")

_STEP_ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not your task (nor your role's pool) (problem+json)"},
    404: {"description": "No such task at this dealer (problem+json)"},
    409: {"description": "The task is already done or cancelled (problem+json)"},
    422: {"description": "A rule is broken, or the Idempotency-Key was reused (problem+json)"},
}


def _roles(principal: Principal) -> tuple[str, ...]:
    return tuple(sorted(str(role) for role in principal.roles))


@router.post(
    "/tasks",
    response_model=TaskOut,
    status_code=status.HTTP_201_CREATED,
    tags=["tasks"],
    responses={
        403: {"description": "A consultant or advisor names someone else (problem+json)"},
        422: {"description": "Due in the past, or the Idempotency-Key was reused"},
    },
)
async def create_manual_task(
    ctx: Ctx,
    principal: Staff,
    dealer_id: DealerQuery,
    body: ManualTaskIn,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TaskOut:
    """A task created by hand (kind manual) with its due timer and TaskScheduled; the
    assignee defaults to the caller."""
    role = StaffRole(body.assignee_role) if body.assignee_role else None
    cmd = CreateTask(
        dealer_id=dealer_id,
        customer_id=body.customer_id,
        title=body.title,
        description=body.description,
        due_at=body.due_at,
        assignee=body.assignee or principal.subject,
        assignee_role=role or manual_task_role(_roles(principal)),
        only_of=own_tasks_only(principal.roles, principal.subject),
        idempotency_key=idempotency_key,
    )
    return TaskOut.of(await ctx.run_in_transaction(lambda uc: create_task(uc, cmd)))


@router.post(
    "/tasks/{task_id}/claim", response_model=TaskOut, tags=["tasks"], responses=_STEP_ERRORS
)
async def claim(
    ctx: Ctx,
    principal: Staff,
    task_id: uuid.UUID,
    dealer_id: DealerQuery,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TaskOut:
    """The caller becomes the assignee (TaskScheduled with the previous assignee)."""
    cmd = ClaimTask(
        dealer_id=dealer_id,
        task_id=task_id,
        subject=principal.subject,
        roles=_roles(principal),
        idempotency_key=idempotency_key,
    )
    return TaskOut.of(await ctx.run_in_transaction(lambda uc: claim_task(uc, cmd)))


@router.post(
    "/tasks/{task_id}/snooze", response_model=TaskOut, tags=["tasks"], responses=_STEP_ERRORS
)
async def snooze(
    ctx: Ctx,
    principal: Staff,
    task_id: uuid.UUID,
    dealer_id: DealerQuery,
    body: TaskSnooze,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TaskOut:
    """Move the due time forward (not past the task's hard SLA; TaskScheduled)."""
    cmd = SnoozeTask(
        dealer_id=dealer_id,
        task_id=task_id,
        until=body.until,
        reason=body.reason,
        snoozed_by=principal.subject,
        only_of=own_tasks_only(principal.roles, principal.subject),
        idempotency_key=idempotency_key,
    )
    return TaskOut.of(await ctx.run_in_transaction(lambda uc: snooze_task(uc, cmd)))


@router.post(
    "/tasks/{task_id}/reassign",
    response_model=TaskOut,
    tags=["tasks"],
    responses=_STEP_ERRORS,
    dependencies=[allow(*MANAGERS)],
)
async def reassign(
    ctx: Ctx,
    task_id: uuid.UUID,
    dealer_id: DealerQuery,
    body: TaskReassignment,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TaskOut:
    """A manager gives the task to another staff member (TaskScheduled with the previous
    assignee)."""
    cmd = ReassignTask(
        dealer_id=dealer_id,
        task_id=task_id,
        assignee=body.assignee,
        idempotency_key=idempotency_key,
    )
    return TaskOut.of(await ctx.run_in_transaction(lambda uc: reassign_task(uc, cmd)))
