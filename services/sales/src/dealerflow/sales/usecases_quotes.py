"""Quote use cases beyond issuing (:mod:`usecases_showroom`): a sales manager's decision
on a discount beyond the dealer's threshold, the quote list per customer or lead, and the
check that a contract may be signed on a quote (not awaiting or failing approval, not
expired). Conventions: :mod:`usecases`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from dealerflow.contracts.events.sales import DiscountApprovalDecided
from dealerflow.runtime import idempotency
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.idempotency import RequestKey
from dealerflow.runtime.pagination import page_of
from dealerflow.sales import domain_approval
from dealerflow.sales import repository_quotes as quotes_repo
from dealerflow.sales.domain_approval import ApprovalDecision, ApprovalStatus, Decision
from dealerflow.sales.records import QuoteRecord
from dealerflow.sales.settings import SalesSettings
from dealerflow.sales.usecases import dealer_date
from dealerflow.sales.usecases_showroom import QuoteNotFound


class ApprovalNotPossible(Exception):
    """The quote does not await a decision (within the threshold, already decided, or
    expired)."""

    def __init__(self, reason: str, status: ApprovalStatus) -> None:
        super().__init__(reason)
        self.problem_extensions = {"approval_status": status.value}


class QuoteNotSignable(Exception):
    """A contract cannot be signed on the quote: its discount awaits or failed approval,
    or it expired."""

    def __init__(self, reason: str, status: ApprovalStatus, expired: bool) -> None:
        super().__init__(reason)
        self.problem_extensions = {"approval_status": status.value, "expired": expired}


@dataclass(frozen=True)
class QuoteState:
    """A quote with where its approval stands and whether it expired (dealer's today)."""

    quote: QuoteRecord
    approval_status: ApprovalStatus
    decision: ApprovalDecision | None
    expired: bool


def quote_state(row: quotes_repo.QuoteRow, today: date) -> QuoteState:
    quote, decision = row
    return QuoteState(
        quote=quote,
        approval_status=domain_approval.approval_status(quote.needs_approval, decision),
        decision=decision,
        expired=domain_approval.is_expired(quote.valid_until, today),
    )


async def _state(
    uc: UseCaseContext[SalesSettings], dealer_id: str, quote_id: uuid.UUID, *, lock: bool = False
) -> QuoteState:
    row = await quotes_repo.get_quote(uc.conn, dealer_id, quote_id, for_update=lock)
    if row is None:
        raise QuoteNotFound(quote_id)
    return quote_state(row, await dealer_date(uc, dealer_id, uc.now))


@dataclass(frozen=True)
class DecideApproval:
    """A sales manager's (or the GM's) decision on a quote's discount."""

    dealer_id: str
    quote_id: uuid.UUID
    decision: Decision
    decided_by: str
    note: str | None = None
    request: RequestKey | None = None


async def decide_approval(uc: UseCaseContext[SalesSettings], cmd: DecideApproval) -> QuoteState:
    """Record the decision and publish DiscountApprovalDecided (the notifier closes the
    manager's approval task). Once per quote: ApprovalNotPossible when the quote needs no
    approval, was decided already or expired; a retry with the same Idempotency-Key gets the quote
    as it is and publishes nothing."""
    state = await _state(uc, cmd.dealer_id, cmd.quote_id, lock=True)
    earlier = await idempotency.claimed_resource(
        uc.conn,
        cmd.request,
        dealer_id=cmd.dealer_id,
        scope=f"approval:{cmd.quote_id}",
        resource_id=cmd.quote_id,
    )
    if earlier is not None:
        return state
    quote = state.quote
    try:
        domain_approval.check_decidable(quote.needs_approval, state.decision, expired=state.expired)
    except domain_approval.ApprovalError as exc:
        raise ApprovalNotPossible(str(exc), state.approval_status) from None
    assert quote.approval_id is not None  # a quote that needs approval names its request
    decision = ApprovalDecision(
        outcome=cmd.decision.outcome, decided_by=cmd.decided_by, decided_at=uc.now, note=cmd.note
    )
    await quotes_repo.insert_decision(uc.conn, cmd.dealer_id, quote.id, quote.approval_id, decision)
    await uc.publish(
        DiscountApprovalDecided(
            dealer_id=cmd.dealer_id,
            customer_id=quote.customer_id,
            occurred_at=uc.now,
            approval_id=str(quote.approval_id),
            quote_id=str(quote.id),
            decision="approved" if decision.outcome is ApprovalStatus.APPROVED else "rejected",
            decided_by=cmd.decided_by,
            decided_at=uc.now,
        )
    )
    return await _state(uc, cmd.dealer_id, cmd.quote_id)


@dataclass(frozen=True)
class GetQuote:
    """One quote of a dealer with where its discount approval stands."""

    dealer_id: str
    quote_id: uuid.UUID


async def get_quote(uc: UseCaseContext[SalesSettings], query: GetQuote) -> QuoteState:
    """The quote, its approval (not required, pending, approved or rejected; by whom, when,
    the note) and whether it expired on the dealer's today; QuoteNotFound otherwise."""
    return await _state(uc, query.dealer_id, query.quote_id)


@dataclass(frozen=True)
class ListQuotes:
    """A page of a dealer's quotes, newest first, for one customer and/or lead."""

    dealer_id: str
    limit: int
    customer_id: uuid.UUID | None = None
    lead_id: str | None = None
    #: (issued_at, id) of the previous page's last quote
    after: tuple[datetime, uuid.UUID] | None = None


async def list_quotes(
    uc: UseCaseContext[SalesSettings], query: ListQuotes
) -> tuple[list[QuoteState], str | None]:
    """The page and the cursor of the next one (None on the last page)."""
    rows = await quotes_repo.list_quotes(
        uc.conn,
        query.dealer_id,
        customer_id=query.customer_id,
        lead_id=query.lead_id,
        after=query.after,
        limit=query.limit + 1,
    )
    today = await dealer_date(uc, query.dealer_id, uc.now)
    page, cursor = page_of(rows, query.limit, lambda r: (r[0].issued_at, r[0].id))
    return [quote_state(r, today) for r in page], cursor


async def require_signable(
    uc: UseCaseContext[SalesSettings], dealer_id: str, quote_id: uuid.UUID, today: date
) -> bool:
    """False when the dealer has no such quote; QuoteNotSignable when its discount awaits
    or failed approval or it expired on ``today`` (dealer-local); else True."""
    row = await quotes_repo.get_quote(uc.conn, dealer_id, quote_id)
    if row is None:
        return False
    state = quote_state(row, today)
    reason = domain_approval.unsignable_reason(
        state.approval_status, state.quote.valid_until, today
    )
    if reason is not None:
        raise QuoteNotSignable(reason, state.approval_status, state.expired)
    return True
