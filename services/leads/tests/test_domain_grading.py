"""Grade transitions (the cadence and re-grade horizon are the notifier's to act on)."""

import pytest

from dealerflow.leads.domain import (
    Grade,
    InvalidGradeTransition,
    LeadRejected,
    LostReason,
    validate_grade_transition,
)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (Grade.N, Grade.H),
        (Grade.N, Grade.N),
        (Grade.H, Grade.B),
        (Grade.C, Grade.H),
        (Grade.H, Grade.H),
        (Grade.A, Grade.O),
        (Grade.O, Grade.D),
        (Grade.O, Grade.A),  # contract cancelled, still negotiating
    ],
)
def test_allowed_transitions(current: Grade, new: Grade) -> None:
    validate_grade_transition(current, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (Grade.H, Grade.N),
        (Grade.A, Grade.D),  # delivery needs a signed contract first
        (Grade.N, Grade.D),
        (Grade.D, Grade.H),
        (Grade.F, Grade.A),
        (Grade.D, Grade.D),
    ],
)
def test_forbidden_transitions(current: Grade, new: Grade) -> None:
    with pytest.raises(InvalidGradeTransition, match="cannot change"):
        validate_grade_transition(current, new)


def test_lost_needs_a_reason() -> None:
    with pytest.raises(InvalidGradeTransition, match="lost reason"):
        validate_grade_transition(Grade.B, Grade.F)
    validate_grade_transition(Grade.B, Grade.F, LostReason.BOUGHT_ELSEWHERE)
    validate_grade_transition(Grade.O, Grade.F, LostReason.PRICE)


def test_other_lost_reason_needs_a_note() -> None:
    with pytest.raises(InvalidGradeTransition, match="note"):
        validate_grade_transition(Grade.C, Grade.F, LostReason.OTHER, "   ")
    validate_grade_transition(Grade.C, Grade.F, LostReason.OTHER, "moved abroad")


def test_lost_reason_only_with_f() -> None:
    with pytest.raises(InvalidGradeTransition, match="only recorded with grade F"):
        validate_grade_transition(Grade.B, Grade.A, LostReason.POSTPONED)


def test_a_forbidden_transition_is_a_rejection() -> None:
    with pytest.raises(LeadRejected):
        validate_grade_transition(Grade.F, Grade.A)


def test_expected_order_date_is_the_grading_plus_the_grades_horizon() -> None:
    from datetime import UTC, datetime, timedelta

    from dealerflow.leads.domain_grading import expected_order_by

    graded = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    horizons = {"H": timedelta(days=7), "A": timedelta(days=15)}
    assert expected_order_by("H", graded, horizons) == graded + timedelta(days=7)
    assert expected_order_by("A", graded, horizons) == graded + timedelta(days=15)
    assert expected_order_by("N", graded, horizons) is None
    assert expected_order_by("H", None, horizons) is None
