"""HTTP API of the complaints service (/v1). Thin: validate, run one use case in one
transaction, answer. Errors are RFC 9457 problems."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypeVar

import asyncpg
from fastapi import APIRouter, Depends, Header, Path, Query, Response

from dealerflow.complaints import repository, repository_contacts, repository_stats
from dealerflow.complaints.domain import ComplaintStatus, IllegalTransition
from dealerflow.complaints.policy import PolicyInvalid, policy_for
from dealerflow.complaints.records import ComplaintRecord
from dealerflow.complaints.schemas import (
    ClockView,
    ComplaintDetail,
    ComplaintIn,
    ComplaintPage,
    ComplaintStats,
    ComplaintView,
    HistoryEntry,
)
from dealerflow.complaints.settings import ComplaintsSettings
from dealerflow.complaints.usecases import (
    ActionNotAllowed,
    ComplaintNotFound,
    NewComplaint,
    RequestConflict,
    Work,
    open_complaint,
    request_fingerprint,
)
from dealerflow.complaints.usecases_triggers import ContactUnknown
from dealerflow.contracts.care_enums import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintOriginKind,
    ComplaintSeverity,
)
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.events.complaints import ComplaintOrigin
from dealerflow.contracts.identity import customer_id_for, customer_id_for_email
from dealerflow.contracts.types import DEALER_ID_PATTERN
from dealerflow.runtime.db import DbConnection, transaction
from dealerflow.runtime.pagination import DEFAULT_LIMIT, Cursor, Limit, decode_cursor, page_of
from dealerflow.runtime.problems import Problem, conflict, not_found, problem_type
from dealerflow.runtime.service import ServiceContext, service_context

T = TypeVar("T")
Ctx = Annotated[ServiceContext[ComplaintsSettings], Depends(service_context)]
DealerQuery = Annotated[str, Query(pattern=DEALER_ID_PATTERN, description="Dealer code.")]
ComplaintIdPath = Annotated[uuid.UUID, Path(description="Complaint id.")]

router = APIRouter(prefix="/v1", tags=["complaints"])
_RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)


def settings_of(ctx: ServiceContext[ComplaintsSettings]) -> ComplaintsSettings:
    """The running service's settings."""
    assert isinstance(ctx.settings, ComplaintsSettings)
    return ctx.settings


def _unprocessable(detail: str, slug: str = "validation-error") -> Problem:
    return Problem(422, "Unprocessable request", detail, type=problem_type(slug))


def work_in(ctx: ServiceContext[ComplaintsSettings], conn: DbConnection) -> Work:
    """The use-case `Work` of a request's transaction."""

    async def publish(event: DomainEvent) -> str:
        return await ctx.publish(conn, event)

    return Work(conn=conn, publish=publish, now=ctx.clock.now(), settings=settings_of(ctx))


async def run(
    ctx: ServiceContext[ComplaintsSettings], use_case: Callable[[Work], Awaitable[T]]
) -> T:
    """Run ``use_case`` in one transaction (retried on a deadlock with the timer poller);
    map the service's errors to problems."""
    for attempt in range(3):
        try:
            async with transaction(ctx.db) as conn:
                return await use_case(work_in(ctx, conn))
        except _RETRYABLE:
            if attempt == 2:
                raise
        except ComplaintNotFound as exc:
            raise not_found("Complaint", exc.complaint_id) from exc
        except IllegalTransition as exc:
            raise Problem(
                409,
                "Illegal transition",
                str(exc),
                type=problem_type("illegal-transition"),
                extensions={"status": exc.status.value, "action": exc.action.value},
            ) from exc
        except ActionNotAllowed as exc:
            raise conflict(str(exc), slug="action-not-allowed") from exc
        except RequestConflict as exc:
            raise _unprocessable(str(exc), "idempotency-key-reused") from exc
        except (ContactUnknown, PolicyInvalid) as exc:
            raise _unprocessable(str(exc)) from exc
    raise AssertionError("unreachable")


async def detail_of(work: Work, complaint: ComplaintRecord) -> ComplaintDetail:
    """The response body of a complaint: with every clock and its history."""
    clocks = await repository.clocks_of(work.conn, complaint.dealer_id, complaint.id)
    history = await repository.history_of(work.conn, complaint.dealer_id, complaint.id)
    return ComplaintDetail(
        **ComplaintView.fields_of(complaint),
        clocks=[ClockView.of(c) for c in clocks],
        history=[HistoryEntry.model_validate(h) for h in history],
    )


# -- opening and reading ---------------------------------------------------------------------


async def _new_complaint(
    work: Work, body: ComplaintIn, idempotency_key: str | None
) -> NewComplaint:
    contact: ContactSnapshot
    if body.contact is not None:
        contact = body.contact.snapshot()
    else:
        assert body.customer_id is not None
        stored = await repository_contacts.contact_of(work.conn, body.dealer_id, body.customer_id)
        if stored is None:
            raise ContactUnknown(
                f"customer {body.customer_id} has no known contact at {body.dealer_id}: "
                "give the contact"
            )
        contact = ContactSnapshot.model_validate(stored)
    customer_id = body.customer_id
    group = body.dealer_group or work.settings.default_dealer_group
    if customer_id is None and contact.phone:
        customer_id = customer_id_for(group, contact.phone)
    elif customer_id is None and contact.email:
        customer_id = customer_id_for_email(group, contact.email)
    if customer_id is None:
        raise ContactUnknown("customer_id is required when the contact has no phone or e-mail")
    links = {"repair_order_id": body.repair_order_id, "contract_id": body.contract_id}
    return NewComplaint(
        dealer_id=body.dealer_id,
        customer_id=customer_id,
        channel=body.channel,
        category=body.category,
        summary=body.summary,
        contact=contact,
        origin=ComplaintOrigin(kind=ComplaintOriginKind.MANUAL, **links),
        severity=body.severity,
        safety=body.safety,
        injury=body.injury,
        details=body.details,
        handler_id=body.handler_id,
        department=body.department.value if body.department else None,
        vin=body.vin,
        complaint_id=body.complaint_id,
        idempotency_key=idempotency_key,
        request_hash=request_fingerprint(body.model_dump(mode="json")),
    )


@router.post(
    "/complaints",
    status_code=201,
    response_model=ComplaintDetail,
    summary="Record a complaint (starts its SLA clocks)",
    responses={200: {"description": "A retry: the complaint created by the first request."}},
)
async def create_complaint(
    body: ComplaintIn,
    response: Response,
    ctx: Ctx,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)
    ] = None,
) -> ComplaintDetail:
    async def use_case(work: Work) -> tuple[bool, ComplaintDetail]:
        opened = await open_complaint(work, await _new_complaint(work, body, idempotency_key))
        return opened.created, await detail_of(work, opened.complaint)

    created, detail = await run(ctx, use_case)
    response.headers["Location"] = f"/v1/complaints/{detail.id}?dealer_id={detail.dealer_id}"
    if not created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return detail


@router.get("/complaints", response_model=ComplaintPage, summary="List a dealer's complaints")
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
    where = repository.ComplaintFilter(
        dealer_id=dealer_id,
        status=status.value if status else None,
        severity=severity.value if severity else None,
        category=category.value if category else None,
        channel=channel.value if channel else None,
        customer_id=customer_id,
        handler_id=handler_id,
        origin_kind=origin.value if origin else None,
    )

    async def use_case(work: Work) -> list[ComplaintRecord]:
        return await repository.list_complaints(work.conn, where, limit=limit + 1, after=after)

    page, next_cursor = page_of(await run(ctx, use_case), limit, lambda c: (c.opened_at, c.id))
    return ComplaintPage(items=[ComplaintView.of(c) for c in page], next_cursor=next_cursor)


@router.get("/complaints/stats", response_model=ComplaintStats, summary="Complaint analysis")
async def complaint_stats(
    ctx: Ctx,
    dealer_id: DealerQuery,
    opened_from: datetime | None = None,
    opened_to: datetime | None = None,
) -> ComplaintStats:
    async def use_case(work: Work) -> ComplaintStats:
        policy = await policy_for(work.conn, dealer_id, work.settings)
        stats = await repository_stats.complaint_stats(
            work.conn,
            dealer_id,
            opened_from=opened_from,
            opened_to=opened_to,
            time_zone=policy.calendar.time_zone,
        )
        return ComplaintStats(**stats)

    return await run(ctx, use_case)


@router.get(
    "/complaints/{complaint_id}",
    response_model=ComplaintDetail,
    summary="A complaint with every SLA clock and its history",
)
async def get_complaint(
    ctx: Ctx, complaint_id: ComplaintIdPath, dealer_id: DealerQuery
) -> ComplaintDetail:
    async def use_case(work: Work) -> ComplaintDetail:
        complaint = await repository.get_complaint(work.conn, dealer_id, complaint_id)
        if complaint is None:
            raise ComplaintNotFound(complaint_id)
        return await detail_of(work, complaint)

    return await run(ctx, use_case)
