"""HTTP API of the sales manager's views of leads: the daily visit report, a consultant's
worklist, the board by grade and consultant, and the funnel. Thin like ``api``.

Who: the visit report, the board and the funnel are the sales manager's and the gm's; the
worklist is also the consultant's, who sees only their own (without naming themselves).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AfterValidator

from dealerflow.leads import repository as repo
from dealerflow.leads import repository_reports as reports
from dealerflow.leads.api import PROBLEM, Ctx, DealerQuery
from dealerflow.leads.schemas_reports import BoardOut, FunnelOut, VisitReportOut, WorklistOut
from dealerflow.leads.usecases_reports import (
    FunnelQuery,
    InvalidPeriod,
    OthersWorklist,
    VisitReportQuery,
    WorklistQuery,
    board,
    funnel,
    visit_report,
    worklist,
)
from dealerflow.runtime.auth import Principal, Role, allow
from dealerflow.runtime.pagination import DEFAULT_LIMIT, Cursor, Limit, decode_cursor

router = APIRouter(prefix="/v1", tags=["reports"])

#: Who reads the dealer-wide views.
MANAGERS = allow(Role.SALES_MANAGER, Role.GM)
#: Who reads a worklist (a consultant only their own).
Worker = Annotated[Principal, allow(Role.CONSULTANT, Role.SALES_MANAGER, Role.GM)]

ConsultantQuery = Annotated[
    str | None, Query(max_length=64, description="One consultant (default: all).")
]
_RESPONSES: dict[int | str, dict[str, Any]] = {422: PROBLEM}


def _plausible_day(day: date) -> date:
    # a dealer-local day becomes a UTC instant: year 1 or 9999 would overflow (a 500,
    # schemathesis found)
    if not date(1900, 1, 1) <= day <= date(9998, 12, 31):
        raise ValueError("must be a day between 1900-01-01 and 9998-12-31")
    return day


#: A dealer-local day of a report.
ReportDay = Annotated[date, AfterValidator(_plausible_day)]


@router.get(
    "/visit-report", response_model=VisitReportOut, responses=_RESPONSES, dependencies=[MANAGERS]
)
async def get_visit_report(
    dealer_id: DealerQuery,
    ctx: Ctx,
    day: Annotated[
        ReportDay | None, Query(description="Dealer-local day (default: today).")
    ] = None,
    consultant_id: ConsultantQuery = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> VisitReportOut:
    """The daily visit report: every contact logged that day (when, channel, outcome,
    grade after, next contact, notes) by consultant and time, with each consultant's
    totals."""
    query = VisitReportQuery(
        dealer_id, day, consultant_id, limit, decode_cursor(cursor, *reports.VISIT_KEY_KINDS)
    )
    return VisitReportOut.of(await ctx.run_in_transaction(lambda uc: visit_report(uc, query)))


@router.get("/worklist", response_model=WorklistOut, responses={403: PROBLEM, **_RESPONSES})
async def get_worklist(
    dealer_id: DealerQuery,
    ctx: Ctx,
    principal: Worker,
    consultant_id: ConsultantQuery = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> WorklistOut:
    """Open leads owed a contact today: a first contact, an overdue or a due follow-up, in
    priority order (referrals first, then newest). A consultant gets their own."""
    own = principal.subject if principal.roles <= {Role.CONSULTANT} else None
    if own is not None and consultant_id not in (None, own):
        raise OthersWorklist("a consultant reads only their own worklist")
    query = WorklistQuery(
        dealer_id, own or consultant_id, limit, decode_cursor(cursor, *repo.LIST_KEY_KINDS)
    )
    return WorklistOut.of(await ctx.run_in_transaction(lambda uc: worklist(uc, query)))


@router.get("/lead-board", response_model=BoardOut, dependencies=[MANAGERS])
async def get_board(dealer_id: DealerQuery, ctx: Ctx) -> BoardOut:
    """The dealer's leads by consultant and grade (N, H, A, B, C, O, D, F), and the open
    leads whose first-contact SLA was breached, by consultant."""
    return BoardOut.of(dealer_id, await ctx.run_in_transaction(lambda uc: board(uc, dealer_id)))


@router.get("/lead-funnel", response_model=FunnelOut, responses=_RESPONSES, dependencies=[MANAGERS])
async def get_funnel(
    dealer_id: DealerQuery,
    ctx: Ctx,
    start: Annotated[ReportDay, Query(alias="from", description="First dealer-local day.")],
    end: Annotated[ReportDay, Query(alias="to", description="Last dealer-local day (inclusive).")],
    channel: Annotated[str | None, Query(max_length=32)] = None,
) -> FunnelOut:
    """Of the leads created from `from` to `to`, per channel: how many were contacted, got
    an appointment, came (visit), came to a test drive, signed a contract, took delivery."""
    if end < start:
        raise InvalidPeriod("`to` is before `from`")
    query = FunnelQuery(dealer_id, start, end, channel)
    rows = await ctx.run_in_transaction(lambda uc: funnel(uc, query))
    return FunnelOut.of(dealer_id, start, end, rows)
