"""Discount approval and the life of a quote (DOMAIN.md 2): pure rules, no I/O.

A quote whose discount is beyond the dealer's threshold needs a sales manager's decision
before a contract can be signed on it; a quote also holds only until its ``valid_until``
(the dealer's ``quote_valid_days`` after issue, dealer-local). One decision per quote:
approved or rejected, final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class ApprovalStatus(StrEnum):
    """Where a quote's discount approval stands."""

    NOT_REQUIRED = "not_required"  # the discount is within the dealer's threshold
    PENDING = "pending"  # a manager has not decided yet
    APPROVED = "approved"
    REJECTED = "rejected"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"

    @property
    def outcome(self) -> ApprovalStatus:
        return ApprovalStatus.APPROVED if self is Decision.APPROVE else ApprovalStatus.REJECTED


@dataclass(frozen=True)
class ApprovalDecision:
    """The manager's decision on a quote's discount."""

    outcome: ApprovalStatus  # APPROVED or REJECTED
    decided_by: str
    decided_at: datetime
    note: str | None


class ApprovalError(ValueError):
    """The decision is not possible in the quote's current state (reason given)."""


def approval_status(needs_approval: bool, decision: ApprovalDecision | None) -> ApprovalStatus:
    """The quote's approval status from whether it needs one and the decision, if any."""
    if not needs_approval:
        return ApprovalStatus.NOT_REQUIRED
    return ApprovalStatus.PENDING if decision is None else decision.outcome


def check_decidable(
    needs_approval: bool, decision: ApprovalDecision | None, *, expired: bool
) -> None:
    """ApprovalError unless the quote awaits a decision (needs one and has none) and still
    holds (an expired quote is quoted anew, not approved)."""
    if not needs_approval:
        raise ApprovalError("the quote's discount is within the threshold: nothing to approve")
    if decision is not None:
        raise ApprovalError(f"the discount was already {decision.outcome.value}")
    if expired:
        raise ApprovalError("the quote expired: issue a new one")


def is_expired(valid_until: date, today: date) -> bool:
    """A quote holds through its ``valid_until`` day (dealer-local) and not after."""
    return today > valid_until


def unsignable_reason(status: ApprovalStatus, valid_until: date, today: date) -> str | None:
    """Why no contract may be signed on the quote today, or None when it may."""
    if status is ApprovalStatus.PENDING:
        return "the quote's discount awaits a sales manager's approval"
    if status is ApprovalStatus.REJECTED:
        return "the quote's discount was rejected by a sales manager"
    if is_expired(valid_until, today):
        return f"the quote expired (valid until {valid_until.isoformat()})"
    return None
