"""HTTP API: staff actions on a complaint.

Every action answers the complaint with its clocks; an action the complaint's status
does not allow is a 409 problem naming the status and the allowed actions. A retry of an
action with the same Idempotency-Key is answered with the complaint as it is now."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Response

from dealerflow.complaints import usecases_actions as actions
from dealerflow.complaints.api import Ctx, answer
from dealerflow.complaints.records import ComplaintRecord
from dealerflow.complaints.schemas import (
    AcknowledgeIn,
    ActionIn,
    AssignIn,
    CloseIn,
    ComplaintDetail,
    InformIn,
    PauseIn,
    ReopenIn,
    ResolveIn,
    ResumeIn,
)
from dealerflow.complaints.usecases import Uc
from dealerflow.runtime.auth import MANAGERS, Role, allow
from dealerflow.runtime.http import step_routes
from dealerflow.runtime.idempotency import IdempotencyKeyHeader, request_of

router = APIRouter(prefix="/v1", tags=["complaint actions"])
ComplaintIdPath = Annotated[uuid.UUID, Path(description="Complaint id.")]

_409: dict[int | str, dict[str, Any]] = {
    409: {"description": "Not allowed in the complaint's current status"}
}
_404: dict[int | str, dict[str, Any]] = {404: {"description": "No such complaint at this dealer"}}


_action = step_routes(
    router, "/complaints/{complaint_id}", response_model=ComplaintDetail, responses={**_404, **_409}
)


C = TypeVar("C", bound=actions.ComplaintCommand)

#: Who handles a complaint (acknowledge, inform, assign, pause, resume, resolve).
HANDLERS = allow(Role.CUSTOMER_RELATIONS, *MANAGERS)
#: Closing is the manager's sign-off.
CLOSERS = allow(*MANAGERS)
#: The customer is not satisfied: customer relations or a manager opens it again.
REOPENERS = allow(Role.CUSTOMER_RELATIONS, *MANAGERS)


@dataclass
class StaffAction:
    """FastAPI dependency of every action route: the service, the response and the
    request's Idempotency-Key; `run` runs one action once per key, in one transaction."""

    ctx: Ctx
    response: Response
    idempotency_key: IdempotencyKeyHeader = None

    async def run(
        self,
        name: str,
        body: ActionIn,
        action: Callable[[Uc, C], Awaitable[ComplaintRecord | None]],
        cmd: C,
    ) -> ComplaintDetail:
        request = request_of(self.idempotency_key, body)
        handled = await self.ctx.run_in_transaction(
            lambda uc: actions.act_once(uc, name, cmd, request, action)
        )
        return answer(handled, self.response)


Act = Annotated[StaffAction, Depends()]


@_action(
    "acknowledge",
    "Acknowledge to the customer (stops the acknowledge clock and its escalations)",
    dependencies=[HANDLERS],
)
async def acknowledge(
    act: Act, complaint_id: ComplaintIdPath, body: AcknowledgeIn
) -> ComplaintDetail:
    cmd = actions.AcknowledgeComplaint(
        body.dealer_id, complaint_id, handler_id=body.handler_id, channel=body.channel
    )
    return await act.run("acknowledge", body, actions.acknowledge, cmd)


@_action(
    "inform",
    "Record that the customer was told how it is handled (stops the inform clock)",
    dependencies=[HANDLERS],
)
async def inform(act: Act, complaint_id: ComplaintIdPath, body: InformIn) -> ComplaintDetail:
    cmd = actions.InformCustomer(body.dealer_id, complaint_id, by=body.by, note=body.note)
    return await act.run("inform", body, actions.inform, cmd)


@_action("assign", "Give the complaint a (new) handler and department", dependencies=[HANDLERS])
async def assign(act: Act, complaint_id: ComplaintIdPath, body: AssignIn) -> ComplaintDetail:
    cmd = actions.AssignComplaint(
        body.dealer_id,
        complaint_id,
        handler_id=body.handler_id,
        department=body.department,
        reason=body.reason,
    )
    return await act.run("assign", body, actions.assign, cmd)


@_action(
    "resolve",
    "Record the resolution (cancels every clock still running)",
    dependencies=[HANDLERS],
)
async def resolve(act: Act, complaint_id: ComplaintIdPath, body: ResolveIn) -> ComplaintDetail:
    cmd = actions.ResolveComplaint(
        body.dealer_id,
        complaint_id,
        responsibility=body.responsibility,
        measures=list(body.measures),
        resolution=body.resolution,
        responsible_department=body.responsible_department,
        responsible_staff_id=body.responsible_staff_id,
        cause=body.cause,
        handler_id=body.handler_id,
    )
    return await act.run("resolve", body, actions.resolve, cmd)


@_action("close", "Close after the customer confirmed", dependencies=[CLOSERS])
async def close(act: Act, complaint_id: ComplaintIdPath, body: CloseIn) -> ComplaintDetail:
    cmd = actions.CloseComplaint(
        body.dealer_id,
        complaint_id,
        closed_by=body.closed_by,
        customer_confirmed=body.customer_confirmed,
    )
    return await act.run("close", body, actions.close, cmd)


@_action(
    "reopen",
    "Reopen a resolved or closed complaint (a fresh resolve clock)",
    dependencies=[REOPENERS],
)
async def reopen(act: Act, complaint_id: ComplaintIdPath, body: ReopenIn) -> ComplaintDetail:
    cmd = actions.ReopenComplaint(body.dealer_id, complaint_id, reason=body.reason, by=body.by)
    return await act.run("reopen", body, actions.reopen, cmd)


@_action(
    "pause",
    "Pause the clocks while waiting on the customer (the legal inform clock keeps "
    "running unless the dealer's policy says otherwise)",
    dependencies=[HANDLERS],
)
async def pause(act: Act, complaint_id: ComplaintIdPath, body: PauseIn) -> ComplaintDetail:
    cmd = actions.PauseClocks(body.dealer_id, complaint_id, by=body.by, reason=body.reason)
    return await act.run("pause", body, actions.pause_clocks, cmd)


@_action("resume", "Resume paused clocks with the time they had left", dependencies=[HANDLERS])
async def resume(act: Act, complaint_id: ComplaintIdPath, body: ResumeIn) -> ComplaintDetail:
    cmd = actions.ResumeClocks(body.dealer_id, complaint_id, by=body.by)
    return await act.run("resume", body, actions.resume_clocks, cmd)
