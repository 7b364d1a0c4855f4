"""The showroom visit register (/v1/visits): reception and the consultants register
visits, take the needs analysis and record the departure; every staff member of the
dealer reads them (conventions and roles as :mod:`api`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from dealerflow.runtime.auth import Principal, allow
from dealerflow.runtime.http import step_routes
from dealerflow.runtime.idempotency import IdempotencyKeyHeader
from dealerflow.sales import usecases_visits
from dealerflow.sales.api import (
    CONFLICT,
    INVALID,
    NOT_FOUND,
    READERS,
    SHOWROOM,
    Ctx,
    DealerQuery,
    created,
)
from dealerflow.sales.schemas_visits import (
    DepartureIn,
    NeedsStepIn,
    VisitHistoryOut,
    VisitIn,
    VisitOut,
)

router = APIRouter(prefix="/v1")

_visit_step = step_routes(
    router,
    "/visits/{visit_id}",
    response_model=VisitOut,
    responses={**NOT_FOUND, **INVALID, **CONFLICT},
    tags=["visits"],
    dependencies=[allow(*SHOWROOM)],
)


@router.post(
    "/visits",
    status_code=status.HTTP_201_CREATED,
    response_model=VisitOut,
    responses={**INVALID},
    tags=["visits"],
    summary="Register a showroom visit (ShowroomVisitRecorded)",
)
async def record_visit(
    body: VisitIn,
    response: Response,
    ctx: Ctx,
    principal: Annotated[Principal, allow(*SHOWROOM)],
    idempotency_key: IdempotencyKeyHeader = None,
) -> VisitOut:
    """First or return visit as the register says (an earlier visit of the customer at
    this dealer makes it a return visit); departure and needs may come now or later."""
    cmd = body.command(idempotency_key, caller=principal.subject)
    recorded = await ctx.run_in_transaction(lambda uc: usecases_visits.record_visit(uc, cmd))
    created(response, recorded.created)
    return VisitOut.of(recorded.value)


@_visit_step("needs", "Take the visit's needs analysis (ShowroomVisitRecorded with needs)")
async def record_needs(
    visit_id: uuid.UUID,
    body: NeedsStepIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> VisitOut:
    cmd = body.command(idempotency_key, visit_id=visit_id)
    visit = await ctx.run_in_transaction(lambda uc: usecases_visits.record_needs(uc, cmd))
    return VisitOut.of(visit)


@_visit_step("departure", "Record the departure (ShowroomVisitRecorded with the duration)")
async def record_departure(
    visit_id: uuid.UUID,
    body: DepartureIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> VisitOut:
    """409 ``visit-already-left`` when the departure is on record already."""
    cmd = body.command(idempotency_key, visit_id=visit_id)
    visit = await ctx.run_in_transaction(lambda uc: usecases_visits.record_departure(uc, cmd))
    return VisitOut.of(visit)


@router.get(
    "/visits/{visit_id}",
    response_model=VisitOut,
    responses={**NOT_FOUND},
    tags=["visits"],
    dependencies=[allow(*READERS)],
)
async def get_visit(visit_id: uuid.UUID, dealer_id: DealerQuery, ctx: Ctx) -> VisitOut:
    visit = await ctx.run_in_transaction(
        lambda uc: usecases_visits.get_visit(uc, dealer_id, visit_id)
    )
    return VisitOut.of(visit)


@router.get(
    "/visits",
    response_model=VisitHistoryOut,
    tags=["visits"],
    dependencies=[allow(*READERS)],
)
async def visit_history(
    dealer_id: DealerQuery, customer_id: Annotated[uuid.UUID, Query()], ctx: Ctx
) -> VisitHistoryOut:
    """The customer's visits with their needs analyses, newest first (at most 100)."""
    visits = await ctx.run_in_transaction(
        lambda uc: usecases_visits.visit_history(uc, dealer_id, customer_id)
    )
    return VisitHistoryOut(customer_id=customer_id, visits=[VisitOut.of(v) for v in visits])
