from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from dealerflow.service_center.domain import (
    HandoverBlocker,
    HandoverState,
    QualityCheckError,
    QualityCheckRecord,
    can_hand_over,
    record_quality_check,
)

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def test_first_check_passes() -> None:
    check = record_quality_check([], passed=True, checked_at=T0)
    assert (check.attempt, check.passed, check.repeat_failure) == (1, True, False)
    assert not check.rework_required


def test_failure_means_rework_and_a_second_failure_is_a_repeat() -> None:
    first = record_quality_check([], passed=False, checked_at=T0, reasons=["brake judder"])
    assert (first.attempt, first.rework_required, first.repeat_failure) == (1, True, False)
    second = record_quality_check(
        [first], passed=False, checked_at=T0 + timedelta(hours=2), reasons=[" judder ", ""]
    )
    assert (second.attempt, second.repeat_failure, second.reasons) == (2, True, ("judder",))
    third = record_quality_check([first, second], passed=True, checked_at=T0 + timedelta(hours=4))
    assert (third.attempt, third.passed, third.repeat_failure) == (3, True, False)


def test_quality_check_rules() -> None:
    passed = record_quality_check([], passed=True, checked_at=T0)
    with pytest.raises(QualityCheckError, match="already passed"):
        record_quality_check([passed], passed=False, checked_at=T0, reasons=["x"])
    with pytest.raises(QualityCheckError, match="needs its reasons"):
        record_quality_check([], passed=False, checked_at=T0, reasons=["  "])
    with pytest.raises(QualityCheckError, match="no failure reasons"):
        record_quality_check([], passed=True, checked_at=T0, reasons=["x"])
    failed = record_quality_check([], passed=False, checked_at=T0, reasons=["x"])
    with pytest.raises(QualityCheckError, match="in order"):
        record_quality_check([failed], passed=True, checked_at=T0 - timedelta(seconds=1))


PASSED = (QualityCheckRecord(1, True, T0),)
READY = HandoverState(
    approved_item_ids=frozenset({"a", "b"}),
    completed_item_ids=frozenset({"a", "b"}),
    quality_checks=PASSED,
    amount_due=Decimal("0"),
    invoice_issued=True,
)


def test_finished_checked_settled_invoiced_vehicle_can_be_handed_over() -> None:
    readiness = can_hand_over(READY)
    assert readiness.ready
    assert readiness.missing == ()


def test_every_reason_is_reported() -> None:
    failed = (QualityCheckRecord(1, False, T0, ("noise",)),)
    state = HandoverState(
        approved_item_ids=frozenset({"a", "b"}),
        completed_item_ids=frozenset({"a", "c"}),
        quality_checks=failed,
        amount_due=Decimal("0.01"),
        invoice_issued=False,
    )
    readiness = can_hand_over(state)
    assert not readiness.ready
    assert readiness.missing == (
        HandoverBlocker.WORK_INCOMPLETE,
        HandoverBlocker.UNAPPROVED_WORK,
        HandoverBlocker.QUALITY_CHECK_NOT_PASSED,
        HandoverBlocker.NOT_SETTLED,
        HandoverBlocker.INVOICE_NOT_ISSUED,
    )
    assert readiness.incomplete_item_ids == ("b",)
    assert readiness.unapproved_item_ids == ("c",)


def test_quality_check_is_judged_by_the_latest_attempt() -> None:
    rework_pending = (QualityCheckRecord(1, False, T0, ("x",)),)
    state = HandoverState(
        READY.approved_item_ids, READY.completed_item_ids, rework_pending, Decimal("0"), True
    )
    assert can_hand_over(state).missing == (HandoverBlocker.QUALITY_CHECK_NOT_PASSED,)
    no_check = HandoverState(
        READY.approved_item_ids, READY.completed_item_ids, (), Decimal("0"), True
    )
    assert can_hand_over(no_check).missing == (HandoverBlocker.QUALITY_CHECK_NOT_PASSED,)


def test_visit_without_work_needs_no_quality_check_and_warranty_needs_no_invoice() -> None:
    nothing_done = HandoverState(frozenset(), frozenset(), (), Decimal("0"), False)
    assert can_hand_over(nothing_done, invoice_required=False).ready
    assert can_hand_over(nothing_done).missing == (HandoverBlocker.INVOICE_NOT_ISSUED,)
