from datetime import UTC, datetime, timedelta

import pytest

from dealerflow.leads.domain import (
    DEFAULT_FOLLOW_UP_CADENCE,
    FollowUp,
    FollowUpKind,
    Grade,
    InvalidGradeTransition,
    LostReason,
    cadence_from_policy,
    horizons_from_policy,
    needs_regrade,
    next_follow_up,
    regrade_due_at,
    validate_grade_transition,
)
from dealerflow.policy import policy_with_overrides

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("grade", "days"),
    [(Grade.H, 2), (Grade.A, 3), (Grade.B, 7), (Grade.C, 14)],
)
def test_active_grades_follow_the_default_cadence(grade: Grade, days: int) -> None:
    assert next_follow_up(grade, T0) == FollowUp(
        FollowUpKind.CONSULTANT_FOLLOW_UP, T0 + timedelta(days=days)
    )


@pytest.mark.parametrize("grade", [Grade.O, Grade.D, Grade.N])
def test_signed_delivered_and_ungraded_leads_have_no_cadence(grade: Grade) -> None:
    assert next_follow_up(grade, T0) is None


def test_lost_lead_goes_to_manager_review_at_once() -> None:
    assert next_follow_up(Grade.F, T0) == FollowUp(FollowUpKind.MANAGER_REVIEW, T0)


def test_dealer_cadence_overrides_the_default() -> None:
    cadence = {**DEFAULT_FOLLOW_UP_CADENCE, Grade.H: timedelta(days=1)}
    follow_up = next_follow_up(Grade.H, T0, cadence)
    assert follow_up is not None
    assert follow_up.due_at == T0 + timedelta(days=1)


def test_cadence_and_horizons_come_from_the_dealer_policy() -> None:
    policy = policy_with_overrides(
        {"leads": {"follow_up_every": {"B": "P5D"}, "hot_regrade_after": "P3D"}}
    )
    cadence = cadence_from_policy(policy.leads)
    assert cadence[Grade.B] == timedelta(days=5)
    assert cadence[Grade.H] == timedelta(days=2)
    horizons = horizons_from_policy(policy.leads)
    assert needs_regrade(Grade.H, T0, T0 + timedelta(days=3, seconds=1), horizons)
    assert not needs_regrade(Grade.A, T0, T0 + timedelta(days=15), horizons)


def test_missing_or_non_positive_cadence_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="no follow-up cadence"):
        next_follow_up(Grade.B, T0, {Grade.H: timedelta(days=2)})
    with pytest.raises(ValueError, match="positive"):
        next_follow_up(Grade.H, T0, {Grade.H: timedelta(0)})


def test_h_needs_regrade_only_after_its_seven_day_horizon() -> None:
    horizon_end = T0 + timedelta(days=7)
    assert regrade_due_at(Grade.H, T0) == horizon_end
    assert not needs_regrade(Grade.H, T0, horizon_end - timedelta(seconds=1))
    assert not needs_regrade(Grade.H, T0, horizon_end)  # "within 7 days" still holds
    assert needs_regrade(Grade.H, T0, horizon_end + timedelta(seconds=1))


def test_other_grades_use_their_own_horizon() -> None:
    assert not needs_regrade(Grade.A, T0, T0 + timedelta(days=15))
    assert needs_regrade(Grade.A, T0, T0 + timedelta(days=15, seconds=1))
    assert needs_regrade(Grade.C, T0, T0 + timedelta(days=91))


@pytest.mark.parametrize("grade", [Grade.N, Grade.O, Grade.D, Grade.F])
def test_grades_without_a_horizon_never_need_regrade(grade: Grade) -> None:
    assert regrade_due_at(grade, T0) is None
    assert not needs_regrade(grade, T0, T0 + timedelta(days=3650))


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
