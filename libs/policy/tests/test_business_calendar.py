"""BusinessCalendar: opening hours, working days and quiet hours in the dealer's zone."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dealerflow.policy import (
    BusinessCalendar,
    ClockMode,
    DealerPolicy,
    SlaSpec,
    add_months,
    policy_with_overrides,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall time as an aware datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def calendar(**calendar_overrides: Any) -> BusinessCalendar:
    return BusinessCalendar(policy_with_overrides({"calendar": calendar_overrides}))


WEEKDAYS_ONLY: dict[str, Any] = {"business_hours": {"sat": [], "sun": []}}


def test_business_time_boundaries() -> None:
    cal = BusinessCalendar(DealerPolicy())
    assert not cal.is_business_time(sh(2025, 3, 3, 8, 29))
    assert cal.is_business_time(sh(2025, 3, 3, 8, 30))
    assert cal.is_business_time(sh(2025, 3, 3, 17, 59))
    assert not cal.is_business_time(sh(2025, 3, 3, 18, 0))
    # Default hours open 7 days a week (a 4S store).
    assert cal.is_business_time(sh(2025, 3, 9, 12, 0))  # Sunday


def test_add_business_time_within_a_day_returns_utc() -> None:
    due = BusinessCalendar(DealerPolicy()).add_business_time(
        sh(2025, 3, 3, 10, 0), timedelta(minutes=15)
    )
    assert due == datetime(2025, 3, 3, 2, 15, tzinfo=UTC)
    assert due.tzinfo is UTC


def test_lead_at_night_is_due_next_morning() -> None:
    cal = BusinessCalendar(DealerPolicy())
    assert cal.add_business_time(sh(2025, 3, 3, 23, 0), timedelta(minutes=15)) == sh(
        2025, 3, 4, 8, 45
    )
    assert cal.add_business_time(sh(2025, 3, 4, 1, 0), timedelta(minutes=15)) == sh(
        2025, 3, 4, 8, 45
    )


def test_friday_evening_rolls_to_saturday_or_monday() -> None:
    friday_evening = sh(2025, 3, 7, 17, 50)  # a Friday
    seven_days = BusinessCalendar(DealerPolicy())
    assert seven_days.add_business_time(friday_evening, timedelta(minutes=15)) == sh(
        2025, 3, 8, 8, 35
    )
    weekdays = calendar(**WEEKDAYS_ONLY)
    assert weekdays.add_business_time(friday_evening, timedelta(minutes=15)) == sh(
        2025, 3, 10, 8, 35
    )


def test_add_business_time_spans_several_days_and_holidays() -> None:
    cal = calendar(holidays=["2025-03-04"])
    # Monday 09:00: 9 h left today, Tuesday is a holiday, 1 h on Wednesday from 08:30.
    assert cal.add_business_time(sh(2025, 3, 3, 9, 0), timedelta(hours=10)) == sh(2025, 3, 5, 9, 30)


def test_holiday_can_be_an_open_day() -> None:
    cal = calendar(holidays=["2025-03-04"], open_on_holidays=True)
    assert cal.add_business_time(sh(2025, 3, 3, 17, 0), timedelta(hours=2)) == sh(2025, 3, 4, 9, 30)


def test_lunch_break_is_not_business_time() -> None:
    cal = calendar(
        business_hours={
            "mon": [{"opens": "08:30", "closes": "12:00"}, {"opens": "13:30", "closes": "18:00"}]
        }
    )
    assert not cal.is_business_time(sh(2025, 3, 3, 12, 30))
    assert cal.add_business_time(sh(2025, 3, 3, 11, 50), timedelta(minutes=15)) == sh(
        2025, 3, 3, 13, 35
    )


def test_interval_closing_at_midnight_crosses_into_the_next_day() -> None:
    cal = calendar(
        business_hours={d: [{"opens": "20:00", "closes": "00:00"}] for d in ("mon", "tue")}
    )
    assert cal.is_business_time(sh(2025, 3, 3, 23, 59))
    assert not cal.is_business_time(sh(2025, 3, 4, 0, 0))
    assert cal.add_business_time(sh(2025, 3, 3, 23, 50), timedelta(minutes=20)) == sh(
        2025, 3, 4, 20, 10
    )


def test_zero_delta_and_deadline_on_closing_time() -> None:
    cal = BusinessCalendar(DealerPolicy())
    start = sh(2025, 3, 3, 23, 0)
    assert cal.add_business_time(start, timedelta(0)) == start
    assert cal.add_business_time(sh(2025, 3, 3, 17, 45), timedelta(minutes=15)) == sh(
        2025, 3, 3, 18, 0
    )


def test_invalid_arguments_raise() -> None:
    cal = BusinessCalendar(DealerPolicy())
    with pytest.raises(ValueError, match="naive"):
        cal.add_business_time(datetime(2025, 3, 3, 10, 0), timedelta(minutes=1))
    with pytest.raises(ValueError, match="subtracted"):
        cal.add_business_time(sh(2025, 3, 3, 10, 0), timedelta(minutes=-1))
    closed = calendar(
        business_hours={d: [] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    )
    with pytest.raises(ValueError, match="no opening hours"):
        closed.add_business_time(sh(2025, 3, 3, 10, 0), timedelta(minutes=1))


def test_business_time_between_is_the_inverse_of_add() -> None:
    cal = calendar(holidays=["2025-03-04"], **WEEKDAYS_ONLY)
    start = sh(2025, 3, 3, 16, 0)
    for delta in (timedelta(minutes=5), timedelta(hours=2), timedelta(hours=30)):
        assert cal.business_time_between(start, cal.add_business_time(start, delta)) == delta
    assert cal.business_time_between(sh(2025, 3, 3, 18, 0), sh(2025, 3, 5, 8, 30)) == timedelta(0)
    assert cal.business_time_between(sh(2025, 3, 5, 8, 30), sh(2025, 3, 3, 8, 30)) == timedelta(0)


def test_dst_zone_spring_forward() -> None:
    cal = calendar(time_zone="Europe/Berlin")
    saturday = datetime(2025, 3, 29, 17, 0, tzinfo=BERLIN)  # UTC+1; DST starts Sunday 02:00
    due = cal.add_business_time(saturday, timedelta(hours=2))
    # 1 h on Saturday, then 1 h from Sunday's 08:30 opening (now UTC+2).
    assert due == datetime(2025, 3, 30, 7, 30, tzinfo=UTC)
    assert due.astimezone(BERLIN).time() == time(9, 30)
    assert cal.is_business_time(datetime(2025, 3, 30, 6, 30, tzinfo=UTC))  # 08:30 CEST
    assert not cal.is_business_time(datetime(2025, 3, 30, 6, 29, tzinfo=UTC))


def test_dst_zone_counts_real_hours_on_the_short_day() -> None:
    around_the_clock = {d: [{"opens": "00:00", "closes": "00:00"}] for d in ("sat", "sun")}
    cal = calendar(time_zone="Europe/Berlin", business_hours=around_the_clock)
    saturday_noon = datetime(2025, 3, 29, 12, 0, tzinfo=BERLIN)
    due = cal.add_business_time(saturday_noon, timedelta(hours=24))
    assert due - saturday_noon == timedelta(hours=24)
    assert due.astimezone(BERLIN).hour == 13  # the night lost an hour


def test_working_days_skip_weekends_holidays_and_count_makeup_days() -> None:
    # China's 2025 National Day schedule: 1-8 October off, 28 Sep (Sun) and 11 Oct (Sat) worked.
    cal = calendar(
        holidays=[f"2025-10-0{d}" for d in range(1, 9)],
        makeup_working_days=["2025-09-28", "2025-10-11"],
    )
    wednesday = sh(2025, 9, 24, 15, 30)
    assert cal.add_working_days(wednesday, 7) == sh(2025, 10, 10, 15, 30)
    assert cal.add_working_days(sh(2025, 9, 26, 10, 0), 1) == sh(2025, 9, 28, 10, 0)
    assert cal.is_working_day(date(2025, 10, 11))
    assert not cal.is_working_day(date(2025, 10, 1))
    assert not cal.is_working_day(date(2025, 10, 12))
    assert cal.add_working_days(wednesday, 0) == wednesday


def test_working_days_from_friday_and_from_a_weekend() -> None:
    cal = BusinessCalendar(DealerPolicy())
    assert cal.add_working_days(sh(2025, 3, 7, 10, 0), 1) == sh(2025, 3, 10, 10, 0)
    assert cal.add_working_days(sh(2025, 3, 8, 22, 0), 1) == sh(2025, 3, 10, 22, 0)
    with pytest.raises(ValueError, match="negative"):
        cal.add_working_days(sh(2025, 3, 8, 22, 0), -1)


def test_makeup_day_opens_the_store_when_its_weekday_is_closed() -> None:
    cal = calendar(makeup_working_days=["2025-03-08"], **WEEKDAYS_ONLY)
    assert cal.is_business_time(sh(2025, 3, 8, 9, 0))
    assert not cal.is_business_time(sh(2025, 3, 9, 9, 0))
    assert cal.add_business_time(sh(2025, 3, 7, 17, 50), timedelta(minutes=15)) == sh(
        2025, 3, 8, 8, 35
    )


def test_business_days_skip_closed_days_and_clamp_to_closing() -> None:
    cal = calendar(holidays=["2025-03-04"])
    assert cal.add_business_days(sh(2025, 3, 3, 10, 0), 1) == sh(2025, 3, 5, 10, 0)
    assert cal.add_business_days(sh(2025, 3, 3, 20, 0), 1) == sh(2025, 3, 5, 18, 0)


def test_due_and_warning_point_per_clock_mode() -> None:
    cal = BusinessCalendar(DealerPolicy())
    start = sh(2025, 3, 3, 17, 55)
    online = SlaSpec(duration=timedelta(minutes=15), mode=ClockMode.BUSINESS_HOURS)
    assert cal.due(start, online) == sh(2025, 3, 4, 8, 40)
    assert cal.point_of(start, online, 0.8) == sh(2025, 3, 4, 8, 37)
    wall = SlaSpec(duration=timedelta(hours=24))
    assert cal.due(start, wall) == sh(2025, 3, 4, 17, 55)
    assert cal.point_of(start, wall, 0.8) == start + timedelta(hours=19, minutes=12)
    days = SlaSpec(duration=timedelta(days=7), mode=ClockMode.WORKING_DAYS)
    assert cal.due(start, days) == sh(2025, 3, 12, 17, 55)
    business_days = SlaSpec(duration=timedelta(days=3), mode=ClockMode.BUSINESS_DAYS)
    assert cal.due(start, business_days) == sh(2025, 3, 6, 17, 55)
    with pytest.raises(ValueError, match="fraction"):
        cal.point_of(start, wall, 1.5)


def test_remaining_and_extend_keep_paused_time() -> None:
    cal = BusinessCalendar(DealerPolicy())
    due = sh(2025, 3, 4, 10, 0)
    left = cal.remaining(ClockMode.BUSINESS_HOURS, sh(2025, 3, 3, 17, 0), due)
    assert left == timedelta(hours=2, minutes=30)
    assert cal.extend(ClockMode.BUSINESS_HOURS, sh(2025, 3, 5, 20, 0), left) == sh(
        2025, 3, 6, 11, 0
    )
    assert cal.remaining(ClockMode.WALL, sh(2025, 3, 3, 17, 0), due) == timedelta(hours=17)
    assert cal.remaining(ClockMode.WALL, sh(2025, 3, 5, 17, 0), due) == timedelta(0)
    assert cal.extend(ClockMode.WALL, sh(2025, 3, 5, 20, 0), timedelta(hours=17)) == sh(
        2025, 3, 6, 13, 0
    )


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        (sh(2025, 3, 3, 12, 0), sh(2025, 3, 3, 12, 0)),
        (sh(2025, 3, 3, 20, 59), sh(2025, 3, 3, 20, 59)),
        (sh(2025, 3, 3, 21, 0), sh(2025, 3, 4, 8, 0)),
        (sh(2025, 3, 3, 23, 30), sh(2025, 3, 4, 8, 0)),
        (sh(2025, 3, 4, 3, 0), sh(2025, 3, 4, 8, 0)),
        (sh(2025, 3, 4, 8, 0), sh(2025, 3, 4, 8, 0)),
    ],
)
def test_quiet_hours_defer_to_eight_local(moment: datetime, allowed: datetime) -> None:
    result = BusinessCalendar(DealerPolicy()).next_allowed_send_time(moment)
    assert result == allowed
    assert result.tzinfo is UTC


def test_quiet_hours_in_a_dst_zone_and_daytime_window() -> None:
    berlin = BusinessCalendar(policy_with_overrides({"calendar": {"time_zone": "Europe/Berlin"}}))
    late = datetime(2025, 3, 29, 22, 0, tzinfo=BERLIN)
    assert berlin.next_allowed_send_time(late) == datetime(2025, 3, 30, 6, 0, tzinfo=UTC)
    siesta = BusinessCalendar(
        policy_with_overrides(
            {"contact": {"quiet_hours_start": "13:00", "quiet_hours_end": "15:00"}}
        )
    )
    assert siesta.next_allowed_send_time(sh(2025, 3, 3, 14, 0)) == sh(2025, 3, 3, 15, 0)
    assert siesta.next_allowed_send_time(sh(2025, 3, 3, 22, 0)) == sh(2025, 3, 3, 22, 0)
    none = BusinessCalendar(
        policy_with_overrides(
            {"contact": {"quiet_hours_start": "00:00", "quiet_hours_end": "00:00"}}
        )
    )
    assert none.next_allowed_send_time(sh(2025, 3, 3, 3, 0)) == sh(2025, 3, 3, 3, 0)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 7, 10), 12, date(2026, 7, 10)),
    ],
)
def test_add_months_clamps_to_month_end(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected
