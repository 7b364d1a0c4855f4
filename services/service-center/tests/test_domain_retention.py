from datetime import UTC, date, datetime, timedelta

import pytest

from dealerflow.policy import OwnerCarePolicy, ServicePolicy
from dealerflow.service_center.domain import (
    NextMaintenance,
    RetentionStatus,
    ServiceTier,
    after_sales_tier,
    average_daily_km,
    daily_km_of_yearly,
    first_maintenance,
    maintenance_reminder_on,
    next_maintenance,
    retention_status,
    retention_to_publish,
    tier_to_publish,
    visits_in_year,
    whole_months_between,
)

LAST = date(2026, 1, 31)
#: a dealer that set nothing (DOMAIN.md defaults)
SERVICE, OWNER_CARE = ServicePolicy(), OwnerCarePolicy()


def test_maintenance_due_by_time_when_driving_little() -> None:
    # 10 km/day: 10,000 km takes 1000 days; 6 months come first (clamped to 31 Jul)
    assert next_maintenance(LAST, 20_000, 10_000, 6, 10) == NextMaintenance(
        date(2026, 7, 31), 30_000
    )
    assert next_maintenance(LAST, 20_000, 10_000, 1, None).due_date == date(2026, 2, 28)


def test_maintenance_due_by_mileage_when_driving_a_lot() -> None:
    due_date, due_km = next_maintenance(LAST, 20_000, 10_000, 12, 100)
    assert (due_date, due_km) == (LAST + timedelta(days=100), 30_000)
    # 10,000 / 33 = 303.03 days: reached on day 304
    assert next_maintenance(LAST, 0, 10_000, 12, 33).due_date == LAST + timedelta(days=304)


def test_time_and_mileage_on_the_same_day_and_unknown_mileage() -> None:
    by_time = date(2026, 2, 28)  # 28 days after 31 Jan
    assert next_maintenance(LAST, 0, 2_800, 1, 100).due_date == by_time
    assert next_maintenance(LAST, 0, 2_800, 1, 0).due_date == by_time
    # absurdly low daily mileage never overflows the date range
    assert next_maintenance(LAST, 0, 10_000, 6, 1e-9).due_date == date(2026, 7, 31)


def test_maintenance_input_checks() -> None:
    with pytest.raises(TypeError, match="dealer-local date"):
        next_maintenance(datetime(2026, 1, 1, tzinfo=UTC), 0, 5000, 6)
    with pytest.raises(ValueError, match="positive"):
        next_maintenance(LAST, 0, 0, 6)
    with pytest.raises(ValueError, match="negative"):
        next_maintenance(LAST, -5, 5000, 6)


def test_first_maintenance_defaults_and_reminder() -> None:
    delivered = date(2026, 3, 10)
    assert first_maintenance(delivered, 12, OWNER_CARE) == NextMaintenance(date(2026, 9, 10), 5_000)
    assert first_maintenance(delivered, 0, OWNER_CARE, 100).due_date == date(2026, 4, 29)  # 50 days
    custom = OwnerCarePolicy(first_maintenance_km=3000, first_maintenance_months=3)
    assert first_maintenance(delivered, 0, custom) == NextMaintenance(date(2026, 6, 10), 3_000)
    assert maintenance_reminder_on(date(2026, 9, 10), OWNER_CARE) == date(2026, 8, 27)
    week = OwnerCarePolicy(first_maintenance_remind_before=timedelta(days=7))
    assert maintenance_reminder_on(date(2026, 9, 10), week) == date(2026, 9, 3)


def test_average_daily_km_from_odometer_readings() -> None:
    readings = [(date(2026, 3, 1), 11_000), (date(2026, 1, 1), 5_000), (date(2026, 2, 1), 8_000)]
    assert average_daily_km(readings) == pytest.approx(6_000 / 59)
    assert average_daily_km([(date(2026, 1, 1), 5_000)]) is None
    assert average_daily_km([(date(2026, 1, 1), 5_000), (date(2026, 1, 1), 5_100)]) is None
    assert average_daily_km([(date(2026, 1, 1), 5_000), (date(2026, 2, 1), 4_000)]) is None


def test_whole_months() -> None:
    assert whole_months_between(date(2025, 1, 31), date(2026, 1, 30)) == 11
    assert whole_months_between(date(2025, 1, 31), date(2026, 1, 31)) == 12
    assert whole_months_between(date(2025, 1, 31), date(2025, 2, 28)) == 1  # month end
    assert whole_months_between(date(2026, 1, 1), date(2025, 1, 1)) == 0


def test_retention_at_risk_at_twelve_months_lost_at_twenty_four() -> None:
    last = date(2024, 3, 15)
    assert retention_status(last, date(2025, 3, 14), SERVICE) is RetentionStatus.ACTIVE
    assert retention_status(last, date(2025, 3, 15), SERVICE) is RetentionStatus.AT_RISK
    assert retention_status(last, date(2026, 3, 14), SERVICE) is RetentionStatus.AT_RISK
    assert retention_status(last, date(2026, 3, 15), SERVICE) is RetentionStatus.LOST
    assert retention_status(last, date(2024, 10, 1), ServicePolicy(at_risk_after_months=6)) is (
        RetentionStatus.AT_RISK
    )


TODAY = date(2026, 6, 30)


@pytest.mark.parametrize(
    ("visits", "tier"),
    [
        ([date(2026, 1, 1), date(2026, 3, 1), date(2026, 5, 1), date(2026, 6, 30)], ServiceTier.A),
        ([date(2026, 1, 1), date(2026, 3, 1), date(2026, 5, 1)], ServiceTier.B),
        ([date(2026, 1, 1), date(2026, 3, 1)], ServiceTier.B),
        ([date(2026, 1, 1)], ServiceTier.C),
        ([], ServiceTier.D),
        # exactly a year ago is outside the year; the day after is inside
        ([date(2025, 6, 30)], ServiceTier.D),
        ([date(2025, 7, 1)], ServiceTier.C),
        # two repair orders on one day are one visit; future dates do not count
        ([date(2026, 2, 1), date(2026, 2, 1), date(2026, 7, 1)], ServiceTier.C),
    ],
)
def test_after_sales_tier_by_visits_in_the_last_year(visits: list[date], tier: ServiceTier) -> None:
    assert after_sales_tier(visits, TODAY, SERVICE) is tier


def test_dealer_tier_thresholds() -> None:
    visits = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    dealer = ServicePolicy(tier_min_visits_per_year={"A": 3, "B": 2, "C": 1})
    assert after_sales_tier(visits, TODAY, dealer) is ServiceTier.A
    assert after_sales_tier(visits, TODAY, SERVICE) is ServiceTier.B


def test_the_expected_yearly_mileage_gives_the_daily_estimate() -> None:
    assert daily_km_of_yearly(36_500) == pytest.approx(100.0)
    assert daily_km_of_yearly(15_000) == pytest.approx(15_000 / 365)
    assert daily_km_of_yearly(None) is None
    assert daily_km_of_yearly(0) is None
    delivered = date(2026, 3, 10)
    estimate = daily_km_of_yearly(36_500)
    # 4,990 km to go at 100 km a day: due on day 50, before the 6 months
    assert first_maintenance(delivered, 10, OWNER_CARE, estimate).due_date == date(2026, 4, 29)


def test_a_car_delivered_past_the_first_reading_is_due_by_time() -> None:
    assert first_maintenance(date(2026, 3, 10), 6_000, OWNER_CARE) == NextMaintenance(
        date(2026, 9, 10), 6_001
    )


def test_the_scan_publishes_each_level_once_per_spell() -> None:
    visit = datetime(2025, 1, 5, 2, tzinfo=UTC)
    later = visit + timedelta(days=400)
    at_risk, lost, active = RetentionStatus.AT_RISK, RetentionStatus.LOST, RetentionStatus.ACTIVE
    assert retention_to_publish(active, visit, None) is None
    assert retention_to_publish(at_risk, visit, None) == at_risk
    assert retention_to_publish(at_risk, visit, (at_risk, visit)) is None  # once
    assert retention_to_publish(lost, visit, (at_risk, visit)) == lost  # escalates
    assert retention_to_publish(lost, visit, (lost, visit)) is None
    assert retention_to_publish(at_risk, visit, (lost, visit)) is None  # never back down
    # a visit since: a new spell, published again
    assert retention_to_publish(at_risk, later, (lost, visit)) == at_risk
    assert retention_to_publish(active, later, (lost, visit)) is None


def test_visits_in_the_year_count_days_not_repair_orders() -> None:
    days = [date(2025, 6, 30), date(2025, 7, 1), date(2026, 2, 1), date(2026, 2, 1)]
    assert visits_in_year(days, TODAY) == 2  # a year ago is out; one day is one visit
    assert visits_in_year([], TODAY) == 0


def test_a_tier_is_published_when_it_changes_and_the_first_one_too() -> None:
    assert tier_to_publish(ServiceTier.C, None) is ServiceTier.C
    assert tier_to_publish(ServiceTier.C, ServiceTier.C) is None
    assert tier_to_publish(ServiceTier.D, ServiceTier.C) is ServiceTier.D
    assert tier_to_publish(ServiceTier.B, ServiceTier.C) is ServiceTier.B
