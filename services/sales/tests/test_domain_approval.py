"""Discount approval rules and quote expiry (domain_approval), pure."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dealerflow.sales.domain_approval import (
    ApprovalDecision,
    ApprovalError,
    ApprovalStatus,
    Decision,
    approval_status,
    check_decidable,
    is_expired,
    unsignable_reason,
)

AT = datetime(2026, 3, 8, 4, 30, tzinfo=UTC)
APPROVED = ApprovalDecision(ApprovalStatus.APPROVED, "m-zhou", AT, "ok")
REJECTED = ApprovalDecision(ApprovalStatus.REJECTED, "m-zhou", AT, None)


def test_status_follows_need_and_decision() -> None:
    assert approval_status(False, None) is ApprovalStatus.NOT_REQUIRED
    assert approval_status(True, None) is ApprovalStatus.PENDING
    assert approval_status(True, APPROVED) is ApprovalStatus.APPROVED
    assert approval_status(True, REJECTED) is ApprovalStatus.REJECTED
    assert Decision.APPROVE.outcome is ApprovalStatus.APPROVED
    assert Decision.REJECT.outcome is ApprovalStatus.REJECTED


def test_only_a_pending_quote_can_be_decided() -> None:
    check_decidable(True, None, expired=False)
    with pytest.raises(ApprovalError, match="within the threshold"):
        check_decidable(False, None, expired=False)
    with pytest.raises(ApprovalError, match="already approved"):
        check_decidable(True, APPROVED, expired=False)
    with pytest.raises(ApprovalError, match="already rejected"):
        check_decidable(True, REJECTED, expired=False)
    with pytest.raises(ApprovalError, match="expired"):
        check_decidable(True, None, expired=True)


def test_a_quote_holds_through_its_last_day() -> None:
    assert not is_expired(date(2026, 3, 15), date(2026, 3, 15))
    assert is_expired(date(2026, 3, 15), date(2026, 3, 16))


@pytest.mark.parametrize(
    ("status", "today", "reason"),
    [
        (ApprovalStatus.NOT_REQUIRED, date(2026, 3, 15), None),
        (ApprovalStatus.APPROVED, date(2026, 3, 10), None),
        (ApprovalStatus.PENDING, date(2026, 3, 10), "awaits"),
        (ApprovalStatus.REJECTED, date(2026, 3, 10), "rejected"),
        (ApprovalStatus.APPROVED, date(2026, 3, 16), "expired"),
        (ApprovalStatus.NOT_REQUIRED, date(2026, 3, 16), "expired"),
    ],
)
def test_why_a_quote_cannot_be_signed(
    status: ApprovalStatus, today: date, reason: str | None
) -> None:
    got = unsignable_reason(status, date(2026, 3, 15), today)
    assert got is None if reason is None else reason in (got or "")
