"""The visit register's rules: first or return visit, duration, the needs analysis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from dealerflow.contracts.enums import VisitKind
from dealerflow.contracts.events.sales import VisitNeeds
from dealerflow.contracts.money import money
from dealerflow.sales.domain_visits import (
    arrival_problems,
    departure_problems,
    duration_minutes,
    needs_problems,
    visit_kind,
)

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)


def test_a_customer_without_earlier_visits_makes_a_first_visit() -> None:
    assert visit_kind(0) is VisitKind.FIRST
    assert visit_kind(1) is VisitKind.RETURN
    assert visit_kind(7) is VisitKind.RETURN


def test_duration_is_whole_minutes_rounded_down() -> None:
    assert duration_minutes(NOW, NOW + timedelta(minutes=95, seconds=59)) == 95
    assert duration_minutes(NOW, NOW) == 0


def test_an_arrival_may_not_lie_ahead_beyond_clock_skew() -> None:
    assert arrival_problems(NOW - timedelta(hours=1), NOW) == []
    assert arrival_problems(NOW + timedelta(minutes=4), NOW) == []
    assert arrival_problems(NOW + timedelta(minutes=6), NOW) == ["arrived_at is in the future"]


def test_a_departure_follows_the_arrival_within_twelve_hours() -> None:
    arrived = NOW - timedelta(hours=2)
    assert departure_problems(arrived, NOW, NOW) == []
    assert departure_problems(arrived, arrived - timedelta(minutes=1), NOW) == [
        "left_at is before the arrival"
    ]
    assert departure_problems(arrived - timedelta(hours=11), NOW, NOW) == [
        "the visit would last more than 12 hours"
    ]
    assert departure_problems(NOW, NOW + timedelta(hours=1), NOW) == ["left_at is in the future"]


def test_needs_list_each_priority_once_and_a_positive_budget() -> None:
    assert needs_problems(VisitNeeds(priorities=("space", "economy"))) == []
    assert needs_problems(VisitNeeds(priorities=("space", "space"))) == [
        "priorities lists a priority more than once"
    ]
    assert needs_problems(VisitNeeds(budget=money(Decimal("0"), "CNY"))) == [
        "budget must be positive"
    ]
