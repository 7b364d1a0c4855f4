"""The sales contract API (/v1/contracts; quotes and test drives: :mod:`api_showroom`).

Every route is thin: the body's command, one use case in ``ctx.run_in_transaction``, the
response mapped with ``View.of``. Refusals are domain exceptions, answered as problems
by the runtime (:mod:`problems`).

Every route declares who may call it (``allow``; the OpenAPI lists them as ``x-roles``):
the showroom work (quotes, test drives, contracts, delivery) is the consultants' and their
managers'; money (payments, invoices, the refund of a cancellation) is the managers';
every staff member of the dealer may read its records. ``integration`` (a DMS) may push
what it keeps too: signed contracts, payments, invoices, deliveries, and read contracts.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from dealerflow.contracts.types import DEALER_ID_PATTERN
from dealerflow.runtime.auth import STAFF, Principal, Role, allow
from dealerflow.runtime.http import Responses, problem_doc, step_routes
from dealerflow.runtime.idempotency import IdempotencyKeyHeader
from dealerflow.runtime.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor
from dealerflow.runtime.service import ServiceContext, service_context
from dealerflow.sales import usecases, usecases_contracts, usecases_delivery
from dealerflow.sales.schemas import (
    AmendContractIn,
    CancelContractIn,
    ContractDetail,
    ContractSummary,
    SignContractIn,
)
from dealerflow.sales.schemas_delivery import DeliverIn, InvoiceIn, PaymentIn, ScheduleDeliveryIn
from dealerflow.sales.settings import SalesSettings

router = APIRouter(prefix="/v1")

Ctx = Annotated[ServiceContext[SalesSettings], Depends(service_context)]
DealerQuery = Annotated[str, Query(pattern=DEALER_ID_PATTERN, description="Dealer (store) code.")]


NOT_FOUND: Responses = {404: problem_doc("No such resource at this dealer")}
INVALID: Responses = {422: problem_doc("Invalid request or broken business rule (errors listed)")}
CONFLICT: Responses = {
    409: problem_doc("Not allowed in the resource's current state (reason given)")
}

#: Showroom work: the consultant and the managers of the sale.
SHOWROOM = (Role.CONSULTANT, Role.SALES_MANAGER, Role.GM)
#: Money (payments, invoices, refunds): the managers only.
FINANCE = (Role.SALES_MANAGER, Role.GM)
#: Reads of the dealer's sales records: every staff role.
READERS = STAFF


def created(response: Response, is_new: bool) -> None:
    """201 for a new resource, 200 when an idempotent retry returns the existing one."""
    response.status_code = status.HTTP_201_CREATED if is_new else status.HTTP_200_OK


_contract_step = step_routes(
    router,
    "/contracts/{contract_id}",
    response_model=ContractDetail,
    responses={**NOT_FOUND, **INVALID, **CONFLICT},
    tags=["contracts"],
)


@router.post(
    "/contracts",
    status_code=status.HTTP_201_CREATED,
    response_model=ContractDetail,
    responses={**INVALID, **CONFLICT},
    tags=["contracts"],
    summary="Sign a purchase contract (ContractSigned)",
)
async def sign_contract(
    body: SignContractIn,
    response: Response,
    ctx: Ctx,
    principal: Annotated[Principal, allow(*SHOWROOM, Role.INTEGRATION)],
    idempotency_key: IdempotencyKeyHeader = None,
) -> ContractDetail:
    """A DMS (integration) may push contracts signed there. The consultant is
    ``consultant_id`` of the body, or the caller (the token's subject) when it names none."""
    cmd = body.command(idempotency_key, caller=principal.subject)
    signed = await ctx.run_in_transaction(lambda uc: usecases_contracts.sign_contract(uc, cmd))
    created(response, signed.created)
    return ContractDetail.of(signed.value)


@router.get(
    "/contracts",
    response_model=Page[ContractSummary],
    tags=["contracts"],
    dependencies=[allow(*READERS, Role.INTEGRATION)],
)
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
    query = usecases.ListContracts(
        dealer_id=dealer_id,
        limit=limit,
        status=status_,
        consultant_id=consultant_id,
        customer_id=customer_id,
        vin=vin,
        signed_from=signed_from,
        signed_to=signed_to,
        after=decode_cursor(cursor, datetime, uuid.UUID),
    )
    contracts, next_cursor = await ctx.run_in_transaction(
        lambda uc: usecases.list_contracts(uc, query)
    )
    return Page[ContractSummary](
        items=[ContractSummary.of(c) for c in contracts], next_cursor=next_cursor
    )


@router.get(
    "/contracts/{contract_id}",
    response_model=ContractDetail,
    responses={**NOT_FOUND},
    tags=["contracts"],
    dependencies=[allow(*READERS, Role.INTEGRATION)],
)
async def get_contract(contract_id: uuid.UUID, dealer_id: DealerQuery, ctx: Ctx) -> ContractDetail:
    file = await ctx.run_in_transaction(
        lambda uc: usecases.get_contract(uc, dealer_id, contract_id)
    )
    return ContractDetail.of(file)


@_contract_step(
    "amend",
    "Amend by mutual agreement: a new version (ContractAmended)",
    dependencies=[allow(*SHOWROOM)],
)
async def amend_contract(
    contract_id: uuid.UUID,
    body: AmendContractIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ContractDetail:
    cmd = body.command(contract_id, idempotency_key)
    return ContractDetail.of(
        await ctx.run_in_transaction(lambda uc: usecases_contracts.amend_contract(uc, cmd))
    )


@_contract_step(
    "cancel",
    "Cancel per policy and refund (ContractCancelled, RefundIssued)",
    dependencies=[allow(*FINANCE)],
)
async def cancel_contract(
    contract_id: uuid.UUID,
    body: CancelContractIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ContractDetail:
    """Managers only: a cancellation refunds the customer (RefundIssued)."""
    cmd = body.command(contract_id, idempotency_key)
    return ContractDetail.of(
        await ctx.run_in_transaction(lambda uc: usecases_contracts.cancel_contract(uc, cmd))
    )


@_contract_step(
    "payments",
    "Record a payment in the ledger (PaymentReceived)",
    status_code=status.HTTP_201_CREATED,
    dependencies=[allow(*FINANCE, Role.INTEGRATION)],
)
async def record_payment(
    contract_id: uuid.UUID,
    body: PaymentIn,
    response: Response,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ContractDetail:
    cmd = body.command(contract_id, idempotency_key)
    recorded = await ctx.run_in_transaction(lambda uc: usecases_delivery.record_payment(uc, cmd))
    created(response, recorded.created)
    return ContractDetail.of(recorded.value)


@_contract_step(
    "invoice",
    "Issue the vehicle invoice (InvoiceIssued)",
    dependencies=[allow(*FINANCE, Role.INTEGRATION)],
)
async def issue_invoice(
    contract_id: uuid.UUID,
    body: InvoiceIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ContractDetail:
    cmd = body.command(contract_id, idempotency_key)
    return ContractDetail.of(
        await ctx.run_in_transaction(lambda uc: usecases_delivery.issue_invoice(uc, cmd))
    )


@_contract_step(
    "deliveries/schedule",
    "Agree the delivery appointment (DeliveryScheduled)",
    dependencies=[allow(*SHOWROOM)],
)
async def schedule_delivery(
    contract_id: uuid.UUID,
    body: ScheduleDeliveryIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ContractDetail:
    cmd = body.command(contract_id, idempotency_key)
    return ContractDetail.of(
        await ctx.run_in_transaction(lambda uc: usecases_delivery.schedule_delivery(uc, cmd))
    )


@_contract_step(
    "deliver",
    "Hand the vehicle over (VehicleDelivered)",
    responses={
        409: problem_doc("Not ready: `missing` lists every blocker (documents, PDI, balance, ...)")
    },
    dependencies=[allow(*SHOWROOM, Role.INTEGRATION)],
)
async def deliver(
    contract_id: uuid.UUID,
    body: DeliverIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ContractDetail:
    cmd = body.command(contract_id, idempotency_key)
    return ContractDetail.of(
        await ctx.run_in_transaction(lambda uc: usecases_delivery.deliver_vehicle(uc, cmd))
    )
