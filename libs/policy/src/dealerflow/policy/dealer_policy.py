"""`DealerPolicy`: every number of DOMAIN.md as a per-dealer setting with its default.

A dealer's policy is a frozen pydantic model made of small groups (calendar, contact,
leads, owner care, service, complaints, sales). Every field has the DOMAIN.md default, so
`DealerPolicy()` is the policy of a dealer that configured nothing, and a dealer's stored
overrides are applied with `policy_with_overrides`. Unknown keys are rejected (a typo in a
dealer's settings must fail loudly, not silently fall back to a default).

Choices not fixed by DOMAIN.md (documented here and in the field descriptions):
- business hours default to 08:30-18:00 every day of the week (a 4S store opens 7 days);
- statutory working days ("7 working days" in the law) are Monday-Friday, minus `holidays`,
  plus `makeup_working_days` (China's weekend make-up days);
- the discount approval threshold defaults to 5 % of the vehicle price;
- date-based customer reminders (maintenance, insurance) are sent at 10:00 local time.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import date, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

LeadGrade = Literal["H", "A", "B", "C"]
"""Intent grades that carry a sales follow-up cadence (N, O, D, F have none)."""

FirstContactClass = Literal["online", "walk_in", "phone"]
"""How a lead reached us, as far as the first-contact SLA is concerned."""

Severity = Literal["critical", "high", "normal"]
"""Complaint severity (same values as the contracts enum)."""


class Weekday(StrEnum):
    """Day of the week; `list(Weekday)[d.weekday()]` is the weekday of date `d`."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @classmethod
    def of(cls, day: date) -> Weekday:
        """The weekday of a calendar date."""
        return list(cls)[day.weekday()]


class ClockMode(StrEnum):
    """How an SLA duration is counted.

    - ``wall``: elapsed real time (nights and holidays count);
    - ``business_hours``: only the store's opening hours count;
    - ``business_days``: whole store-open days; due at the same local time on the n-th
      open day after the start day (clamped to that day's closing time);
    - ``working_days``: whole statutory working days (the law's "working days"); due at the
      same local time on the n-th working day after the start day.
    """

    WALL = "wall"
    BUSINESS_HOURS = "business_hours"
    BUSINESS_DAYS = "business_days"
    WORKING_DAYS = "working_days"


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SlaSpec(_Settings):
    """A duration and how it is counted (see `ClockMode`)."""

    duration: timedelta
    mode: ClockMode = ClockMode.WALL

    @model_validator(mode="after")
    def _check(self) -> SlaSpec:
        if self.duration < timedelta(0):
            raise ValueError("an SLA duration cannot be negative")
        if self.mode in (ClockMode.BUSINESS_DAYS, ClockMode.WORKING_DAYS) and (
            self.duration % timedelta(days=1)
        ):
            raise ValueError(f"a {self.mode.value} SLA must be a whole number of days")
        return self


def _wall(**kw: float) -> SlaSpec:
    return SlaSpec(duration=timedelta(**kw), mode=ClockMode.WALL)


def _business_hours(**kw: float) -> SlaSpec:
    return SlaSpec(duration=timedelta(**kw), mode=ClockMode.BUSINESS_HOURS)


def _business_days(days: int) -> SlaSpec:
    return SlaSpec(duration=timedelta(days=days), mode=ClockMode.BUSINESS_DAYS)


class OpeningInterval(_Settings):
    """One opening period of a day in local time; ``closes`` 00:00 means midnight."""

    opens: time
    closes: time

    @model_validator(mode="after")
    def _check(self) -> OpeningInterval:
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opening times are local wall times without a zone")
        if self.closes != time(0) and self.closes <= self.opens:
            raise ValueError(f"an opening interval must close after it opens: {self}")
        return self

    @property
    def closes_at_midnight(self) -> bool:
        """True when the interval runs to the end of the day."""
        return self.closes == time(0)


_DEFAULT_DAY: list[OpeningInterval] = [OpeningInterval(opens=time(8, 30), closes=time(18, 0))]


def _day() -> list[OpeningInterval]:
    return list(_DEFAULT_DAY)


class WeeklyHours(_Settings):
    """Store opening hours per weekday; an empty list means closed all day."""

    mon: list[OpeningInterval] = Field(default_factory=_day)
    tue: list[OpeningInterval] = Field(default_factory=_day)
    wed: list[OpeningInterval] = Field(default_factory=_day)
    thu: list[OpeningInterval] = Field(default_factory=_day)
    fri: list[OpeningInterval] = Field(default_factory=_day)
    sat: list[OpeningInterval] = Field(default_factory=_day)
    sun: list[OpeningInterval] = Field(default_factory=_day)

    @field_validator("*")
    @classmethod
    def _sorted_disjoint(cls, intervals: list[OpeningInterval]) -> list[OpeningInterval]:
        ordered = sorted(intervals, key=lambda i: i.opens)
        for before, after in itertools.pairwise(ordered):
            if before.closes_at_midnight or after.opens < before.closes:
                raise ValueError("opening intervals of one day must not overlap")
        return ordered

    def for_weekday(self, weekday: Weekday) -> list[OpeningInterval]:
        """The opening intervals of a weekday, in order."""
        hours: list[OpeningInterval] = getattr(self, weekday.value)
        return hours


class CalendarPolicy(_Settings):
    """Where and when the store works."""

    time_zone: str = "Asia/Shanghai"
    business_hours: WeeklyHours = Field(default_factory=WeeklyHours)
    holidays: frozenset[date] = Field(
        default_factory=frozenset,
        description="Public holidays: never working days; the store is closed on them "
        "unless open_on_holidays.",
    )
    open_on_holidays: bool = False
    makeup_working_days: frozenset[date] = Field(
        default_factory=frozenset,
        description="Official make-up working days (e.g. a Saturday worked for a holiday): "
        "always working days; the store opens with that weekday's hours, or with "
        "makeup_day_hours when that weekday is normally closed.",
    )
    makeup_day_hours: list[OpeningInterval] = Field(default_factory=_day)
    working_weekdays: frozenset[Weekday] = frozenset(
        {Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI}
    )

    @field_serializer("holidays", "makeup_working_days", "working_weekdays")
    def _sorted(self, values: frozenset[date] | frozenset[Weekday]) -> list[Any]:
        # Sorted so that the same policy always serialises to the same JSON.
        if all(isinstance(v, Weekday) for v in values):
            return sorted(values, key=list(Weekday).index)
        return sorted(values)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The dealer's time zone."""
        return ZoneInfo(self.time_zone)


class ContactPolicy(_Settings):
    """Rules for messages to customers."""

    quiet_hours_start: time = time(21, 0)
    quiet_hours_end: time = time(8, 0)
    marketing_cap: int = Field(default=2, ge=0)
    marketing_cap_window: timedelta = Field(
        default=timedelta(days=7), description="Rolling window the marketing cap counts over."
    )
    reminder_send_time: time = Field(
        default=time(10, 0),
        description="Local time of day at which date-based reminders (maintenance, "
        "insurance) are planned.",
    )
    default_locale: Literal["zh-CN", "en"] = "zh-CN"


class FirstContactSla(_Settings):
    """First-contact SLA of one lead class."""

    first_contact: SlaSpec
    thank_you_message: SlaSpec | None = None


def _first_contact_defaults() -> dict[FirstContactClass, FirstContactSla]:
    offline = FirstContactSla(first_contact=_wall(hours=24), thank_you_message=_wall(hours=2))
    return {
        "online": FirstContactSla(first_contact=_business_hours(minutes=15)),
        "walk_in": offline,
        "phone": offline,
    }


def _channel_classes() -> dict[str, FirstContactClass]:
    # Lead channels/sources of DOMAIN.md section 1; an unknown channel gets the online SLA,
    # the strictest one, so a new channel can never silently relax the SLA.
    return {
        "walk_in": "walk_in",
        "showroom": "walk_in",
        "event": "walk_in",
        "service": "walk_in",
        "phone": "phone",
        "inbound_call": "phone",
        "call": "phone",
        "referral": "phone",
        "existing_owner": "phone",
        "website": "online",
        "app": "online",
        "wechat": "online",
        "auto_portal": "online",
        "online": "online",
        "oem": "online",
        "survey": "online",
    }


def _per_grade(h: int, a: int, b: int, c: int) -> dict[LeadGrade, timedelta]:
    return {
        "H": timedelta(days=h),
        "A": timedelta(days=a),
        "B": timedelta(days=b),
        "C": timedelta(days=c),
    }


class LeadPolicy(_Settings):
    """First contact, cadence and appointments for leads."""

    first_contact: dict[FirstContactClass, FirstContactSla] = Field(
        default_factory=_first_contact_defaults
    )
    channel_classes: dict[str, FirstContactClass] = Field(default_factory=_channel_classes)
    warn_at_fraction: float = Field(default=0.8, gt=0, lt=1)
    reassign_after_breaches: int = Field(default=2, ge=1)
    follow_up_every: dict[LeadGrade, timedelta] = Field(
        default_factory=lambda: _per_grade(2, 3, 7, 14)
    )
    purchase_horizon: dict[LeadGrade, timedelta] = Field(
        default_factory=lambda: _per_grade(7, 15, 30, 90),
        description="How soon a lead of each grade intends to order.",
    )
    hot_regrade_after: timedelta = timedelta(days=7)
    appointment_reminders_before: list[timedelta] = Field(
        default_factory=lambda: [timedelta(hours=24), timedelta(hours=2)]
    )

    def class_of_channel(self, channel: str) -> FirstContactClass:
        """The first-contact class of a lead channel (unknown channels count as online)."""
        normalised = channel.strip().lower().replace("-", "_").replace(" ", "_")
        return self.channel_classes.get(normalised, "online")


class OwnerCarePolicy(_Settings):
    """Care for a new owner after delivery."""

    callback_after_delivery: timedelta = timedelta(hours=24)
    satisfaction_after_delivery: timedelta = timedelta(days=7)
    first_maintenance_km: int = Field(default=5000, gt=0)
    first_maintenance_months: int = Field(default=6, gt=0)
    first_maintenance_remind_before: timedelta = timedelta(days=14)
    insurance_renewal_remind_before: timedelta = timedelta(days=30)


def _tier_defaults() -> dict[Literal["A", "B", "C"], int]:
    return {"A": 4, "B": 2, "C": 1}


class ServicePolicy(_Settings):
    """After-sales follow-up and retention."""

    followup_after_handover: timedelta = timedelta(days=3)
    unreachable_days_before_message: int = Field(default=5, ge=1)
    declined_item_followup_after: timedelta = timedelta(days=30)
    at_risk_after_months: int = Field(default=12, gt=0)
    lost_after_months: int = Field(default=24, gt=0)
    tier_min_visits_per_year: dict[Literal["A", "B", "C"], int] = Field(
        default_factory=_tier_defaults
    )


class ComplaintSla(_Settings):
    """Acknowledge and resolve SLAs of one severity."""

    acknowledge: SlaSpec
    resolve: SlaSpec


def _complaint_sla_defaults() -> dict[Severity, ComplaintSla]:
    # Critical complaints (safety, injury, media, regulator) cannot wait for opening hours:
    # wall time. The others count the store's business hours/days so a complaint received
    # at night or before a holiday closure is not breached while nobody can act.
    return {
        "critical": ComplaintSla(acknowledge=_wall(minutes=30), resolve=_wall(hours=24)),
        "high": ComplaintSla(acknowledge=_business_hours(hours=2), resolve=_business_days(3)),
        "normal": ComplaintSla(acknowledge=_business_days(1), resolve=_business_days(7)),
    }


def _escalation_ladder() -> list[str]:
    return ["handler", "department_manager", "gm", "oem_region"]


class ComplaintPolicy(_Settings):
    """Complaint SLAs, escalation and automatic opening."""

    sla: dict[Severity, ComplaintSla] = Field(default_factory=_complaint_sla_defaults)
    inform_customer: SlaSpec = SlaSpec(duration=timedelta(days=7), mode=ClockMode.WORKING_DAYS)
    inform_clock_pausable: bool = Field(
        default=False,
        description="The legal 7-working-day clock keeps running while waiting on the "
        "customer unless the dealer decides otherwise.",
    )
    escalation_ladder: list[str] = Field(
        default_factory=_escalation_ladder,
        description="Roles by escalation level: index 0 is the handler (no escalation).",
        min_length=1,
    )
    survey_dissatisfied_max_score: int = Field(default=6, ge=0, le=10)
    survey_max_score: int = Field(default=10, gt=0)
    repeat_repair_window: timedelta = timedelta(days=30)


class SalesPolicy(_Settings):
    """Quotes: purchase tax and discount approval."""

    purchase_tax_rate: Decimal = Decimal("0.10")
    vat_rate: Decimal = Decimal("0.13")
    nev_purchase_tax_exempt: bool = True
    nev_relief_ratio: Decimal = Field(
        default=Decimal("1"),
        ge=0,
        le=1,
        description="Share of an NEV's tax waived when exempt: 1 exempt, 0.5 halved.",
    )
    nev_exemption_cap: Decimal | None = Field(
        default=None, description="Maximum tax forgiven per NEV; None means no cap."
    )
    discount_approval_threshold_rate: Decimal = Field(
        default=Decimal("0.05"),
        description="A discount above this fraction of the vehicle price needs a manager.",
    )

    def purchase_tax(self, price_incl_vat: Decimal, *, is_nev: bool) -> Decimal:
        """Purchase tax for a vehicle price including VAT, rounded to 0.01.

        China: price / (1 + VAT) x rate; for an NEV, when the exemption flag is on,
        `nev_relief_ratio` of that is waived, at most `nev_exemption_cap`.
        """
        tax = price_incl_vat / (1 + self.vat_rate) * self.purchase_tax_rate
        if is_nev and self.nev_purchase_tax_exempt:
            forgiven = tax * self.nev_relief_ratio
            if self.nev_exemption_cap is not None:
                forgiven = min(forgiven, self.nev_exemption_cap)
            tax -= forgiven
        return tax.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    def needs_discount_approval(self, price: Decimal, discount: Decimal) -> bool:
        """True when the discount exceeds the dealer's threshold share of the price."""
        return discount > price * self.discount_approval_threshold_rate


class DealerPolicy(_Settings):
    """Every rule number of one dealer, defaulting to DOMAIN.md."""

    calendar: CalendarPolicy = Field(default_factory=CalendarPolicy)
    contact: ContactPolicy = Field(default_factory=ContactPolicy)
    leads: LeadPolicy = Field(default_factory=LeadPolicy)
    owner_care: OwnerCarePolicy = Field(default_factory=OwnerCarePolicy)
    service: ServicePolicy = Field(default_factory=ServicePolicy)
    complaints: ComplaintPolicy = Field(default_factory=ComplaintPolicy)
    sales: SalesPolicy = Field(default_factory=SalesPolicy)


def _deep_merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, dict):
            merged[key] = _deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def policy_with_overrides(overrides: Mapping[str, Any] | None = None) -> DealerPolicy:
    """The default policy with a dealer's partial overrides merged in (deep, key by key).

    Nested groups and maps merge key by key (``{"leads": {"follow_up_every": {"H": "P1D"}}}``
    changes only grade H); lists and scalars replace the default. Values may be JSON
    (ISO 8601 durations, "HH:MM" times, ISO dates). Raises `pydantic.ValidationError` on
    unknown keys or invalid values.
    """
    defaults = DealerPolicy().model_dump(mode="python")
    return DealerPolicy.model_validate(_deep_merge(defaults, overrides or {}))
