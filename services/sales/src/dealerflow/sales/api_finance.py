"""Finance's steps on a contract (/v1/contracts/{id}/...): confirming entered payments,
the lender's loan decision.

Money is the managers' (api.FINANCE); the confirming user is the caller (the token's
subject)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter

from dealerflow.runtime.auth import Principal, allow
from dealerflow.runtime.http import step_routes
from dealerflow.runtime.idempotency import IdempotencyKeyHeader
from dealerflow.sales import usecases_finance
from dealerflow.sales.api import CONFLICT, FINANCE, INVALID, NOT_FOUND, Ctx
from dealerflow.sales.schemas import ContractDetail
from dealerflow.sales.schemas_finance import LoanApprovalIn, PaymentConfirmationIn, RefundIn

router = APIRouter(prefix="/v1")

_contract_step = step_routes(
    router,
    "/contracts/{contract_id}",
    response_model=ContractDetail,
    responses={**NOT_FOUND, **INVALID, **CONFLICT},
    tags=["contracts"],
)


@_contract_step(
    "payments/{payment_id}/confirmation",
    "Finance confirms an entered payment: from then on it counts towards the balance",
)
async def confirm_payment(
    contract_id: uuid.UUID,
    payment_id: uuid.UUID,
    body: PaymentConfirmationIn,
    ctx: Ctx,
    principal: Annotated[Principal, allow(*FINANCE)],
    idempotency_key: IdempotencyKeyHeader = None,
) -> ContractDetail:
    """Records who confirmed and when; a repeat changes nothing. 409 for a refund."""
    cmd = body.command(contract_id, payment_id, idempotency_key, caller=principal.subject)
    return ContractDetail.of(
        await ctx.run_in_transaction(lambda uc: usecases_finance.confirm_payment(uc, cmd))
    )


@_contract_step(
    "loan-approval",
    "Record the lender's decision on the loan (approved: disbursements count up to it)",
)
async def record_loan_approval(
    contract_id: uuid.UUID,
    body: LoanApprovalIn,
    ctx: Ctx,
    principal: Annotated[Principal, allow(*FINANCE)],
    idempotency_key: IdempotencyKeyHeader = None,
) -> ContractDetail:
    """A later decision replaces the earlier (e.g. another lender after a decline)."""
    cmd = body.command(contract_id, idempotency_key, caller=principal.subject)
    return ContractDetail.of(
        await ctx.run_in_transaction(lambda uc: usecases_finance.record_loan_decision(uc, cmd))
    )


@_contract_step(
    "refunds",
    "Refund an overpayment (RefundIssued), at most what the refund rule allows",
    dependencies=[allow(*FINANCE)],
)
async def issue_refund(
    contract_id: uuid.UUID,
    body: RefundIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ContractDetail:
    """409 beyond the allowed amount (the overpayment of an active contract)."""
    cmd = body.command(contract_id, idempotency_key)
    return ContractDetail.of(
        await ctx.run_in_transaction(lambda uc: usecases_finance.issue_refund(uc, cmd))
    )
