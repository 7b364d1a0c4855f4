"""Routes of the parts desk: the dealer's parts catalogue with its stock."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from dealerflow.contracts.enums import PartCategory
from dealerflow.runtime.auth import allow
from dealerflow.runtime.http import Responses, problem_doc
from dealerflow.runtime.idempotency import IdempotencyKeyHeader, request_of
from dealerflow.runtime.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor, page_of
from dealerflow.service_center import usecases_parts
from dealerflow.service_center.api import READERS, WORKSHOP, Ctx, DealerQuery
from dealerflow.service_center.repository_parts import PurchaseOrderLine, ReservationRecord
from dealerflow.service_center.schemas_parts import (
    MovePartsIn,
    PartIn,
    PartOut,
    PurchaseOrderIn,
    PurchaseOrderOut,
    ReceiptIn,
    RepairOrderPartsOut,
    StockCountIn,
    StockCountOut,
)

router = APIRouter(prefix="/v1", tags=["parts"])

PartNumberPath = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$", description="Part number."),
]


@router.put(
    "/parts/{part_number}",
    response_model=PartOut,
    responses={
        200: {"description": "The entry was replaced (its stock kept)"},
        422: problem_doc("Invalid request or contradicting limits (errors listed)"),
    },
    status_code=status.HTTP_201_CREATED,
    dependencies=[allow(*WORKSHOP)],
    summary="Create or replace a part in the dealer's catalogue",
)
async def put_part(
    part_number: PartNumberPath, body: PartIn, response: Response, ctx: Ctx
) -> PartOut:
    """Description, category, unit price, reorder point and over-stock limit (above the
    reorder point). 201 when created, 200 when replaced; the stock is never set here."""
    cmd = usecases_parts.SavePart(
        dealer_id=body.dealer_id,
        part_number=part_number,
        description=body.description,
        category=body.category,
        unit_price=Decimal(body.unit_price.amount),
        currency=body.unit_price.currency,
        reorder_point=body.reorder_point,
        over_stock_limit=body.over_stock_limit,
    )
    saved = await ctx.run_in_transaction(lambda uc: usecases_parts.save_part(uc, cmd))
    response.status_code = status.HTTP_201_CREATED if saved.created else status.HTTP_200_OK
    return PartOut.of(saved.stock)


@router.get(
    "/parts",
    response_model=Page[PartOut],
    dependencies=[allow(*READERS)],
    summary="The dealer's parts with on hand, reserved, available, low and over-stocked",
)
async def list_parts(
    dealer_id: DealerQuery,
    ctx: Ctx,
    category: Annotated[PartCategory | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[PartOut]:
    after = decode_cursor(cursor, str)
    query = usecases_parts.ListParts(
        dealer_id=dealer_id,
        category=category,
        after=after[0] if after else None,
        limit=limit,
    )
    found = await ctx.run_in_transaction(lambda uc: usecases_parts.list_parts(uc, query))
    page, next_cursor = page_of(found, limit, lambda s: (s.part.part_number,))
    return Page[PartOut](items=[PartOut.of(s) for s in page], next_cursor=next_cursor)


@router.get(
    "/parts/{part_number}",
    response_model=PartOut,
    responses={404: problem_doc("No such part in the dealer's catalogue")},
    dependencies=[allow(*READERS)],
    summary="One part with its stock",
)
async def get_part(part_number: PartNumberPath, dealer_id: DealerQuery, ctx: Ctx) -> PartOut:
    stock = await ctx.run_in_transaction(
        lambda uc: usecases_parts.get_part(uc, dealer_id, part_number)
    )
    return PartOut.of(stock)


@router.post(
    "/stock-counts",
    response_model=StockCountOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        404: problem_doc("A counted part is not in the catalogue"),
        422: problem_doc("Invalid request, or a count below the reserved (errors listed)"),
    },
    dependencies=[allow(*WORKSHOP)],
    summary="Record a stock count: on hand becomes the counted quantity (adjustments kept)",
)
async def post_stock_count(
    body: StockCountIn, ctx: Ctx, idempotency_key: IdempotencyKeyHeader = None
) -> StockCountOut:
    """Each counted part's on hand is set to the count; the difference is recorded with
    the reason. A count may not fall below what is reserved. A part the count leaves low
    publishes PartStockLow."""
    cmd = usecases_parts.CountStock(
        dealer_id=body.dealer_id,
        request=request_of(idempotency_key, body),
        counted=tuple((c.part_number, c.counted) for c in body.counted),
        reason=body.reason,
    )
    counted = await ctx.run_in_transaction(lambda uc: usecases_parts.count_stock(uc, cmd))
    return StockCountOut.of(counted)


@router.get(
    "/repair-orders/{repair_order_id}/parts",
    response_model=RepairOrderPartsOut,
    responses={404: problem_doc("No such repair order at this dealer")},
    dependencies=[allow(*READERS)],
    summary="The parts reserved or back-ordered for a repair order",
)
async def get_repair_order_parts(
    repair_order_id: uuid.UUID, dealer_id: DealerQuery, ctx: Ctx
) -> RepairOrderPartsOut:
    found = await ctx.run_in_transaction(
        lambda uc: usecases_parts.reservations_of(uc, dealer_id, repair_order_id)
    )
    return RepairOrderPartsOut.of(repair_order_id, found)


PARTS_STEP: Responses = {
    404: problem_doc("No such repair order at this dealer"),
    409: problem_doc("A named line cannot move in its state (problems listed)"),
}


MoveUseCase = Callable[
    [usecases_parts.Uc, usecases_parts.MoveParts], Awaitable[list[ReservationRecord]]
]


def _move_route(move: str, summary: str, description: str, use_case: MoveUseCase) -> None:
    """``POST /v1/repair-orders/{id}/parts/<move>``: one use case moving reserved lines."""

    @router.post(
        f"/repair-orders/{{repair_order_id}}/parts/{move}",
        response_model=RepairOrderPartsOut,
        responses=PARTS_STEP,
        dependencies=[allow(*WORKSHOP)],
        summary=summary,
        description=description,
        name=f"{move}_parts",
    )
    async def route(
        repair_order_id: uuid.UUID,
        body: MovePartsIn,
        ctx: Ctx,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> RepairOrderPartsOut:
        cmd = usecases_parts.MoveParts(
            dealer_id=body.dealer_id,
            repair_order_id=repair_order_id,
            request=request_of(idempotency_key, body),
            item_ids=tuple(body.item_ids) if body.item_ids is not None else None,
        )
        found = await ctx.run_in_transaction(lambda uc: use_case(uc, cmd))
        return RepairOrderPartsOut.of(repair_order_id, found)


_move_route(
    "issue",
    "Issue the reserved parts to the workshop",
    "On hand and reserved go down by each issued line (none named: every reserved line).",
    usecases_parts.issue_parts,
)
_move_route(
    "return",
    "Return unused parts (issued: back on the shelf; reserved: released)",
    "None named: every issued or reserved line. Either raises available.",
    usecases_parts.return_parts,
)


PO_STEP: Responses = {
    404: problem_doc("No such purchase order (or part) at this dealer"),
    409: problem_doc("The purchase order was received already, or its id is taken"),
    422: problem_doc("Invalid request (errors listed)"),
}


@router.post(
    "/purchase-orders",
    response_model=PurchaseOrderOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        **PO_STEP,
        200: {"model": PurchaseOrderOut, "description": "A retry: the order the first made"},
    },
    dependencies=[allow(*WORKSHOP)],
    summary="Order catalogue parts from a supplier",
)
async def post_purchase_order(
    body: PurchaseOrderIn,
    response: Response,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> PurchaseOrderOut:
    """201 for a new order, 200 when a retry returns the existing one."""
    cmd = usecases_parts.OrderParts(
        dealer_id=body.dealer_id,
        purchase_order_id=body.purchase_order_id,
        request=request_of(idempotency_key, body, body.purchase_order_id),
        supplier=body.supplier,
        lines=tuple(
            PurchaseOrderLine(
                part_number=line.part_number,
                quantity=line.quantity,
                unit_cost=Decimal(line.unit_cost.amount),
                currency=line.unit_cost.currency,
            )
            for line in body.lines
        ),
    )
    placed = await ctx.run_in_transaction(lambda uc: usecases_parts.order_parts(uc, cmd))
    response.status_code = status.HTTP_201_CREATED if placed.created else status.HTTP_200_OK
    return PurchaseOrderOut.of(placed.order)


@router.get(
    "/purchase-orders/{purchase_order_id}",
    response_model=PurchaseOrderOut,
    responses={404: PO_STEP[404]},
    dependencies=[allow(*READERS)],
    summary="One purchase order",
)
async def get_purchase_order(
    purchase_order_id: uuid.UUID, dealer_id: DealerQuery, ctx: Ctx
) -> PurchaseOrderOut:
    found = await ctx.run_in_transaction(
        lambda uc: usecases_parts.get_purchase_order(uc, dealer_id, purchase_order_id)
    )
    return PurchaseOrderOut.of(found)


@router.post(
    "/purchase-orders/{purchase_order_id}/receipt",
    response_model=PurchaseOrderOut,
    responses=PO_STEP,
    dependencies=[allow(*WORKSHOP)],
    summary="Receive a purchase order: the delivered quantities are added to on hand",
)
async def post_receipt(
    purchase_order_id: uuid.UUID,
    body: ReceiptIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> PurchaseOrderOut:
    """No lines: everything ordered arrived; a part of the order not listed: none came."""
    cmd = usecases_parts.ReceiveParts(
        dealer_id=body.dealer_id,
        purchase_order_id=purchase_order_id,
        request=request_of(idempotency_key, body),
        counted={line.part_number: line.received for line in body.lines}
        if body.lines is not None
        else None,
    )
    received = await ctx.run_in_transaction(lambda uc: usecases_parts.receive_parts(uc, cmd))
    return PurchaseOrderOut.of(received)
