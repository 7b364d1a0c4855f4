"""HTTP API of the complaint analysis: counts, repeats, times and SLA compliance over a
period, and the same complaints as a streamed CSV file. Registered before `api.router`,
whose ``/complaints/{complaint_id}`` would otherwise take ``/complaints/analysis`` for a
complaint id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from dealerflow.complaints.api import Ctx, DealerQuery
from dealerflow.complaints.domain_analysis import CSV_COLUMNS
from dealerflow.complaints.schemas_analysis import ComplaintAnalysisView
from dealerflow.complaints.usecases_analysis import (
    AnalysePeriod,
    complaint_analysis,
    export_batch,
)
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


_CSV_DESCRIPTION = (
    "One row per complaint opened in the period, oldest first, with a header line: "
    + ", ".join(CSV_COLUMNS)
    + ". No contact (name, phone, e-mail) and no summary or details."
)


@router.get(
    "/complaints/export.csv",
    response_class=StreamingResponse,
    summary="The period's complaints as CSV (streamed; the analysis columns, no contact data)",
    responses={
        200: {
            "description": _CSV_DESCRIPTION,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        422: {"description": "A period whose start is after its end"},
    },
    dependencies=[allow(*ANALYSTS)],
)
async def export_csv(
    ctx: Ctx, dealer_id: DealerQuery, first_day: FromQuery = None, last_day: ToQuery = None
) -> StreamingResponse:
    cmd = AnalysePeriod(dealer_id, first_day=first_day, last_day=last_day)
    # the first batch before the answer starts: a bad period is still a 422 problem
    first = await ctx.run_in_transaction(lambda uc: export_batch(uc, cmd, None))

    async def batches() -> AsyncIterator[str]:
        batch = first
        yield batch.text
        while (after := batch.after) is not None:
            batch = await ctx.run_in_transaction(
                lambda uc: export_batch(uc, cmd, after), dealers=dealer_id
            )
            yield batch.text

    name = f"complaints-{dealer_id}-{first_day or 'start'}-{last_day or 'now'}.csv"
    return StreamingResponse(
        batches(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
