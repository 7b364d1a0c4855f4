"""The sales HTTP API (/v1): thin endpoints, one transaction and one use case each."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.types import DecoratedCallable

from dealerflow.contracts.types import DEALER_ID_PATTERN
from dealerflow.runtime.db import transaction
from dealerflow.runtime.idempotency import IdempotencyKeyHeader
from dealerflow.runtime.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from dealerflow.runtime.service import ServiceContext, service_context
from dealerflow.sales import usecases, usecases_delivery, usecases_showroom
from dealerflow.sales.schemas import (
    AmendContractIn,
    CancelContractIn,
    ContractDetail,
    ContractSummary,
    DeliverIn,
    InvoiceIn,
    PaymentIn,
    QuoteIn,
    QuoteOut,
    ScheduleDeliveryIn,
    SignContractIn,
    TestDriveIn,
    TestDriveOut,
)

router = APIRouter(prefix="/v1")

Ctx = Annotated[ServiceContext[Any], Depends(service_context)]
DealerQuery = Annotated[str, Query(pattern=DEALER_ID_PATTERN, description="Dealer (store) code.")]


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {}}}


Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: _problem("No such resource at this dealer")}
INVALID: Responses = {422: _problem("Invalid request or broken business rule (errors listed)")}
CONFLICT: Responses = {409: _problem("Not allowed in the resource's current state (reason given)")}


def _contract_step(
    path: str, summary: str, *, responses: Responses | None = None, **options: Any
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """``POST /contracts/{contract_id}/<path>``: a step of a contract answered with the
    contract (``responses`` replace the usual problem descriptions)."""
    return router.post(
        f"/contracts/{{contract_id}}/{path}",
        response_model=ContractDetail,
        responses={**NOT_FOUND, **INVALID, **CONFLICT, **(responses or {})},
        tags=["contracts"],
        summary=summary,
        **options,
    )


def _created(response: Response, created: bool) -> None:
    # 201 for a new resource, 200 when an idempotent retry returns the existing one.
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK


@router.post(
    "/quotes",
    status_code=status.HTTP_201_CREATED,
    response_model=QuoteOut,
    responses={**INVALID},
    tags=["quotes"],
    summary="Issue a transparent quote (QuoteIssued, DiscountApprovalRequested)",
)
async def issue_quote(
    body: QuoteIn, response: Response, ctx: Ctx, idempotency_key: IdempotencyKeyHeader = None
) -> QuoteOut:
    async with transaction(ctx.db) as conn:
        quote, created = await usecases_showroom.issue_quote(conn, ctx, body, idempotency_key)
    _created(response, created)
    return quote


@router.get("/quotes/{quote_id}", response_model=QuoteOut, responses={**NOT_FOUND}, tags=["quotes"])
async def get_quote(quote_id: uuid.UUID, dealer_id: DealerQuery, ctx: Ctx) -> QuoteOut:
    async with transaction(ctx.db) as conn:
        return await usecases_showroom.get_quote(conn, dealer_id, quote_id)


@router.post(
    "/contracts",
    status_code=status.HTTP_201_CREATED,
    response_model=ContractDetail,
    responses={**INVALID, **CONFLICT},
    tags=["contracts"],
    summary="Sign a purchase contract (ContractSigned)",
)
async def sign_contract(
    body: SignContractIn, response: Response, ctx: Ctx, idempotency_key: IdempotencyKeyHeader = None
) -> ContractDetail:
    async with transaction(ctx.db) as conn:
        contract, created = await usecases.sign_contract(conn, ctx, body, idempotency_key)
    _created(response, created)
    return contract


@router.get("/contracts", response_model=Page[ContractSummary], tags=["contracts"])
async def list_contracts(
    dealer_id: DealerQuery,
    ctx: Ctx,
    status_: Annotated[
        Literal["active", "cancelled", "delivered"] | None, Query(alias="status")
    ] = None,
    consultant_id: str | None = None,
    customer_id: uuid.UUID | None = None,
    vin: str | None = None,
    signed_from: datetime | None = None,
    signed_to: datetime | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ContractSummary]:
    async with transaction(ctx.db) as conn:
        return await usecases.list_contracts(
            conn,
            dealer_id,
            status=status_,
            consultant_id=consultant_id,
            customer_id=customer_id,
            vin=vin,
            signed_from=signed_from,
            signed_to=signed_to,
            cursor=cursor,
            limit=limit,
        )


@router.get(
    "/contracts/{contract_id}",
    response_model=ContractDetail,
    responses={**NOT_FOUND},
    tags=["contracts"],
)
async def get_contract(contract_id: uuid.UUID, dealer_id: DealerQuery, ctx: Ctx) -> ContractDetail:
    async with transaction(ctx.db) as conn:
        return await usecases.get_contract_detail(conn, dealer_id, contract_id)


@_contract_step("amend", "Amend by mutual agreement: a new version (ContractAmended)")
async def amend_contract(contract_id: uuid.UUID, body: AmendContractIn, ctx: Ctx) -> ContractDetail:
    async with transaction(ctx.db) as conn:
        return await usecases.amend_contract(conn, ctx, contract_id, body)


@_contract_step("cancel", "Cancel per policy and refund (ContractCancelled, RefundIssued)")
async def cancel_contract(
    contract_id: uuid.UUID, body: CancelContractIn, ctx: Ctx
) -> ContractDetail:
    async with transaction(ctx.db) as conn:
        return await usecases.cancel_contract(conn, ctx, contract_id, body)


@_contract_step(
    "payments",
    "Record a payment in the ledger (PaymentReceived)",
    status_code=status.HTTP_201_CREATED,
)
async def record_payment(
    contract_id: uuid.UUID,
    body: PaymentIn,
    response: Response,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ContractDetail:
    async with transaction(ctx.db) as conn:
        contract, created = await usecases_delivery.record_payment(
            conn, ctx, contract_id, body, idempotency_key
        )
    _created(response, created)
    return contract


@_contract_step("invoice", "Issue the vehicle invoice (InvoiceIssued)")
async def issue_invoice(contract_id: uuid.UUID, body: InvoiceIn, ctx: Ctx) -> ContractDetail:
    async with transaction(ctx.db) as conn:
        return await usecases_delivery.issue_invoice(conn, ctx, contract_id, body)


@_contract_step("deliveries/schedule", "Agree the delivery appointment (DeliveryScheduled)")
async def schedule_delivery(
    contract_id: uuid.UUID, body: ScheduleDeliveryIn, ctx: Ctx
) -> ContractDetail:
    async with transaction(ctx.db) as conn:
        return await usecases_delivery.schedule_delivery(conn, ctx, contract_id, body)


@_contract_step(
    "deliver",
    "Hand the vehicle over (VehicleDelivered)",
    responses={
        409: _problem("Not ready: `missing` lists every blocker (documents, PDI, balance, ...)")
    },
)
async def deliver(contract_id: uuid.UUID, body: DeliverIn, ctx: Ctx) -> ContractDetail:
    async with transaction(ctx.db) as conn:
        return await usecases_delivery.deliver_vehicle(conn, ctx, contract_id, body)


@router.post(
    "/test-drives",
    status_code=status.HTTP_201_CREATED,
    response_model=TestDriveOut,
    responses={**INVALID, 409: _problem("The vehicle is already booked then")},
    tags=["test drives"],
    summary="Book a test drive, no double booking (TestDriveScheduled)",
)
async def book_test_drive(
    body: TestDriveIn, response: Response, ctx: Ctx, idempotency_key: IdempotencyKeyHeader = None
) -> TestDriveOut:
    async with transaction(ctx.db) as conn:
        booking, created = await usecases_showroom.book_test_drive(conn, ctx, body, idempotency_key)
    _created(response, created)
    return booking


@router.get(
    "/test-drives/{test_drive_id}",
    response_model=TestDriveOut,
    responses={**NOT_FOUND},
    tags=["test drives"],
)
async def get_test_drive(
    test_drive_id: uuid.UUID, dealer_id: DealerQuery, ctx: Ctx
) -> TestDriveOut:
    async with transaction(ctx.db) as conn:
        return await usecases_showroom.get_test_drive(conn, dealer_id, test_drive_id)
