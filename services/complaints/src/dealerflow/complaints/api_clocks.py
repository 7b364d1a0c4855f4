"""HTTP API: a complaint's SLA clocks (GET /v1/complaints/{id}/clocks), every one with
its time left now, pauses, breached or met. Thin: one read use case in one transaction."""

from __future__ import annotations

from fastapi import APIRouter

from dealerflow.complaints.api import READERS, ComplaintIdPath, Ctx, DealerQuery
from dealerflow.complaints.schemas_clocks import ComplaintClocks
from dealerflow.complaints.usecases import complaint_case
from dealerflow.runtime.auth import allow

router = APIRouter(prefix="/v1", tags=["complaints"])


@router.get(
    "/complaints/{complaint_id}/clocks",
    response_model=ComplaintClocks,
    summary="Every SLA clock of a complaint with its time left, pauses, breached or met",
    responses={404: {"description": "No such complaint at this dealer"}},
    dependencies=[allow(*READERS)],
)
async def complaint_clocks(
    ctx: Ctx, complaint_id: ComplaintIdPath, dealer_id: DealerQuery
) -> ComplaintClocks:
    case = await ctx.run_in_transaction(lambda uc: complaint_case(uc, dealer_id, complaint_id))
    return ComplaintClocks.of_case(case)
