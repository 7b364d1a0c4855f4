"""The showroom API: quotes (/v1/quotes) and test drives (/v1/test-drives); same
conventions (and roles) as :mod:`api`: consultants and their managers issue quotes and
book test drives, every staff member of the dealer reads them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, status

from dealerflow.runtime.auth import Principal, allow
from dealerflow.runtime.http import problem_doc
from dealerflow.runtime.idempotency import IdempotencyKeyHeader
from dealerflow.sales import usecases_showroom
from dealerflow.sales.api import (
    INVALID,
    NOT_FOUND,
    READERS,
    SHOWROOM,
    Ctx,
    DealerQuery,
    created,
)
from dealerflow.sales.schemas_showroom import QuoteIn, QuoteOut, TestDriveIn, TestDriveOut

router = APIRouter(prefix="/v1")


@router.post(
    "/quotes",
    status_code=status.HTTP_201_CREATED,
    response_model=QuoteOut,
    responses={**INVALID},
    tags=["quotes"],
    summary="Issue a transparent quote (QuoteIssued, DiscountApprovalRequested)",
)
async def issue_quote(
    body: QuoteIn,
    response: Response,
    ctx: Ctx,
    principal: Annotated[Principal, allow(*SHOWROOM)],
    idempotency_key: IdempotencyKeyHeader = None,
) -> QuoteOut:
    """The consultant is ``consultant_id`` of the body, or the caller (the token's
    subject) when it names none. A discount above the consultant's limit asks a manager
    (DiscountApprovalRequested); a sales manager decides it (:mod:`api_quotes`)."""
    cmd = body.command(idempotency_key, caller=principal.subject)
    issued = await ctx.run_in_transaction(lambda uc: usecases_showroom.issue_quote(uc, cmd))
    created(response, issued.created)
    return QuoteOut.of(issued.value)


@router.post(
    "/test-drives",
    status_code=status.HTTP_201_CREATED,
    response_model=TestDriveOut,
    responses={**INVALID, 409: problem_doc("The vehicle is already booked then")},
    tags=["test drives"],
    summary="Book a test drive, no double booking (TestDriveScheduled)",
)
async def book_test_drive(
    body: TestDriveIn,
    response: Response,
    ctx: Ctx,
    principal: Annotated[Principal, allow(*SHOWROOM)],
    idempotency_key: IdempotencyKeyHeader = None,
) -> TestDriveOut:
    """The consultant is ``consultant_id`` of the body, or the caller (the token's
    subject) when it names none."""
    cmd = body.command(idempotency_key, caller=principal.subject)
    booked = await ctx.run_in_transaction(lambda uc: usecases_showroom.book_test_drive(uc, cmd))
    created(response, booked.created)
    return TestDriveOut.of(booked.value)


@router.get(
    "/test-drives/{test_drive_id}",
    response_model=TestDriveOut,
    responses={**NOT_FOUND},
    tags=["test drives"],
    dependencies=[allow(*READERS)],
)
async def get_test_drive(
    test_drive_id: uuid.UUID, dealer_id: DealerQuery, ctx: Ctx
) -> TestDriveOut:
    booking = await ctx.run_in_transaction(
        lambda uc: usecases_showroom.get_test_drive(uc, dealer_id, test_drive_id)
    )
    return TestDriveOut.of(booking)
