"""HTTP API of the complaint analysis: counts, repeats, times and SLA compliance over a
period. Registered before `api.router`, whose ``/complaints/{complaint_id}`` would
otherwise take ``/complaints/analysis`` for a complaint id."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from dealerflow.complaints.api import Ctx, DealerQuery
from dealerflow.complaints.schemas_analysis import ComplaintAnalysisView
from dealerflow.complaints.usecases_analysis import AnalysePeriod, complaint_analysis
from dealerflow.runtime.auth import MANAGERS, Role, allow

router = APIRouter(prefix="/v1", tags=["complaint analysis"])

#: Managers and customer relations read the analysis.
ANALYSTS = (Role.CUSTOMER_RELATIONS, *MANAGERS)

FromQuery = Annotated[
    date | None,
    Query(alias="from", description="First day, included (dealer's time zone)."),
]
ToQuery = Annotated[
    date | None,
    Query(alias="to", description="Last day, included (dealer's time zone)."),
]


@router.get(
    "/complaints/analysis",
    response_model=ComplaintAnalysisView,
    summary="Complaint analysis over a period (counts, repeats, p50/p90 times, SLA compliance)",
    responses={422: {"description": "A period whose start is after its end"}},
    dependencies=[allow(*ANALYSTS)],
)
async def analysis(
    ctx: Ctx, dealer_id: DealerQuery, first_day: FromQuery = None, last_day: ToQuery = None
) -> ComplaintAnalysisView:
    cmd = AnalysePeriod(dealer_id, first_day=first_day, last_day=last_day)
    found = await ctx.run_in_transaction(lambda uc: complaint_analysis(uc, cmd))
    return ComplaintAnalysisView.of(dealer_id, found)
