"""HTTP API of the complaints service (/v1): recording and reading complaints. Thin:
validate, build a command, run one use case in one transaction, answer. Domain errors
become RFC 9457 problems through `problems.PROBLEMS`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from dealerflow.complaints import usecases_queries as queries
from dealerflow.complaints.domain import ComplaintStatus
from dealerflow.complaints.repository import ComplaintFilter
from dealerflow.complaints.schemas import (
    ComplaintDetail,
    ComplaintIn,
    ComplaintPage,
    ComplaintStats,
    ComplaintView,
)
from dealerflow.complaints.settings import ComplaintsSettings
from dealerflow.complaints.usecases import (
    Handled,
    RecordComplaint,
    complaint_case,
    record_complaint,
)
from dealerflow.contracts.care_enums import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintOriginKind,
    ComplaintSeverity,
)
from dealerflow.contracts.types import DEALER_ID_PATTERN
from dealerflow.runtime.auth import STAFF, Role, allow
from dealerflow.runtime.idempotency import (
    IdempotencyKeyHeader,
    request_of,
)
from dealerflow.runtime.pagination import DEFAULT_LIMIT, Cursor, Limit, decode_cursor, page_of
from dealerflow.runtime.service import ServiceContext, service_context

Ctx = Annotated[ServiceContext[ComplaintsSettings], Depends(service_context)]
DealerQuery = Annotated[str, Query(pattern=DEALER_ID_PATTERN, description="Dealer code.")]
ComplaintIdPath = Annotated[uuid.UUID, Path(description="Complaint id.")]

router = APIRouter(prefix="/v1", tags=["complaints"])

#: Anyone at the store may take a complaint down; so may a dealer system (call centre, CRM).
OPENERS = (*STAFF, Role.INTEGRATION)
#: A dealer's complaints are read by its staff, and by the dealer system that opened them.
READERS = (*STAFF, Role.INTEGRATION)


def answer(handled: Handled, response: Response) -> ComplaintDetail:
    """The complaint a staff request is answered with; a retry says so in a header."""
    if handled.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return ComplaintDetail.of_case(handled.case)


@router.post(
    "/complaints",
    status_code=201,
    response_model=ComplaintDetail,
    summary="Record a complaint (starts its SLA clocks)",
    responses={200: {"description": "A retry: the complaint created by the first request."}},
    dependencies=[allow(*OPENERS)],
)
async def create_complaint(
    body: ComplaintIn, response: Response, ctx: Ctx, idempotency_key: IdempotencyKeyHeader = None
) -> ComplaintDetail:
    cmd = RecordComplaint(
        dealer_id=body.dealer_id,
        channel=body.channel,
        category=body.category,
        summary=body.summary,
        contact=body.contact.snapshot() if body.contact is not None else None,
        customer_id=body.customer_id,
        dealer_group=body.dealer_group,
        severity=body.severity,
        safety=body.safety,
        injury=body.injury,
        details=body.details,
        handler_id=body.handler_id,
        department=body.department,
        vin=body.vin,
        repair_order_id=body.repair_order_id,
        contract_id=body.contract_id,
        complaint_id=body.complaint_id,
        request=request_of(idempotency_key, body, body.complaint_id),
    )
    handled = await ctx.run_in_transaction(lambda uc: record_complaint(uc, cmd))
    detail = answer(handled, response)
    response.headers["Location"] = f"/v1/complaints/{detail.id}?dealer_id={detail.dealer_id}"
    if handled.replayed:
        response.status_code = 200
    return detail


@router.get(
    "/complaints",
    response_model=ComplaintPage,
    summary="List a dealer's complaints",
    dependencies=[allow(*READERS)],
)
async def list_complaints(
    ctx: Ctx,
    dealer_id: DealerQuery,
    status: ComplaintStatus | None = None,
    severity: ComplaintSeverity | None = None,
    category: ComplaintCategory | None = None,
    channel: ComplaintChannel | None = None,
    customer_id: uuid.UUID | None = None,
    handler_id: str | None = None,
    origin: ComplaintOriginKind | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ComplaintPage:
    after = decode_cursor(cursor, datetime, uuid.UUID)
    where = ComplaintFilter(
        dealer_id=dealer_id,
        status=status.value if status else None,
        severity=severity.value if severity else None,
        category=category.value if category else None,
        channel=channel.value if channel else None,
        customer_id=customer_id,
        handler_id=handler_id,
        origin_kind=origin.value if origin else None,
    )
    found = await ctx.run_in_transaction(
        lambda uc: queries.list_complaints(uc, where, limit=limit + 1, after=after)
    )
    page, next_cursor = page_of(found, limit, lambda c: (c.opened_at, c.id))
    return ComplaintPage(items=[ComplaintView.of(c) for c in page], next_cursor=next_cursor)


@router.get(
    "/complaints/stats",
    response_model=ComplaintStats,
    summary="Complaint analysis",
    dependencies=[allow(*STAFF)],
)
async def complaint_stats(
    ctx: Ctx,
    dealer_id: DealerQuery,
    opened_from: datetime | None = None,
    opened_to: datetime | None = None,
) -> ComplaintStats:
    counts = await ctx.run_in_transaction(
        lambda uc: queries.complaint_stats(
            uc, dealer_id, opened_from=opened_from, opened_to=opened_to
        )
    )
    return ComplaintStats.of(counts)


@router.get(
    "/complaints/{complaint_id}",
    response_model=ComplaintDetail,
    summary="A complaint with every SLA clock and its history",
    responses={404: {"description": "No such complaint at this dealer"}},
    dependencies=[allow(*READERS)],
)
async def get_complaint(
    ctx: Ctx, complaint_id: ComplaintIdPath, dealer_id: DealerQuery
) -> ComplaintDetail:
    case = await ctx.run_in_transaction(lambda uc: complaint_case(uc, dealer_id, complaint_id))
    return ComplaintDetail.of_case(case)
