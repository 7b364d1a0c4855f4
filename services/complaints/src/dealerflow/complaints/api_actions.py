"""HTTP API: staff actions on a complaint, and the dealer's complaint policy.

Every action answers the complaint with its clocks; an action the complaint's status
does not allow is a 409 problem naming the status and the allowed actions."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.types import DecoratedCallable

from dealerflow.complaints import repository
from dealerflow.complaints import usecases_actions as actions
from dealerflow.complaints.api import Ctx, detail_of, run, settings_of
from dealerflow.complaints.policy import build_policy
from dealerflow.complaints.records import ComplaintRecord
from dealerflow.complaints.schemas import (
    AcknowledgeIn,
    AssignIn,
    CloseIn,
    ComplaintDetail,
    InformIn,
    PauseIn,
    PolicyIn,
    PolicyView,
    ReopenIn,
    ResolveIn,
    ResumeIn,
)
from dealerflow.complaints.usecases import ComplaintNotFound, Work
from dealerflow.contracts.types import DEALER_ID_PATTERN

router = APIRouter(prefix="/v1", tags=["complaint actions"])
ComplaintIdPath = Annotated[uuid.UUID, Path(description="Complaint id.")]
DealerPath = Annotated[str, Path(pattern=DEALER_ID_PATTERN, description="Dealer code.")]

_409: dict[int | str, dict[str, Any]] = {
    409: {"description": "Not allowed in the complaint's current status"}
}
_404: dict[int | str, dict[str, Any]] = {404: {"description": "No such complaint at this dealer"}}


def _action(name: str, summary: str) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """``POST /complaints/{complaint_id}/<name>``: a staff action answered with the complaint."""
    return router.post(
        f"/complaints/{{complaint_id}}/{name}",
        response_model=ComplaintDetail,
        responses={**_404, **_409},
        summary=summary,
    )


async def _act(
    ctx: Ctx, action: Callable[[Work], Awaitable[ComplaintRecord | None]]
) -> ComplaintDetail:
    async def use_case(work: Work) -> ComplaintDetail:
        complaint = await action(work)
        assert complaint is not None  # only automatic (trigger) reopenings return None
        return await detail_of(work, complaint)

    return await run(ctx, use_case)


@_action(
    "acknowledge", "Acknowledge to the customer (stops the acknowledge clock and its escalations)"
)
async def acknowledge(
    ctx: Ctx, complaint_id: ComplaintIdPath, body: AcknowledgeIn
) -> ComplaintDetail:
    return await _act(
        ctx,
        lambda w: actions.acknowledge(
            w, body.dealer_id, complaint_id, channel=body.channel, handler_id=body.handler_id
        ),
    )


@_action("inform", "Record that the customer was told how it is handled (stops the inform clock)")
async def inform(ctx: Ctx, complaint_id: ComplaintIdPath, body: InformIn) -> ComplaintDetail:
    return await _act(
        ctx, lambda w: actions.inform(w, body.dealer_id, complaint_id, by=body.by, note=body.note)
    )


@_action("assign", "Give the complaint a (new) handler and department")
async def assign(ctx: Ctx, complaint_id: ComplaintIdPath, body: AssignIn) -> ComplaintDetail:
    return await _act(
        ctx,
        lambda w: actions.assign(
            w,
            body.dealer_id,
            complaint_id,
            handler_id=body.handler_id,
            department=body.department,
            reason=body.reason,
        ),
    )


@_action("resolve", "Record the resolution (cancels every clock still running)")
async def resolve(ctx: Ctx, complaint_id: ComplaintIdPath, body: ResolveIn) -> ComplaintDetail:
    resolution = actions.Resolution(
        responsibility=body.responsibility,
        measures=list(body.measures),
        resolution=body.resolution,
        responsible_department=body.responsible_department,
        cause=body.cause,
        handler_id=body.handler_id,
    )
    return await _act(ctx, lambda w: actions.resolve(w, body.dealer_id, complaint_id, resolution))


@_action("close", "Close after the customer confirmed")
async def close(ctx: Ctx, complaint_id: ComplaintIdPath, body: CloseIn) -> ComplaintDetail:
    return await _act(
        ctx,
        lambda w: actions.close(
            w,
            body.dealer_id,
            complaint_id,
            closed_by=body.closed_by,
            customer_confirmed=body.customer_confirmed,
        ),
    )


@_action("reopen", "Reopen a resolved or closed complaint (a fresh resolve clock)")
async def reopen(ctx: Ctx, complaint_id: ComplaintIdPath, body: ReopenIn) -> ComplaintDetail:
    return await _act(
        ctx,
        lambda w: actions.reopen(w, body.dealer_id, complaint_id, reason=body.reason, by=body.by),
    )


@_action(
    "pause",
    "Pause the clocks while waiting on the customer (the legal inform clock keeps "
    "running unless the dealer's policy says otherwise)",
)
async def pause(ctx: Ctx, complaint_id: ComplaintIdPath, body: PauseIn) -> ComplaintDetail:
    return await _act(
        ctx,
        lambda w: actions.pause_clocks(
            w, body.dealer_id, complaint_id, by=body.by, reason=body.reason
        ),
    )


@_action("resume", "Resume paused clocks with the time they had left")
async def resume(ctx: Ctx, complaint_id: ComplaintIdPath, body: ResumeIn) -> ComplaintDetail:
    return await _act(
        ctx, lambda w: actions.resume_clocks(w, body.dealer_id, complaint_id, by=body.by)
    )


# -- policy ----------------------------------------------------------------------------------


@router.get(
    "/dealers/{dealer_id}/policy",
    response_model=PolicyView,
    tags=["policy"],
    summary="The dealer's stored overrides and effective policy",
)
async def get_policy(ctx: Ctx, dealer_id: DealerPath) -> PolicyView:
    async def use_case(work: Work) -> PolicyView:
        overrides = await repository.dealer_overrides(work.conn, dealer_id) or {}
        policy = build_policy(work.settings.policy_overrides, overrides)
        return PolicyView(
            dealer_id=dealer_id, overrides=overrides, effective=policy.model_dump(mode="json")
        )

    return await run(ctx, use_case)


@router.put(
    "/dealers/{dealer_id}/policy",
    response_model=PolicyView,
    tags=["policy"],
    responses={422: {"description": "Overrides that make no valid policy"}},
    summary="Replace the dealer's policy overrides (applies to clocks started afterwards)",
)
async def put_policy(ctx: Ctx, dealer_id: DealerPath, body: PolicyIn) -> PolicyView:
    settings = settings_of(ctx)

    async def use_case(work: Work) -> PolicyView:
        policy = build_policy(settings.policy_overrides, body.overrides)  # PolicyInvalid -> 422
        await repository.put_dealer_overrides(work.conn, dealer_id, body.overrides)
        return PolicyView(
            dealer_id=dealer_id, overrides=body.overrides, effective=policy.model_dump(mode="json")
        )

    return await run(ctx, use_case)


__all__ = ["ComplaintNotFound", "router"]
