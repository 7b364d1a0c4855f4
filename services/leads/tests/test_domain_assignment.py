from datetime import timedelta

import pytest

from dealerflow.leads.domain import (
    Consultant,
    LeadChannel,
    RoundRobinAssigner,
    SlaBreachAction,
    SlaTargetKind,
    first_contact_sla_targets,
    least_open_load,
    next_round_robin,
    sla_breach_actions,
    sla_warning_offset,
)
from dealerflow.policy import ClockMode, policy_with_overrides

TEAM = [
    Consultant("c3"),
    Consultant("c1"),
    Consultant("c2", on_duty=False),
    Consultant("c4"),
]


def test_round_robin_cycles_over_on_duty_consultants_in_id_order() -> None:
    assigner = RoundRobinAssigner()
    picks = [assigner.assign(TEAM) for _ in range(5)]
    assert picks == ["c1", "c3", "c4", "c1", "c3"]  # c2 is off duty
    assert assigner.last_assigned_id == "c3"


def test_round_robin_resumes_from_persisted_state_when_team_changes() -> None:
    # the last pick (c2) went off duty since: the next one after it in order gets the lead
    assert RoundRobinAssigner("c2").assign(TEAM) == "c3"
    assert next_round_robin(["c1", "c3"], "c9") == "c1"  # wraps around


def test_round_robin_with_nobody_on_duty_keeps_state() -> None:
    assigner = RoundRobinAssigner("c1")
    assert assigner.assign([Consultant("c1", on_duty=False)]) is None
    assert assigner.last_assigned_id == "c1"


def test_round_robin_exclude_skips_current_owner() -> None:
    assert RoundRobinAssigner("c1").assign(TEAM, exclude={"c3"}) == "c4"
    assert RoundRobinAssigner().assign([Consultant("c1")], exclude={"c1"}) is None


def test_least_open_load_picks_the_lightest_on_duty_consultant() -> None:
    loads = {"c1": 5, "c2": 0, "c3": 2, "c4": 7}
    assert least_open_load(TEAM, loads) == "c3"  # c2 has 0 but is off duty
    assert least_open_load(TEAM, loads, exclude={"c3"}) == "c1"


def test_least_open_load_counts_missing_as_zero_and_breaks_ties_by_id() -> None:
    assert least_open_load(TEAM, {"c1": 1}) == "c3"
    assert least_open_load(TEAM, {"c1": 2, "c3": 2, "c4": 2}) == "c1"
    assert least_open_load([], {}) is None


@pytest.mark.parametrize("channel", [LeadChannel.WALK_IN, LeadChannel.PHONE])
def test_walk_ins_and_calls_get_thank_you_and_first_call_clocks(channel: LeadChannel) -> None:
    targets = first_contact_sla_targets(channel)
    assert [(t.kind, t.spec.duration, t.spec.mode) for t in targets] == [
        (SlaTargetKind.THANK_YOU_MESSAGE, timedelta(hours=2), ClockMode.WALL),
        (SlaTargetKind.FIRST_CONTACT, timedelta(hours=24), ClockMode.WALL),
    ]


@pytest.mark.parametrize("channel", [LeadChannel.ONLINE, "carrier-pigeon"])
def test_online_and_unknown_channels_get_the_business_hours_clock(channel: str) -> None:
    (target,) = first_contact_sla_targets(channel)
    assert target.kind is SlaTargetKind.FIRST_CONTACT
    assert target.spec.duration == timedelta(minutes=15)
    assert target.spec.mode is ClockMode.BUSINESS_HOURS


def test_dealer_policy_changes_the_first_contact_sla() -> None:
    policy = policy_with_overrides(
        {"leads": {"first_contact": {"online": {"first_contact": {"duration": "PT30M"}}}}}
    )
    (target,) = first_contact_sla_targets(LeadChannel.ONLINE, policy.leads)
    assert target.spec.duration == timedelta(minutes=30)


def test_warning_at_eighty_percent() -> None:
    assert sla_warning_offset(timedelta(minutes=15)) == timedelta(minutes=12)
    assert sla_warning_offset(timedelta(hours=24), 0.5) == timedelta(hours=12)
    with pytest.raises(ValueError, match="warn_ratio"):
        sla_warning_offset(timedelta(minutes=15), 1.0)


def test_first_breach_escalates_second_reassigns() -> None:
    assert sla_breach_actions(1) == {SlaBreachAction.ESCALATE_TO_MANAGER}
    both = {SlaBreachAction.ESCALATE_TO_MANAGER, SlaBreachAction.REASSIGN}
    assert sla_breach_actions(2) == both
    assert sla_breach_actions(3) == both
    assert sla_breach_actions(2, reassign_at_breach=3) == {SlaBreachAction.ESCALATE_TO_MANAGER}
    with pytest.raises(ValueError, match="starts at 1"):
        sla_breach_actions(0)
