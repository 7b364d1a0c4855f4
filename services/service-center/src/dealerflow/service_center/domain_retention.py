"""Next maintenance, retention and after-sales tier.

(Whether a visit is a repeat repair, and so a complaint, is the complaints service's rule:
it reacts to RepairOrderOpened with its concern codes.)

Dates here are dealer-local calendar dates (the caller converts UTC timestamps with the
dealer's time zone), because "12 months" and "due on" are calendar notions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import NamedTuple

from dealerflow.contracts.enums import ServiceTier, ServiceWorkType
from dealerflow.policy import OwnerCarePolicy, ServicePolicy, add_months


def _require_date(value: date, name: str) -> None:
    # datetime is a subclass of date; mixing them breaks comparisons and hides the zone.
    if isinstance(value, datetime):
        raise TypeError(f"{name} must be a dealer-local date, not a datetime")


class NextMaintenance(NamedTuple):
    due_date: date  # by time or by the projected mileage, whichever comes first
    due_km: int  # the odometer reading at which it is due


def next_maintenance(
    last_service_at: date,
    last_mileage_km: int,
    interval_km: int,
    interval_months: int,
    avg_daily_km: float | None = None,
) -> NextMaintenance:
    """When the next maintenance is due: by time or mileage, whichever comes first.

    The mileage date is projected from `avg_daily_km` (None or 0 = unknown: time only);
    it is the first day on which the interval is reached.
    """
    _require_date(last_service_at, "last_service_at")
    if interval_km <= 0 or interval_months <= 0:
        raise ValueError("maintenance intervals must be positive")
    if last_mileage_km < 0 or (avg_daily_km is not None and avg_daily_km < 0):
        raise ValueError("mileage cannot be negative")
    due_km = last_mileage_km + interval_km
    by_time = add_months(last_service_at, interval_months)
    if not avg_daily_km:
        return NextMaintenance(by_time, due_km)
    days_to_km = math.ceil(interval_km / avg_daily_km)
    if days_to_km >= (by_time - last_service_at).days:
        return NextMaintenance(by_time, due_km)
    return NextMaintenance(last_service_at + timedelta(days=days_to_km), due_km)


@dataclass(frozen=True)
class VehicleVisit:
    """An earlier repair order of the vehicle at this dealer (odometer and maintenance
    history)."""

    work_type: ServiceWorkType
    opened_at: datetime
    mileage_km: int
    handed_over_at: datetime | None = None
    handover_mileage_km: int | None = None


def next_maintenance_after_visit(
    work_type: ServiceWorkType,
    *,
    today: date,
    mileage_km: int,
    history: Sequence[VehicleVisit],
    tz: tzinfo,
    interval_km: int,
    interval_months: int,
) -> NextMaintenance | None:
    """When a vehicle handed over today at ``mileage_km`` is next due for maintenance.

    Counted from this visit if it was maintenance, else from the vehicle's last
    maintenance here (``history`` oldest first); unknown (None) if it never had one here.
    The date by mileage is projected from the odometer readings of its visits.
    """

    def local(at: datetime) -> date:
        return at.astimezone(tz).date()

    readings: list[tuple[date, int]] = [(today, mileage_km)]
    for past in history:
        readings.append((local(past.opened_at), past.mileage_km))
        if past.handed_over_at is not None and past.handover_mileage_km is not None:
            readings.append((local(past.handed_over_at), past.handover_mileage_km))
    if work_type == ServiceWorkType.MAINTENANCE:
        base = (today, mileage_km)
    else:
        maintained = [
            p
            for p in history
            if p.work_type == ServiceWorkType.MAINTENANCE and p.handed_over_at is not None
        ]
        if not maintained:
            return None
        last = maintained[-1]
        assert last.handed_over_at is not None  # filtered above
        base = (local(last.handed_over_at), last.handover_mileage_km or last.mileage_km)
    return next_maintenance(
        base[0], base[1], interval_km, interval_months, average_daily_km(readings)
    )


def first_maintenance(
    delivered_on: date,
    mileage_at_delivery_km: int,
    owner_care: OwnerCarePolicy,
    avg_daily_km: float | None = None,
) -> NextMaintenance:
    """First maintenance after delivery: at the odometer reading ``first_maintenance_km``
    or ``first_maintenance_months`` after delivery (DOMAIN.md default 5,000 km or 6
    months), whichever comes first; the mileage date is projected from ``avg_daily_km``
    (the customer's expected yearly mileage / 365, when the sale recorded it). A car
    delivered at or past that reading is due by time, at least 1 km on."""
    return next_maintenance(
        delivered_on,
        mileage_at_delivery_km,
        max(owner_care.first_maintenance_km - mileage_at_delivery_km, 1),
        owner_care.first_maintenance_months,
        avg_daily_km,
    )


def daily_km_of_yearly(expected_yearly_km: int | None) -> float | None:
    """The daily mileage estimate of a customer's expected yearly mileage (yearly / 365);
    None when unknown or zero (the time rule alone then)."""
    if not expected_yearly_km or expected_yearly_km <= 0:
        return None
    return expected_yearly_km / 365


def maintenance_reminder_on(due_date: date, owner_care: OwnerCarePolicy) -> date:
    """The date to remind the customer: the dealer's ``first_maintenance_remind_before``
    ahead of the due date (DOMAIN.md default 14 days)."""
    return due_date - timedelta(days=owner_care.first_maintenance_remind_before.days)


def average_daily_km(readings: Iterable[tuple[date, int]]) -> float | None:
    """Average km a day between the earliest and the latest odometer reading.

    None when it cannot be told: fewer than two distinct days, or the odometer did not
    go up (a typo or a replaced instrument cluster).
    """
    ordered = sorted(readings)
    if len(ordered) < 2:
        return None
    (first_day, first_km), (last_day, last_km) = ordered[0], ordered[-1]
    days = (last_day - first_day).days
    if days <= 0 or last_km <= first_km:
        return None
    return (last_km - first_km) / days


class RetentionStatus(StrEnum):
    ACTIVE = "active"
    AT_RISK = "at_risk"  # contracts RetentionLevel.AT_RISK
    LOST = "lost"  # contracts RetentionLevel.LOST


def whole_months_between(start: date, end: date) -> int:
    """Completed calendar months from `start` to `end` (0 if `end` is earlier)."""
    _require_date(start, "start")
    _require_date(end, "end")
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if months > 0 and add_months(start, months) > end:
        months -= 1
    return max(months, 0)


def retention_status(last_visit_on: date, today: date, service: ServicePolicy) -> RetentionStatus:
    """At risk once the dealer's ``at_risk_after_months`` have passed without a visit,
    lost at ``lost_after_months`` (on the day; DOMAIN.md defaults 12 and 24).

    For an owner we sold to who never came for service, pass the delivery date.
    """
    months = whole_months_between(last_visit_on, today)
    if months >= service.lost_after_months:
        return RetentionStatus.LOST
    if months >= service.at_risk_after_months:
        return RetentionStatus.AT_RISK
    return RetentionStatus.ACTIVE


def after_sales_tier(
    visit_dates: Iterable[date], today: date, service: ServicePolicy
) -> ServiceTier:
    """Tier by visits in the last 12 months against the dealer's
    ``tier_min_visits_per_year`` (DOMAIN.md defaults: A >= 4, B 2-3, C 1, D none).

    Several repair orders on one day are one visit. The year is (today - 12 months, today].
    """
    visits = visits_in_year(visit_dates, today)
    min_visits = service.tier_min_visits_per_year
    if visits >= min_visits["A"]:
        return ServiceTier.A
    if visits >= min_visits["B"]:
        return ServiceTier.B
    if visits >= min_visits["C"]:
        return ServiceTier.C
    return ServiceTier.D


def visits_in_year(visit_dates: Iterable[date], today: date) -> int:
    """Visit days in the year (today - 12 months, today]: several repair orders on one
    day are one visit (the basis of :func:`after_sales_tier`)."""
    since = add_months(today, -12)
    return len({d for d in visit_dates if since < d <= today})


def tier_to_publish(tier: ServiceTier, published: ServiceTier | None) -> ServiceTier | None:
    """The after-sales tier to publish (``ServiceTierChanged``) for a customer whose tier
    is ``tier`` now, ``published`` the one published before (None: never): the tier when
    it differs, else None (a tier is published once per change)."""
    return None if tier == published else tier


def retention_to_publish(
    status: RetentionStatus,
    last_visit_at: datetime,
    published: tuple[RetentionStatus, datetime] | None,
) -> RetentionStatus | None:
    """The level the retention scan publishes for a vehicle (``CustomerAtRisk``), or None.

    ``published`` is the level published before and the last visit it counted from. Each
    level is published once per spell without a visit: a later visit (or delivery) starts
    a new spell; lost after at_risk is published, at_risk after lost is not.
    """
    if status == RetentionStatus.ACTIVE:
        return None
    if published is None or published[1] != last_visit_at:
        return status
    if published[0] == RetentionStatus.AT_RISK and status == RetentionStatus.LOST:
        return status
    return None
