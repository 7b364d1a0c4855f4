"""In the workshop and at the desk: work completed, the quality check after it (pass, or
rework with repeat failures recorded) and handover."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from dealerflow.contracts.enums import ServiceWorkType
from dealerflow.contracts.money import ZERO, money
from dealerflow.contracts.types import Money
from dealerflow.service_center.domain_order import WHOLE_JOB, BrokenRule
from dealerflow.service_center.domain_repair import unapproved_work


class NoQuotedLines(BrokenRule):
    """Lines were named as done on a repair order that has no quote."""


class UnapprovedWork(Exception):
    """Work was reported on lines the customer has not approved."""

    def __init__(self, item_ids: Sequence[str]) -> None:
        super().__init__("the customer has not approved: " + ", ".join(item_ids))
        self.item_ids = tuple(item_ids)

    @property
    def problem_extensions(self) -> dict[str, object]:
        return {"unapproved_item_ids": list(self.item_ids)}


@dataclass(frozen=True)
class WorkDone:
    """The repair order's items after a completion: approved, and done so far."""

    approved_item_ids: tuple[str, ...]
    completed_item_ids: tuple[str, ...]


def plan_work_completion(
    *,
    quoted: bool,
    approved_item_ids: Collection[str],
    completed_before: Collection[str],
    completed_now: Sequence[str] | None,
) -> WorkDone:
    """What a completion (or a rework) marks done.

    Without a quote the job agreed at check-in counts as one approved item,
    :data:`WHOLE_JOB`; with one, the lines done default to every approved line and only
    approved lines may have been worked on.
    """
    if not quoted:
        if completed_now:
            raise NoQuotedLines("this repair order has no quoted lines to complete")
        return WorkDone((WHOLE_JOB,), tuple(sorted({*completed_before, WHOLE_JOB})))
    done = list(completed_now) if completed_now is not None else list(approved_item_ids)
    unapproved = unapproved_work(done, approved_item_ids)
    if unapproved:
        raise UnapprovedWork(unapproved)
    return WorkDone(tuple(approved_item_ids), tuple(sorted({*completed_before, *done})))


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


class QualityCheckError(BrokenRule):
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


class WrongCurrency(BrokenRule):
    """The payment is not in the repair order's currency."""


class OdometerWentBack(BrokenRule):
    """The handover mileage is below the check-in mileage."""


class HandoverNotReady(Exception):
    """The vehicle may not leave yet: every blocker and what is still owed."""

    def __init__(self, readiness: HandoverReadiness, amount_due: Money) -> None:
        self.missing = [m.value for m in readiness.missing]
        super().__init__("missing: " + ", ".join(self.missing))
        self.readiness = readiness
        self.amount_due = amount_due

    @property
    def problem_extensions(self) -> dict[str, object]:
        return {
            "missing": self.missing,
            "incomplete_item_ids": list(self.readiness.incomplete_item_ids),
            "unapproved_item_ids": list(self.readiness.unapproved_item_ids),
            "amount_due": self.amount_due.model_dump(mode="json"),
        }


@dataclass(frozen=True)
class VehicleReturn:
    """What the desk knows when the customer comes to collect the vehicle."""

    work_type: ServiceWorkType
    currency: str
    check_in_mileage_km: int
    approved_total: Decimal | None
    approved_item_ids: frozenset[str]
    completed_item_ids: frozenset[str]
    quality_checks: tuple[QualityCheckRecord, ...]
    mileage_km: int | None  # read at handover; None: the check-in reading
    amount_paid: Money | None
    invoice_issued: bool


def plan_handover(visit: VehicleReturn) -> int:
    """The handover mileage, when the vehicle may leave (:func:`can_hand_over`).

    Warranty work is charged to the OEM, not the customer; an invoice is needed only
    when something is charged. Raises :class:`WrongCurrency`, :class:`OdometerWentBack`
    or :class:`HandoverNotReady` (with every blocker) otherwise.
    """
    paid = visit.amount_paid
    if paid is not None and paid.currency != visit.currency:
        raise WrongCurrency(f"the repair order is in {visit.currency}")
    mileage = visit.mileage_km if visit.mileage_km is not None else visit.check_in_mileage_km
    if mileage < visit.check_in_mileage_km:
        raise OdometerWentBack(f"check-in mileage was {visit.check_in_mileage_km} km")
    warranty = visit.work_type == ServiceWorkType.WARRANTY
    charge = ZERO if warranty else (visit.approved_total or ZERO)
    amount_due = max(charge - (paid.amount if paid is not None else ZERO), ZERO)
    readiness = can_hand_over(
        HandoverState(
            approved_item_ids=visit.approved_item_ids,
            completed_item_ids=visit.completed_item_ids,
            quality_checks=visit.quality_checks,
            amount_due=amount_due,
            invoice_issued=visit.invoice_issued,
        ),
        invoice_required=charge > 0,
    )
    if not readiness.ready:
        raise HandoverNotReady(readiness, money(amount_due, visit.currency))
    return mileage
