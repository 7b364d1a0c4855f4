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

from collections.abc import Mapping
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_serializer, field_validator

from dealerflow.policy.primitives import (
    ClockMode,
    OpeningInterval,
    PolicyGroup,
    SlaSpec,
    Weekday,
    WeeklyHours,
    business_days_sla,
    business_hours_sla,
    default_opening_day,
    wall_sla,
)

LeadGrade = Literal["H", "A", "B", "C"]
"""Intent grades that carry a sales follow-up cadence (N, O, D, F have none)."""

FirstContactClass = Literal["online", "walk_in", "phone"]
"""How a lead reached us, as far as the first-contact SLA is concerned."""

MessageChannelName = Literal["sms", "wechat", "email", "webhook"]
"""Customer message channels (same values as the contracts enum)."""

_ALL_CHANNELS: tuple[MessageChannelName, ...] = ("sms", "wechat", "email", "webhook")

Severity = Literal["critical", "high", "normal"]
"""Complaint severity (same values as the contracts enum)."""


class CalendarPolicy(PolicyGroup):
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
    makeup_day_hours: list[OpeningInterval] = Field(default_factory=default_opening_day)
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


class ContactPolicy(PolicyGroup):
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
    default_locale: Literal["zh-CN", "en"] = Field(
        default="zh-CN", description="The dealer's locale: messages to customers without one."
    )
    channels: list[MessageChannelName] = Field(
        default_factory=lambda: list(_ALL_CHANNELS),
        min_length=1,
        description="Customer message channels the dealer uses; a customer's preferred "
        "channel outside this list falls back to the first one listed.",
    )
    templates: dict[str, dict[Literal["zh-CN", "en"], str]] = Field(
        default_factory=dict,
        description="The dealer's own wording per reminder kind and locale (str.format "
        "fields as the built-in template); kinds not listed use the built-in templates.",
    )


class FirstContactSla(PolicyGroup):
    """First-contact SLA of one lead class."""

    first_contact: SlaSpec
    thank_you_message: SlaSpec | None = None


def _first_contact_defaults() -> dict[FirstContactClass, FirstContactSla]:
    offline = FirstContactSla(first_contact=wall_sla(hours=24), thank_you_message=wall_sla(hours=2))
    return {
        "online": FirstContactSla(first_contact=business_hours_sla(minutes=15)),
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


class LeadPolicy(PolicyGroup):
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
    assignment_strategy: Literal["round_robin", "open_load"] = Field(
        default="round_robin",
        description="How new leads go to on-duty consultants: in turn, or to the one with "
        "the fewest open leads (ties in turn).",
    )
    appointment_reminders_before: list[timedelta] = Field(
        default_factory=lambda: [timedelta(hours=24), timedelta(hours=2)]
    )

    def class_of_channel(self, channel: str) -> FirstContactClass:
        """The first-contact class of a lead channel (unknown channels count as online)."""
        normalised = channel.strip().lower().replace("-", "_").replace(" ", "_")
        return self.channel_classes.get(normalised, "online")


class OwnerCarePolicy(PolicyGroup):
    """Care for a new owner after delivery."""

    callback_after_delivery: timedelta = timedelta(hours=24)
    satisfaction_after_delivery: timedelta = timedelta(days=7)
    first_maintenance_km: int = Field(default=5000, gt=0)
    first_maintenance_months: int = Field(default=6, gt=0)
    first_maintenance_remind_before: timedelta = timedelta(days=14)
    insurance_renewal_remind_before: timedelta = timedelta(days=30)


def _tier_defaults() -> dict[Literal["A", "B", "C"], int]:
    return {"A": 4, "B": 2, "C": 1}


class ServicePolicy(PolicyGroup):
    """After-sales follow-up and retention."""

    followup_after_handover: timedelta = timedelta(days=3)
    unreachable_days_before_message: int = Field(default=5, ge=1)
    declined_item_followup_after: timedelta = timedelta(days=30)
    at_risk_after_months: int = Field(default=12, gt=0)
    lost_after_months: int = Field(default=24, gt=0)
    tier_min_visits_per_year: dict[Literal["A", "B", "C"], int] = Field(
        default_factory=_tier_defaults
    )
    labour_rate_per_hour: Decimal = Field(
        default=Decimal("300.00"),
        ge=0,
        description="Price of one standard labour hour when a quote does not name its rate.",
    )
    maintenance_interval_km: int = Field(
        default=10_000, gt=0, description="Regular maintenance after a maintenance visit (km)."
    )
    maintenance_interval_months: int = Field(
        default=12, gt=0, description="Regular maintenance after a maintenance visit (months)."
    )
    warranty_months: int = Field(
        default=36, gt=0, description="Statutory minimum warranty (三包) in months."
    )
    warranty_km: int = Field(default=60_000, gt=0, description="Statutory minimum warranty (km).")


class ComplaintSla(PolicyGroup):
    """Acknowledge and resolve SLAs of one severity."""

    acknowledge: SlaSpec
    resolve: SlaSpec


def _complaint_sla_defaults() -> dict[Severity, ComplaintSla]:
    # Critical complaints (safety, injury, media, regulator) cannot wait for opening hours:
    # wall time. The others count the store's business hours/days so a complaint received
    # at night or before a holiday closure is not breached while nobody can act.
    return {
        "critical": ComplaintSla(acknowledge=wall_sla(minutes=30), resolve=wall_sla(hours=24)),
        "high": ComplaintSla(acknowledge=business_hours_sla(hours=2), resolve=business_days_sla(3)),
        "normal": ComplaintSla(acknowledge=business_days_sla(1), resolve=business_days_sla(7)),
    }


def _escalation_ladder() -> list[str]:
    return ["handler", "department_manager", "gm", "oem_region"]


class ComplaintPolicy(PolicyGroup):
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

    @field_validator("escalation_ladder")
    @classmethod
    def _published_rungs(cls, ladder: list[str]) -> list[str]:
        # ComplaintEscalated (contracts) fixes level n -> rung n: department_manager, gm,
        # oem_region. A dealer may cut the ladder short, never reorder or rename a rung, so
        # every consumer can rely on the level -> role mapping.
        rungs = _escalation_ladder()[1:]
        above = ladder[1:]
        if above != rungs[: len(above)]:
            raise ValueError(
                f"the rungs above the handler must be a prefix of {rungs}, got {above}"
            )
        return ladder


class SalesPolicy(PolicyGroup):
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
    discount_approver_role: Literal["sales_manager", "gm"] = Field(
        default="sales_manager",
        description="Who approves a discount above the threshold (resolved to a staff id "
        "from the dealer's people).",
    )
    quote_valid_days: int = Field(
        default=7, ge=1, description="How many days a quote holds (the issue day included)."
    )
    forfeit_deposit_on_customer_cancellation: bool = Field(
        default=False,
        description="A deposit given as earnest money (定金) is kept when the customer "
        "cancels; otherwise everything paid is refunded.",
    )
    test_drive_turnaround: timedelta = Field(
        default=timedelta(0),
        description="Time kept free after every test drive (cleaning, charging).",
    )


class DealerPolicy(PolicyGroup):
    """Every rule number of one dealer, defaulting to DOMAIN.md."""

    calendar: CalendarPolicy = Field(default_factory=CalendarPolicy)
    contact: ContactPolicy = Field(default_factory=ContactPolicy)
    leads: LeadPolicy = Field(default_factory=LeadPolicy)
    owner_care: OwnerCarePolicy = Field(default_factory=OwnerCarePolicy)
    service: ServicePolicy = Field(default_factory=ServicePolicy)
    complaints: ComplaintPolicy = Field(default_factory=ComplaintPolicy)
    sales: SalesPolicy = Field(default_factory=SalesPolicy)


def merge_overrides(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` merged into ``base`` key by key: nested mappings merge, lists and
    scalars replace. Layer service-wide and per-dealer overrides with it before
    :func:`policy_with_overrides`."""
    merged = dict(base)
    for key, value in overrides.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[key] = merge_overrides(current, value)
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
    return DealerPolicy.model_validate(merge_overrides(defaults, overrides or {}))
