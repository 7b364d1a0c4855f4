"""Unit tests of the manager's views' pure rules: dealer-local days and worklist states."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dealerflow.leads.domain_reports import WorkItemState, local_day_bounds, work_item_state

NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)


def test_a_shanghai_day_starts_at_16_utc_the_day_before() -> None:
    start, end = local_day_bounds(date(2026, 3, 10), ZoneInfo("Asia/Shanghai"))
    assert start.astimezone(UTC) == datetime(2026, 3, 9, 16, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=24)


def test_a_dst_day_is_23_or_25_hours_long() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    spring = local_day_bounds(date(2026, 3, 29), berlin)
    autumn = local_day_bounds(date(2026, 10, 25), berlin)
    assert spring[1].astimezone(UTC) - spring[0].astimezone(UTC) == timedelta(hours=23)
    assert autumn[1].astimezone(UTC) - autumn[0].astimezone(UTC) == timedelta(hours=25)


def test_worklist_states() -> None:
    earlier, later = NOW - timedelta(minutes=1), NOW + timedelta(hours=3)
    never = work_item_state(last_contacted_at=None, next_contact_at=None, now=NOW)
    assert never is WorkItemState.FIRST_CONTACT
    # a lead never contacted but already given a date is that date's work, not a first contact
    planned = work_item_state(last_contacted_at=None, next_contact_at=later, now=NOW)
    assert planned is WorkItemState.DUE_TODAY
    overdue = work_item_state(last_contacted_at=earlier, next_contact_at=earlier, now=NOW)
    assert overdue is WorkItemState.OVERDUE
    assert work_item_state(last_contacted_at=earlier, next_contact_at=None, now=NOW) is None
