"""Round-robin assignment (the first-contact SLA that watches it is the notifier's)."""

from dealerflow.leads.domain import Consultant, RoundRobinAssigner, next_round_robin

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
