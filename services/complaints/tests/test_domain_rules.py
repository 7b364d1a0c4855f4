"""Complaint status machine, default severity and automatic opening."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dealerflow.complaints.domain import (
    ComplaintAction,
    ComplaintStatus,
    IllegalTransition,
    PreviousRepair,
    allowed_actions,
    clocks_stopped_by,
    default_severity,
    find_repeat_repair,
    normalise_concern,
    should_open_complaint_from_quality_check,
    should_open_complaint_from_survey,
    should_open_complaint_from_task,
    transition,
)
from dealerflow.contracts.care_enums import (
    ComplaintChannel,
    ComplaintOriginKind,
    ComplaintSeverity,
    SlaClock,
    TaskOutcome,
)
from dealerflow.policy import DealerPolicy, policy_with_overrides

S, A = ComplaintStatus, ComplaintAction
POLICY = DealerPolicy()


@pytest.mark.parametrize(
    ("status", "action", "after"),
    [
        (S.OPENED, A.ACKNOWLEDGE, S.ACKNOWLEDGED),
        (S.ACKNOWLEDGED, A.RESOLVE, S.RESOLVED),
        (S.RESOLVED, A.CLOSE, S.CLOSED),
        (S.RESOLVED, A.REOPEN, S.REOPENED),
        (S.CLOSED, A.REOPEN, S.REOPENED),
        (S.REOPENED, A.RESOLVE, S.RESOLVED),
        (S.ACKNOWLEDGED, A.INFORM_CUSTOMER, S.ACKNOWLEDGED),
        ("opened", "inform_customer", S.OPENED),
    ],
)
def test_legal_transitions(status: str, action: str, after: ComplaintStatus) -> None:
    assert transition(status, action) is after


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (S.OPENED, A.RESOLVE),
        (S.OPENED, A.CLOSE),
        (S.OPENED, A.REOPEN),
        (S.ACKNOWLEDGED, A.ACKNOWLEDGE),
        (S.ACKNOWLEDGED, A.CLOSE),
        (S.RESOLVED, A.RESOLVE),
        (S.CLOSED, A.CLOSE),
        (S.CLOSED, A.INFORM_CUSTOMER),
        (S.REOPENED, A.REOPEN),
    ],
)
def test_illegal_transitions_are_refused(status: ComplaintStatus, action: ComplaintAction) -> None:
    with pytest.raises(IllegalTransition, match=f"cannot {action.value}") as caught:
        transition(status, action)
    assert (caught.value.status, caught.value.action) == (status, action)


def repeats(*args: object) -> bool:
    """Whether `find_repeat_repair` finds an earlier repair (a complaint opens)."""
    return find_repeat_repair(*args) is not None  # type: ignore[arg-type]


def test_error_lists_what_is_allowed_and_unknown_values_fail() -> None:
    with pytest.raises(IllegalTransition, match=r"allowed: close, reopen"):
        transition(S.RESOLVED, A.ACKNOWLEDGE)
    assert allowed_actions(S.CLOSED) == {A.REOPEN}
    with pytest.raises(ValueError, match="archived"):
        transition("archived", A.CLOSE)


def test_clocks_stopped_by_actions() -> None:
    assert clocks_stopped_by(A.ACKNOWLEDGE) == {SlaClock.ACKNOWLEDGE}
    assert clocks_stopped_by(A.RESOLVE) == {
        SlaClock.RESOLVE,
        SlaClock.INFORM,
        SlaClock.FIRST_UPDATE,
    }
    # informing the customer is the first update to them
    assert clocks_stopped_by("inform_customer") == {SlaClock.INFORM, SlaClock.FIRST_UPDATE}
    assert clocks_stopped_by(A.REOPEN) == frozenset()


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"channel": ComplaintChannel.MEDIA}, ComplaintSeverity.CRITICAL),
        ({"channel": "regulator"}, ComplaintSeverity.CRITICAL),
        ({"channel": ComplaintChannel.HOTLINE, "safety": True}, ComplaintSeverity.CRITICAL),
        ({"channel": ComplaintChannel.ON_SITE, "injury": True}, ComplaintSeverity.CRITICAL),
        (
            {"channel": ComplaintChannel.SYSTEM, "origin": ComplaintOriginKind.REPEAT_REPAIR},
            ComplaintSeverity.HIGH,
        ),
        ({"channel": "system", "origin": "failed_quality_check"}, ComplaintSeverity.HIGH),
        (
            {"channel": "system", "origin": ComplaintOriginKind.LOW_SURVEY_SCORE},
            ComplaintSeverity.NORMAL,
        ),
        ({"channel": ComplaintChannel.HOTLINE}, ComplaintSeverity.NORMAL),
    ],
)
def test_default_severity(kwargs: dict[str, object], expected: ComplaintSeverity) -> None:
    assert default_severity(**kwargs) is expected  # type: ignore[arg-type]


def test_open_from_dissatisfied_task_only() -> None:
    assert should_open_complaint_from_task(TaskOutcome.DISSATISFIED)
    assert should_open_complaint_from_task("dissatisfied")
    for outcome in (TaskOutcome.SATISFIED, TaskOutcome.REACHED, TaskOutcome.UNREACHABLE, None):
        assert not should_open_complaint_from_task(outcome)


def test_open_from_survey_at_six_or_less() -> None:
    assert should_open_complaint_from_survey(6, POLICY)
    assert should_open_complaint_from_survey(0, POLICY)
    assert not should_open_complaint_from_survey(7, POLICY)
    strict = policy_with_overrides({"complaints": {"survey_dissatisfied_max_score": 7}})
    assert should_open_complaint_from_survey(7, strict)
    for bad in (-1, 11):
        with pytest.raises(ValueError, match="outside"):
            should_open_complaint_from_survey(bad, POLICY)


def test_open_from_quality_check_only_when_it_reached_the_customer() -> None:
    assert should_open_complaint_from_quality_check(failed=True, reached_customer=True)
    assert not should_open_complaint_from_quality_check(failed=True, reached_customer=False)
    assert not should_open_complaint_from_quality_check(failed=False, reached_customer=True)


VIN = "LSVAU033512345678"
NOW = datetime(2025, 3, 31, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def repair(ro: str, concern: str, days_ago: float, vin: str = VIN) -> PreviousRepair:
    return PreviousRepair(ro, vin, concern, NOW - timedelta(days=days_ago))


def test_repeat_repair_same_vehicle_same_concern_within_30_days() -> None:
    history = [
        repair("RO1", "Brake noise", 40),
        repair("RO2", "brake  noise!", 20),
        repair("RO3", "Brake noise", 10),
        repair("RO4", "air conditioning", 5),
        repair("RO5", "Brake noise", 3, vin="LSVAU033599999999"),
    ]
    found = find_repeat_repair(VIN.lower(), "BRAKE NOISE", history, NOW, POLICY)
    assert found is not None
    assert found.repair_order_id == "RO3"  # the most recent match
    assert repeats(VIN, "brake noise", history, NOW, POLICY)
    assert not repeats(VIN, "wipers", history, NOW, POLICY)
    assert not repeats(VIN, "Brake noise", [repair("RO1", "Brake noise", 30.01)], NOW, POLICY)
    assert repeats(VIN, "Brake noise", [repair("RO1", "Brake noise", 30)], NOW, POLICY)


def test_repeat_window_is_a_setting_and_later_repairs_do_not_count() -> None:
    history = [repair("RO1", "异响", 40)]
    wide = policy_with_overrides({"complaints": {"repeat_repair_window": "P45D"}})
    assert repeats(VIN, "异响", history, NOW, wide)
    assert not repeats(VIN, "异响", history, NOW, POLICY)
    assert not repeats(VIN, "异响", [repair("RO9", "异响", -1)], NOW, POLICY)


def test_concern_normalisation_ignores_case_width_and_punctuation() -> None:
    assert normalise_concern("  刹车，异响！ ") == normalise_concern("刹车 异响")
    assert normalise_concern("ＡＢＳ light") == "abs light"
