"""The service-center HTTP API (/v1): thin endpoints, one transaction and one use case each."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.types import DecoratedCallable

from dealerflow.contracts.types import DEALER_ID_PATTERN
from dealerflow.runtime.db import transaction
from dealerflow.runtime.idempotency import IdempotencyKeyHeader
from dealerflow.runtime.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from dealerflow.runtime.service import ServiceContext, service_context
from dealerflow.service_center import usecases, usecases_workshop
from dealerflow.service_center.domain import RepairOrderStatus
from dealerflow.service_center.schemas import (
    CompleteIn,
    DecisionIn,
    DiagnosisIn,
    HandoverIn,
    OpenRepairOrderIn,
    QualityCheckIn,
    RepairOrderDetail,
    RepairOrderSummary,
    RepairQuoteIn,
)

router = APIRouter(prefix="/v1", tags=["repair orders"])

Ctx = Annotated[ServiceContext[Any], Depends(service_context)]
DealerQuery = Annotated[str, Query(pattern=DEALER_ID_PATTERN, description="Dealer (store) code.")]
Responses = dict[int | str, dict[str, Any]]


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {}}}


STEP: Responses = {
    404: _problem("No such repair order at this dealer"),
    409: _problem("Illegal in the repair order's current state (reason given)"),
    422: _problem("Invalid request or broken business rule (errors listed)"),
}


def _step(
    name: str, summary: str, responses: Responses | None = None
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """``POST /repair-orders/{repair_order_id}/<name>``: a workflow step answered with the
    repair order (``responses`` replace the usual problem descriptions)."""
    return router.post(
        f"/repair-orders/{{repair_order_id}}/{name}",
        response_model=RepairOrderDetail,
        responses={**STEP, **(responses or {})},
        summary=summary,
    )


@router.post(
    "/repair-orders",
    status_code=status.HTTP_201_CREATED,
    response_model=RepairOrderDetail,
    responses={422: STEP[422], 409: STEP[409]},
    summary="Check a vehicle in (RepairOrderOpened)",
)
async def open_repair_order(
    body: OpenRepairOrderIn,
    response: Response,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> RepairOrderDetail:
    async with transaction(ctx.db) as conn:
        ro, created = await usecases.open_repair_order(conn, ctx, body, idempotency_key)
    # 201 for a new repair order, 200 when a retry returns the existing one.
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return ro


@router.get("/repair-orders", response_model=Page[RepairOrderSummary])
async def list_repair_orders(
    dealer_id: DealerQuery,
    ctx: Ctx,
    status_: Annotated[RepairOrderStatus | None, Query(alias="status")] = None,
    vin: str | None = None,
    advisor_id: str | None = None,
    customer_id: uuid.UUID | None = None,
    opened_from: datetime | None = None,
    opened_to: datetime | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[RepairOrderSummary]:
    async with transaction(ctx.db) as conn:
        return await usecases.list_repair_orders(
            conn,
            dealer_id,
            status=status_.value if status_ else None,
            vin=vin,
            advisor_id=advisor_id,
            customer_id=customer_id,
            opened_from=opened_from,
            opened_to=opened_to,
            cursor=cursor,
            limit=limit,
        )


@router.get(
    "/repair-orders/{repair_order_id}",
    response_model=RepairOrderDetail,
    responses={404: STEP[404]},
)
async def get_repair_order(
    repair_order_id: uuid.UUID, dealer_id: DealerQuery, ctx: Ctx
) -> RepairOrderDetail:
    async with transaction(ctx.db) as conn:
        return await usecases.get_repair_order(conn, dealer_id, repair_order_id)


@_step("diagnosis", "Record the diagnosis (DiagnosisCompleted)")
async def diagnose(repair_order_id: uuid.UUID, body: DiagnosisIn, ctx: Ctx) -> RepairOrderDetail:
    async with transaction(ctx.db) as conn:
        return await usecases.record_diagnosis(conn, ctx, repair_order_id, body)


@_step("quote", "Quote parts and labour (RepairQuoted)")
async def quote(repair_order_id: uuid.UUID, body: RepairQuoteIn, ctx: Ctx) -> RepairOrderDetail:
    async with transaction(ctx.db) as conn:
        return await usecases.quote_repair(conn, ctx, repair_order_id, body)


@_step("approve", "The customer's decision (RepairApproved, RepairItemDeclined)")
async def approve(repair_order_id: uuid.UUID, body: DecisionIn, ctx: Ctx) -> RepairOrderDetail:
    async with transaction(ctx.db) as conn:
        return await usecases.record_decision(conn, ctx, repair_order_id, body)


@_step("complete", "Work done (RepairCompleted)")
async def complete(repair_order_id: uuid.UUID, body: CompleteIn, ctx: Ctx) -> RepairOrderDetail:
    async with transaction(ctx.db) as conn:
        return await usecases_workshop.complete_work(conn, ctx, repair_order_id, body)


@_step("quality-check", "Quality check after work (QualityCheckPassed / QualityCheckFailed)")
async def quality_check(
    repair_order_id: uuid.UUID, body: QualityCheckIn, ctx: Ctx
) -> RepairOrderDetail:
    async with transaction(ctx.db) as conn:
        return await usecases_workshop.record_quality_check(conn, ctx, repair_order_id, body)


@_step(
    "handover",
    "Return the vehicle (VehicleHandedOver)",
    {409: _problem("Not ready: `missing` lists every blocker (quality check, work, ...)")},
)
async def handover(repair_order_id: uuid.UUID, body: HandoverIn, ctx: Ctx) -> RepairOrderDetail:
    async with transaction(ctx.db) as conn:
        return await usecases_workshop.hand_over(conn, ctx, repair_order_id, body)
