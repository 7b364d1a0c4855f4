"""The quote approval, one quote and the list API (/v1/quotes; issuing one: :mod:`api_showroom`).

A sales manager (or the GM) decides a discount beyond the dealer's threshold; every
staff member of the dealer reads the quotes of a customer or a lead."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from dealerflow.runtime.auth import Principal, Role, allow
from dealerflow.runtime.http import step_routes
from dealerflow.runtime.idempotency import IdempotencyKeyHeader
from dealerflow.runtime.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor
from dealerflow.sales import usecases_quotes
from dealerflow.sales.api import CONFLICT, INVALID, NOT_FOUND, READERS, Ctx, DealerQuery
from dealerflow.sales.schemas_quotes import ApprovalIn, QuoteStateOut

router = APIRouter(prefix="/v1")

#: Who decides a discount beyond the threshold.
APPROVERS = (Role.SALES_MANAGER, Role.GM)

_quote_step = step_routes(
    router,
    "/quotes/{quote_id}",
    response_model=QuoteStateOut,
    responses={**NOT_FOUND, **INVALID, **CONFLICT},
    tags=["quotes"],
)


@_quote_step("approval", "Approve or reject a quote's discount (DiscountApprovalDecided)")
async def decide_approval(
    quote_id: uuid.UUID,
    body: ApprovalIn,
    ctx: Ctx,
    principal: Annotated[Principal, allow(*APPROVERS)],
    idempotency_key: IdempotencyKeyHeader = None,
) -> QuoteStateOut:
    """The decider is the caller (the token's subject). Once per quote: 409 when the
    quote needs no approval, was decided already or expired."""
    cmd = body.command(quote_id, idempotency_key, caller=principal.subject)
    state = await ctx.run_in_transaction(lambda uc: usecases_quotes.decide_approval(uc, cmd))
    return QuoteStateOut.of_state(state)


@router.get(
    "/quotes/{quote_id}",
    response_model=QuoteStateOut,
    responses={**NOT_FOUND},
    tags=["quotes"],
    dependencies=[allow(*READERS)],
    summary="A quote with its discount approval (pending, approved, rejected; by whom, note)",
)
async def get_quote(quote_id: uuid.UUID, dealer_id: DealerQuery, ctx: Ctx) -> QuoteStateOut:
    query = usecases_quotes.GetQuote(dealer_id=dealer_id, quote_id=quote_id)
    state = await ctx.run_in_transaction(lambda uc: usecases_quotes.get_quote(uc, query))
    return QuoteStateOut.of_state(state)


@router.get(
    "/quotes",
    response_model=Page[QuoteStateOut],
    tags=["quotes"],
    dependencies=[allow(*READERS)],
    summary="The quotes of a customer or a lead, newest first",
)
async def list_quotes(
    dealer_id: DealerQuery,
    ctx: Ctx,
    customer_id: uuid.UUID | None = None,
    lead_id: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[QuoteStateOut]:
    query = usecases_quotes.ListQuotes(
        dealer_id=dealer_id,
        limit=limit,
        customer_id=customer_id,
        lead_id=lead_id,
        after=decode_cursor(cursor, datetime, uuid.UUID),
    )
    states, next_cursor = await ctx.run_in_transaction(
        lambda uc: usecases_quotes.list_quotes(uc, query)
    )
    return Page[QuoteStateOut](
        items=[QuoteStateOut.of_state(s) for s in states], next_cursor=next_cursor
    )
