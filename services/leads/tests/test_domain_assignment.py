"""Assignment to the dealer's available consultants: round robin and open load (the
first-contact SLA that watches it is the notifier's)."""

from datetime import date

from dealerflow.leads.domain import available_consultants, choose_consultant, next_round_robin
from dealerflow.policy import DealerPeople, StaffMember, StaffRole

TODAY = date(2026, 11, 26)
CONSULTANT = frozenset({StaffRole.CONSULTANT})

PEOPLE = DealerPeople(
    staff=[
        StaffMember(staff_id="c3", roles=CONSULTANT),
        StaffMember(staff_id="c1", roles=CONSULTANT),
        StaffMember(staff_id="c2", roles=CONSULTANT, on_duty=False),
        StaffMember(staff_id="c4", roles=CONSULTANT),
        StaffMember(staff_id="m1", roles=frozenset({StaffRole.SALES_MANAGER})),
    ]
)
TEAM = available_consultants(PEOPLE, TODAY)


def round_robin(candidates: list[str], last: str | None, picks: int) -> list[str | None]:
    chosen: list[str | None] = []
    for _ in range(picks):
        last = choose_consultant("round_robin", candidates, last)
        chosen.append(last)
    return chosen


def test_available_consultants_are_on_duty_consultants_in_id_order() -> None:
    assert TEAM == ["c1", "c3", "c4"]  # c2 off duty, m1 not a consultant
    assert available_consultants(PEOPLE, TODAY, exclude={"c3"}) == ["c1", "c4"]
    assert available_consultants(DealerPeople(), TODAY) == []


def test_a_consultant_away_today_is_not_available() -> None:
    away = DealerPeople(
        staff=[
            StaffMember(
                staff_id="c1",
                roles=CONSULTANT,
                away_from=date(2026, 11, 25),
                away_until=date(2026, 11, 27),
            ),
            StaffMember(staff_id="c2", roles=CONSULTANT, away_until=date(2026, 11, 25)),
            StaffMember(staff_id="c3", roles=CONSULTANT, away_from=date(2026, 11, 27)),
        ]
    )
    assert available_consultants(away, TODAY) == ["c2", "c3"]
    assert available_consultants(away, date(2026, 11, 28)) == ["c1", "c2"]  # c3 away on


def test_round_robin_cycles_over_available_consultants_in_id_order() -> None:
    assert round_robin(TEAM, None, 5) == ["c1", "c3", "c4", "c1", "c3"]


def test_round_robin_resumes_from_persisted_state_when_team_changes() -> None:
    # the last pick (c2) went off duty since: the next one after it in order gets the lead
    assert choose_consultant("round_robin", TEAM, "c2") == "c3"
    assert next_round_robin(["c1", "c3"], "c9") == "c1"  # wraps around


def test_nobody_available_gets_nobody() -> None:
    assert choose_consultant("round_robin", [], "c1") is None
    assert choose_consultant("open_load", [], "c1", {"c1": 0}) is None


def test_open_load_picks_the_consultant_with_fewest_open_leads() -> None:
    load = {"c1": 3, "c3": 1, "c4": 2}
    assert choose_consultant("open_load", TEAM, None, load) == "c3"
    assert choose_consultant("open_load", TEAM, "c3", load) == "c3"  # still the least loaded
    # someone without open leads (absent from the counts) beats everyone
    assert choose_consultant("open_load", TEAM, None, {"c1": 1, "c3": 1}) == "c4"


def test_open_load_breaks_ties_in_round_robin_order() -> None:
    load = {"c1": 2, "c3": 1, "c4": 1}
    assert choose_consultant("open_load", TEAM, None, load) == "c3"
    assert choose_consultant("open_load", TEAM, "c3", load) == "c4"
    assert choose_consultant("open_load", TEAM, "c4", load) == "c3"  # wraps among the tied
    assert choose_consultant("open_load", TEAM, "c1", {}) == "c3"  # all equal: plain turn
