"""Quality check after work (pass, or rework with repeat failures recorded) and handover."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


@dataclass(frozen=True)
class QualityCheckRecord:
    attempt: int  # 1 for the first check, 2+ after rework
    passed: bool
    checked_at: datetime
    reasons: tuple[str, ...] = ()  # what failed
    repeat_failure: bool = False  # an earlier check of this RO failed too

    @property
    def rework_required(self) -> bool:
        return not self.passed


class QualityCheckError(ValueError):
    """The check cannot be recorded; the message says why."""


def record_quality_check(
    history: Sequence[QualityCheckRecord],
    passed: bool,
    checked_at: datetime,
    reasons: Sequence[str] = (),
) -> QualityCheckRecord:
    """The next check of a repair order, given its earlier checks in order.

    A failure needs its reasons and sends the vehicle back for rework; a failure after an
    earlier failure is a repeat failure. Once a check passed there is nothing to check.
    """
    if history and history[-1].passed:
        raise QualityCheckError("the repair order already passed its quality check")
    cleaned = tuple(r.strip() for r in reasons if r.strip())
    if not passed and not cleaned:
        raise QualityCheckError("a failed quality check needs its reasons")
    if passed and cleaned:
        raise QualityCheckError("a passed quality check has no failure reasons")
    if history and checked_at < history[-1].checked_at:
        raise QualityCheckError("checks are recorded in order")
    return QualityCheckRecord(
        attempt=len(history) + 1,
        passed=passed,
        checked_at=checked_at,
        reasons=cleaned,
        repeat_failure=not passed and any(not h.passed for h in history),
    )


class HandoverBlocker(StrEnum):
    WORK_INCOMPLETE = "work_incomplete"  # an approved line is not done
    UNAPPROVED_WORK = "unapproved_work"  # a line was done without approval
    QUALITY_CHECK_NOT_PASSED = "quality_check_not_passed"
    NOT_SETTLED = "not_settled"
    INVOICE_NOT_ISSUED = "invoice_not_issued"


@dataclass(frozen=True)
class HandoverState:
    approved_item_ids: frozenset[str]
    completed_item_ids: frozenset[str]
    quality_checks: tuple[QualityCheckRecord, ...]
    amount_due: Decimal  # what the customer still owes (0 for warranty work)
    invoice_issued: bool


@dataclass(frozen=True)
class HandoverReadiness:
    ready: bool
    missing: tuple[HandoverBlocker, ...]
    incomplete_item_ids: tuple[str, ...] = ()
    unapproved_item_ids: tuple[str, ...] = ()


def can_hand_over(state: HandoverState, invoice_required: bool = True) -> HandoverReadiness:
    """May the vehicle be returned? If not, every reason.

    Every approved line done and nothing done without approval; the last quality check
    passed (a visit where no work was done needs none); settled; invoice issued (unless
    the dealer does not invoice this visit, e.g. free warranty work).
    """
    missing: list[HandoverBlocker] = []
    incomplete = tuple(sorted(state.approved_item_ids - state.completed_item_ids))
    unapproved = tuple(sorted(state.completed_item_ids - state.approved_item_ids))
    if incomplete:
        missing.append(HandoverBlocker.WORK_INCOMPLETE)
    if unapproved:
        missing.append(HandoverBlocker.UNAPPROVED_WORK)
    if state.completed_item_ids and not (state.quality_checks and state.quality_checks[-1].passed):
        missing.append(HandoverBlocker.QUALITY_CHECK_NOT_PASSED)
    if state.amount_due > 0:
        missing.append(HandoverBlocker.NOT_SETTLED)
    if invoice_required and not state.invoice_issued:
        missing.append(HandoverBlocker.INVOICE_NOT_ISSUED)
    return HandoverReadiness(not missing, tuple(missing), incomplete, unapproved)
