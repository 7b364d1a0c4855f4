"""HTTP API: a complaint's investigation (the customer's sales and repair orders at the
dealer, the responsibility and measures) and the customer's confirmation step."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from dealerflow.complaints import usecases_investigation as investigation
from dealerflow.complaints.api import Ctx, DealerQuery
from dealerflow.complaints.api_actions import HANDLERS, Act, ComplaintIdPath
from dealerflow.complaints.schemas import ComplaintDetail
from dealerflow.complaints.schemas_investigation import ConfirmationIn, InvestigationView
from dealerflow.runtime.http import step_routes

router = APIRouter(prefix="/v1", tags=["complaint investigation"])

_404: dict[int | str, dict[str, Any]] = {404: {"description": "No such complaint at this dealer"}}
_409: dict[int | str, dict[str, Any]] = {409: {"description": "The complaint is not resolved"}}

_step = step_routes(
    router, "/complaints/{complaint_id}", response_model=ComplaintDetail, responses={**_404, **_409}
)


@router.get(
    "/complaints/{complaint_id}/investigation",
    response_model=InvestigationView,
    summary="The customer's sales and repair orders at the dealer, the responsibility, "
    "measures and the customer's confirmations",
    responses=_404,
    dependencies=[HANDLERS],
)
async def get_investigation(
    ctx: Ctx, complaint_id: ComplaintIdPath, dealer_id: DealerQuery
) -> InvestigationView:
    found = await ctx.run_in_transaction(
        lambda uc: investigation.investigation_of(uc, dealer_id, complaint_id)
    )
    return InvestigationView.of(found)


@_step(
    "confirmation",
    "Record the customer's answer to the resolution (confirmed or not)",
    dependencies=[HANDLERS],
)
async def confirm(act: Act, complaint_id: ComplaintIdPath, body: ConfirmationIn) -> ComplaintDetail:
    cmd = investigation.ConfirmResolution(
        body.dealer_id,
        complaint_id,
        confirmed=body.confirmed,
        channel=body.channel,
        note=body.note,
        by=body.by,
    )
    return await act.run("confirmation", body, investigation.confirm_resolution, cmd)
