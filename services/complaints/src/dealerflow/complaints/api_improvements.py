"""HTTP API of improvement actions: managers record what the dealer does against a cause
of complaints and report it done; managers and customer relations read them (the
analysis shows them open/done per cause)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from dealerflow.complaints import usecases_improvements as improvements
from dealerflow.complaints.api import Ctx, DealerQuery
from dealerflow.complaints.api_analysis import ANALYSTS
from dealerflow.complaints.domain_analysis import cause_key
from dealerflow.complaints.domain_improvements import ActionStatus
from dealerflow.complaints.repository_improvements import ActionFilter
from dealerflow.complaints.schemas_improvements import (
    CompletionIn,
    ImprovementActionIn,
    ImprovementActionPage,
    ImprovementActionView,
)
from dealerflow.complaints.usecases_improvements import HandledAction
from dealerflow.runtime.auth import MANAGERS, allow
from dealerflow.runtime.idempotency import IdempotencyKeyHeader, request_of
from dealerflow.runtime.pagination import DEFAULT_LIMIT, Cursor, Limit, decode_cursor, page_of

router = APIRouter(prefix="/v1", tags=["improvement actions"])
ActionIdPath = Annotated[uuid.UUID, Path(description="Improvement action id.")]

_404: dict[int | str, dict[str, Any]] = {404: {"description": "No such action at this dealer"}}


def _answer(handled: HandledAction, response: Response) -> ImprovementActionView:
    if handled.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return ImprovementActionView.of(handled.action, handled.today)


@router.post(
    "/improvement-actions",
    status_code=201,
    response_model=ImprovementActionView,
    summary="Record an improvement action against a cause of complaints",
    responses={
        200: {"description": "A retry: the action the first request recorded."},
        422: {"description": "Due before today, or complaints the dealer does not have"},
    },
    dependencies=[allow(*MANAGERS)],
)
async def record_action(
    body: ImprovementActionIn,
    response: Response,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ImprovementActionView:
    cmd = improvements.RecordImprovementAction(
        dealer_id=body.dealer_id,
        cause=body.cause,
        description=body.description,
        owner_staff_id=body.owner_staff_id,
        due_on=body.due_on,
        complaint_ids=tuple(body.complaint_ids),
        request=request_of(idempotency_key, body),
    )
    handled = await ctx.run_in_transaction(lambda uc: improvements.record_action(uc, cmd))
    view = _answer(handled, response)
    response.headers["Location"] = f"/v1/improvement-actions/{view.id}?dealer_id={view.dealer_id}"
    if handled.replayed:
        response.status_code = 200
    return view


@router.get(
    "/improvement-actions",
    response_model=ImprovementActionPage,
    summary="List a dealer's improvement actions (newest first)",
    dependencies=[allow(*ANALYSTS)],
)
async def list_actions(
    ctx: Ctx,
    dealer_id: DealerQuery,
    status: ActionStatus | None = None,
    cause: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ImprovementActionPage:
    after = decode_cursor(cursor, datetime, uuid.UUID)
    where = ActionFilter(dealer_id, status=status, cause_key=cause_key(cause))
    found, today = await ctx.run_in_transaction(
        lambda uc: improvements.list_actions(uc, where, limit=limit + 1, after=after)
    )
    page, next_cursor = page_of(found, limit, lambda a: (a.created_at, a.id))
    return ImprovementActionPage(
        items=[ImprovementActionView.of(a, today) for a in page], next_cursor=next_cursor
    )


@router.get(
    "/improvement-actions/{action_id}",
    response_model=ImprovementActionView,
    summary="One improvement action",
    responses=_404,
    dependencies=[allow(*ANALYSTS)],
)
async def get_action(
    ctx: Ctx, action_id: ActionIdPath, dealer_id: DealerQuery
) -> ImprovementActionView:
    handled = await ctx.run_in_transaction(
        lambda uc: improvements.improvement_action(uc, dealer_id, action_id)
    )
    return ImprovementActionView.of(handled.action, handled.today)


@router.post(
    "/improvement-actions/{action_id}/completion",
    response_model=ImprovementActionView,
    summary="Report an improvement action done",
    responses={**_404, 409: {"description": "The action is done already"}},
    dependencies=[allow(*MANAGERS)],
)
async def complete_action(
    action_id: ActionIdPath,
    body: CompletionIn,
    response: Response,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ImprovementActionView:
    cmd = improvements.CompleteImprovementAction(
        dealer_id=body.dealer_id,
        action_id=action_id,
        note=body.note,
        by=body.completed_by,
        request=request_of(idempotency_key, body),
    )
    handled = await ctx.run_in_transaction(lambda uc: improvements.complete_action(uc, cmd))
    return _answer(handled, response)
