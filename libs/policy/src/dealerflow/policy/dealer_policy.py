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
_FALLBACK_ORDER: tuple[MessageChannelName, ...] = ("wechat", "sms", "email")
_MARKETING_CHANNELS: tuple[MessageChannelName, ...] = ("sms", "email")

Severity = Literal["critical", "high", "normal"]
"""Complaint severity (same values as the contracts enum)."""

CustomerTierName = Literal["vip", "key", "regular"]
"""Customer tier (same values as the contracts enum CustomerTier)."""


class CalendarPolicy(PolicyGroup):
    """Where and when the store works."""

    time_zone: str = Field(
        default="Asia/Shanghai",
        description="IANA time zone of the store: every dealer-local date and time (opening "
        "hours, quiet hours, reminder days, due dates) is read in it.",
    )
    business_hours: WeeklyHours = Field(
        default_factory=WeeklyHours,
        description="Opening hours per weekday (local time): what business_hours and "
        "business_days clocks count.",
    )
    holidays: frozenset[date] = Field(
        default_factory=frozenset,
        description="Public holidays: never working days; the store is closed on them "
        "unless open_on_holidays.",
    )
    open_on_holidays: bool = Field(
        default=False,
        description="The store opens on holidays with that weekday's hours (a holiday is "
        "still no statutory working day).",
    )
    makeup_working_days: frozenset[date] = Field(
        default_factory=frozenset,
        description="Official make-up working days (e.g. a Saturday worked for a holiday): "
        "always working days; the store opens with that weekday's hours, or with "
        "makeup_day_hours when that weekday is normally closed.",
    )
    makeup_day_hours: list[OpeningInterval] = Field(
        default_factory=default_opening_day,
        description="Opening intervals (local time) of a make-up working day whose weekday "
        "is normally closed.",
    )
    working_weekdays: frozenset[Weekday] = Field(
        default=frozenset({Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI}),
        description="Weekdays that are statutory working days (counted by working_days "
        "clocks, e.g. the 7-working-day complaint notice), before holidays and make-up "
        "days apply.",
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


class TaskTextWording(PolicyGroup):
    """A dealer's wording of one staff task text in one locale."""

    title: str | None = Field(
        default=None, min_length=1, max_length=200, description="Task list title (no fields)."
    )
    script: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="What to say or do (the fields of the built-in script).",
    )


class ContactPolicy(PolicyGroup):
    """Rules for messages to customers."""

    quiet_hours_start: time = Field(
        default=time(21, 0),
        description="Dealer-local time from which no customer message is sent; a message "
        "due in the quiet hours waits for their end (equal start and end: no quiet hours).",
    )
    quiet_hours_end: time = Field(
        default=time(8, 0),
        description="Dealer-local time at which the quiet hours end (the next morning when "
        "before quiet_hours_start).",
    )
    marketing_cap: int = Field(
        default=2,
        ge=0,
        description="Most marketing messages one customer gets within marketing_cap_window; "
        "further ones are suppressed.",
    )
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
    task_texts: dict[str, dict[Literal["zh-CN", "en"], TaskTextWording]] = Field(
        default_factory=dict,
        description="The dealer's own wording of staff tasks per text key (a task kind, or "
        "kind.variant) and locale: title (plain text) and/or script (str.format fields as "
        "the built-in script); keys not listed use the built-in texts. Staff alerts too "
        "(keys alert.<name>): title is the subject, script the body, each with the fields "
        "of the built-in one.",
    )
    channel_order: list[MessageChannelName] = Field(
        default_factory=lambda: list(_FALLBACK_ORDER),
        min_length=1,
        description="Order in which the other channels are tried when the customer's "
        "channel cannot carry a message (opted out of it, no consent on it, no address "
        "on it); channels the dealer does not use (channels) and channels not listed are "
        "not tried. Suppressed only when no channel is left.",
    )
    marketing_channels: list[MessageChannelName] = Field(
        default_factory=lambda: list(_MARKETING_CHANNELS),
        description="Channels a marketing message (greetings, invitations) may use, in "
        "planning and in the channel fallback; WeChat template messages must not carry "
        "marketing (WeChat's operating rules), so wechat is not in the default. A "
        "marketing message none of the dealer's channels may carry is suppressed "
        "(no_marketing_channel).",
    )


class FirstContactSla(PolicyGroup):
    """First-contact SLA of one lead class."""

    first_contact: SlaSpec = Field(
        description="Time from the lead's arrival to the consultant's first contact; at "
        "breach the sales manager is alerted."
    )
    thank_you_message: SlaSpec | None = Field(
        default=None,
        description="Time from the lead's arrival within which the customer gets a "
        "thank-you message; null: no message.",
    )


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
        default_factory=_first_contact_defaults,
        description="First-contact SLA per lead class (online, walk_in, phone).",
    )
    channel_classes: dict[str, FirstContactClass] = Field(
        default_factory=_channel_classes,
        description="The first-contact class of each lead channel (lower case, _ for - and "
        "spaces); a channel not listed counts as online, the strictest SLA.",
    )
    warn_at_fraction: float = Field(
        default=0.8,
        gt=0,
        lt=1,
        description="Share of the first-contact SLA after which the consultant is warned "
        "(0.8: at 80 %).",
    )
    reassign_after_breaches: int = Field(
        default=2,
        ge=1,
        description="At this breach of the first-contact SLA (counted again from each "
        "breach) the lead goes to the next on-duty consultant (and the sales manager gets "
        "a reassign task, for when nobody else is on duty).",
    )
    follow_up_every: dict[LeadGrade, timedelta] = Field(
        default_factory=lambda: _per_grade(2, 3, 7, 14),
        description="Follow-up cadence per intent grade: the next follow-up call is due "
        "this long after the grading (grades N, O, D, F have none).",
    )
    purchase_horizon: dict[LeadGrade, timedelta] = Field(
        default_factory=lambda: _per_grade(7, 15, 30, 90),
        description="How soon a lead of each grade intends to order.",
    )
    hot_regrade_after: timedelta = Field(
        default=timedelta(days=7),
        description="A lead still graded H this long after its grading prompts the "
        "consultant to re-grade it.",
    )
    assignment_strategy: Literal["round_robin", "open_load"] = Field(
        default="round_robin",
        description="How new leads go to on-duty consultants: in turn, or to the one with "
        "the fewest open leads (ties in turn).",
    )
    appointment_reminders_before: list[timedelta] = Field(
        default_factory=lambda: [timedelta(hours=24), timedelta(hours=2)],
        description="The customer is reminded of an appointment (visit, test drive, "
        "delivery) this long before its start, once per entry.",
    )

    def class_of_channel(self, channel: str) -> FirstContactClass:
        """The first-contact class of a lead channel (unknown channels count as online)."""
        normalised = channel.strip().lower().replace("-", "_").replace(" ", "_")
        return self.channel_classes.get(normalised, "online")


class HolidayGreeting(PolicyGroup):
    """One holiday greeting of the dealer's list (owner_care.greetings)."""

    name: str = Field(min_length=1, description="The holiday's name in Chinese (zh-CN messages).")
    name_en: str = Field(min_length=1, description="The holiday's name in English (en messages).")
    on: date = Field(
        description="The holiday's date (dealer-local); the greeting goes out the day before."
    )


def _greeting_defaults() -> list[HolidayGreeting]:
    return [
        HolidayGreeting(name="春节", name_en="Spring Festival", on=date(2027, 2, 6)),
        HolidayGreeting(name="中秋节", name_en="Mid-Autumn Festival", on=date(2027, 9, 15)),
        HolidayGreeting(name="国庆节", name_en="National Day", on=date(2027, 10, 1)),
    ]


class OwnerCarePolicy(PolicyGroup):
    """Care for a new owner after delivery."""

    callback_after_delivery: timedelta = Field(
        default=timedelta(hours=24),
        description="The consultant's callback to the new owner is due this long after delivery.",
    )
    satisfaction_after_delivery: timedelta = Field(
        default=timedelta(days=7),
        description="The satisfaction callback (customer relations) is due this long after "
        "delivery.",
    )
    first_maintenance_km: int = Field(
        default=5000,
        gt=0,
        description="First maintenance due at this odometer reading (km), or after "
        "first_maintenance_months, whichever comes first.",
    )
    first_maintenance_months: int = Field(
        default=6,
        gt=0,
        description="First maintenance due this many months after delivery, or at "
        "first_maintenance_km, whichever comes first.",
    )
    first_maintenance_remind_before: timedelta = Field(
        default=timedelta(days=14),
        description="The first-maintenance reminder goes out this long before the due date "
        "(whole days; not before the delivery callback).",
    )
    insurance_renewal_remind_before: timedelta = Field(
        default=timedelta(days=30),
        description="The insurance-renewal reminder goes out this long before the policy's "
        "anniversary (whole days).",
    )
    task_snooze_max: timedelta = Field(
        default=timedelta(days=7),
        description="Staff tasks (all kinds): a snooze may move a task at most this long past "
        "the due time it was planned with (its hard SLA); a task kind bound by an SLA (first "
        "contact, discount approval, complaint handling/escalation/verification) not past "
        "that due time at all.",
    )
    task_overdue_escalate_after: timedelta | None = Field(
        default=timedelta(days=1),
        description="Staff tasks (all kinds but first contact, which has its own watches, and "
        "the escalations themselves): a task still open this long after its due time gets "
        "an escalation task and a staff alert for the assignee's manager (sales manager for "
        "consultants, service manager for advisors, else the GM); null: no escalation.",
    )
    unreachable_attempts_before_fallback: int | None = Field(
        default=3,
        ge=1,
        description="Delivery, satisfaction, retention and manual callbacks: an unreachable "
        "outcome plans another attempt the next business day, until the customer was "
        "unreachable this many times; then customer relations get a task to reach them "
        "another way. Null: an unreachable outcome closes the callback (no retry). Service "
        "callbacks follow service.unreachable_days_before_message instead.",
    )
    survey_link_valid_for: timedelta = Field(
        default=timedelta(days=14),
        description="The satisfaction-survey link sent with the survey message (when the "
        "notifier has a survey_link_secret) works this long after the message is sent; the "
        "satisfaction callback task then comes at its expiry, only if the survey is unanswered.",
    )
    greetings: list[HolidayGreeting] = Field(
        default_factory=_greeting_defaults,
        description="Holiday greetings (marketing) to every owner (customer with a delivery), "
        "planned the day before each date at 10:00 dealer-local; the defaults are the 2027 "
        "dates: lunar holidays (Spring Festival, Mid-Autumn) move every year, so the dealer "
        "keeps this list per year (past dates are skipped). Empty: no greetings.",
    )
    referral_invitation_after: timedelta | None = Field(
        default=timedelta(days=1),
        description="A satisfied owner (satisfaction callback satisfied, or a delivery survey "
        "score of 9 or more) gets one referral invitation (marketing) per delivery this long "
        "after saying so; null: no referral invitations.",
    )
    inspection_due_years: list[int] = Field(
        default_factory=lambda: [2, 4, 6, 8, 10],
        description="Annual vehicle inspection (年检, private passenger cars, rules since "
        "2022): the years after registration (the delivery date) in which the inspection "
        "label is due (on-site test in years 6 and 10); the owner gets a reminder before each. "
        "Empty and inspection_yearly_after_years null: no inspection reminders.",
    )
    inspection_yearly_after_years: int | None = Field(
        default=10,
        ge=0,
        description="After this many years since registration the inspection is due every "
        "year (the twice-yearly check after year 15 is not planned: one reminder a year); "
        "null: only the years of inspection_due_years.",
    )
    inspection_remind_before: timedelta = Field(
        default=timedelta(days=30),
        description="The annual-inspection reminder goes out this long before the "
        "registration anniversary it is due on (whole days).",
    )
    licence_remind_before: timedelta = Field(
        default=timedelta(days=90),
        description="The driving-licence renewal reminder (驾驶证换证: renewable within 90 days "
        "before expiry) goes out this long before the licence's expiry, when a test drive "
        "recorded it (whole days; at once when that day has passed).",
    )
    weather_tip_min_interval: timedelta = Field(
        default=timedelta(days=3),
        description="Bad-weather tips (POST /v1/weather-warnings, service purpose): an owner "
        "gets at most one tip this long (a later warning within it skips them), so as not to "
        "disturb too often.",
    )

    @field_validator("inspection_due_years")
    @classmethod
    def _years_after_registration(cls, years: list[int]) -> list[int]:
        if any(year <= 0 for year in years):
            raise ValueError(f"inspection_due_years must be positive years, got {years}")
        return sorted(set(years))


def _tier_defaults() -> dict[Literal["A", "B", "C"], int]:
    return {"A": 4, "B": 2, "C": 1}


#: Work types of a service booking (contracts' ServiceWorkType values).
WorkType = Literal["maintenance", "repair", "warranty", "bodywork", "accessory_detailing"]


def _job_minutes_defaults() -> dict[WorkType, int]:
    return {
        "maintenance": 60,
        "repair": 120,
        "warranty": 120,
        "bodywork": 240,
        "accessory_detailing": 120,
    }


class ServicePolicy(PolicyGroup):
    """After-sales follow-up and retention."""

    followup_after_handover: timedelta = Field(
        default=timedelta(days=3),
        description="The advisor's callback is due this long after the vehicle was handed over.",
    )
    unreachable_days_before_message: int = Field(
        default=5,
        ge=1,
        description="After a callback found the customer unreachable on this many days "
        "in a row, a message is sent instead of another call (days).",
    )
    declined_item_followup_after: timedelta = Field(
        default=timedelta(days=30),
        description="A declined repair item is followed up this long after it was "
        "declined (on that local day).",
    )
    at_risk_after_months: int = Field(
        default=12,
        gt=0,
        description="A customer with no visit for this many months is at risk (retention task).",
    )
    lost_after_months: int = Field(
        default=24, gt=0, description="A customer with no visit for this many months is lost."
    )
    tier_min_visits_per_year: dict[Literal["A", "B", "C"], int] = Field(
        default_factory=_tier_defaults,
        description="Fewest visits in a year for each after-sales tier (below C's: tier D).",
    )
    labour_rate_per_hour: Decimal = Field(
        default=Decimal("300.00"),
        ge=0,
        description="Price of one standard labour hour, in the quote's currency, when a "
        "quote does not name its rate.",
    )
    maintenance_interval_km: int = Field(
        default=10_000,
        gt=0,
        description="The next maintenance is due this many km after a maintenance visit, "
        "or after maintenance_interval_months, whichever comes first.",
    )
    maintenance_interval_months: int = Field(
        default=12,
        gt=0,
        description="The next maintenance is due this many months after a maintenance "
        "visit, or after maintenance_interval_km, whichever comes first.",
    )
    warranty_months: int = Field(
        default=36,
        gt=0,
        description="Warranty (三包) length in months from the warranty start; work is "
        "warranty only within it and below warranty_km.",
    )
    warranty_km: int = Field(
        default=60_000,
        gt=0,
        description="Warranty (三包) mileage limit (km); work is warranty only below it and "
        "within warranty_months.",
    )
    workshop_bays: int = Field(
        default=6,
        ge=0,
        description="Service bays (lifts) of the workshop; a booked job needs one for each "
        "slot it takes.",
    )
    workshop_technicians: int = Field(
        default=6,
        ge=0,
        description="Technicians on shift; a booked job needs one for each slot it takes "
        "(a slot takes as many jobs as the scarcer of bays and technicians).",
    )
    workshop_opens_at: time = Field(
        default=time(8, 30),
        description="First bookable slot of the day (the dealer's local time).",
    )
    workshop_closes_at: time = Field(
        default=time(17, 30),
        description="The workshop closes: a booked job must end by then (local time).",
    )
    slot_minutes: int = Field(
        default=60, gt=0, le=480, description="Length of one appointment slot (minutes)."
    )
    job_minutes: dict[WorkType, int] = Field(
        default_factory=_job_minutes_defaults,
        description="How long a booked job of each work type takes (minutes; rounded up "
        "to whole slots).",
    )
    appointment_reminder_before: timedelta = Field(
        default=timedelta(hours=24),
        description="The customer is reminded of a service appointment this long before it.",
    )


class ComplaintSla(PolicyGroup):
    """Acknowledge, resolve and first-update SLAs of one severity."""

    acknowledge: SlaSpec = Field(
        description="Time from opening until the complaint is acknowledged; each breach "
        "moves it one rung up the escalation ladder."
    )
    resolve: SlaSpec = Field(
        description="Time from opening (or reopening) until the complaint is resolved; "
        "each breach moves it one rung up the escalation ladder."
    )
    first_update: SlaSpec = Field(
        description="Time from opening until the customer gets a first update on the "
        "handling (recording that the customer was informed, or resolving, meets it); "
        "each breach moves it one rung up the escalation ladder."
    )


def _complaint_sla_defaults() -> dict[Severity, ComplaintSla]:
    # Critical complaints (safety, injury, media, regulator) cannot wait for opening hours:
    # wall time. The others count the store's business hours/days so a complaint received
    # at night or before a holiday closure is not breached while nobody can act.
    # First update (our choice; DOMAIN.md and the handbooks only ask for a timely reply,
    # the law for 7 working days): between acknowledging and resolving, and for every
    # severity well inside the legal 7 working days - critical 4 h wall time, high 1
    # business day, normal 3 business days.
    return {
        "critical": ComplaintSla(
            acknowledge=wall_sla(minutes=30),
            resolve=wall_sla(hours=24),
            first_update=wall_sla(hours=4),
        ),
        "high": ComplaintSla(
            acknowledge=business_hours_sla(hours=2),
            resolve=business_days_sla(3),
            first_update=business_days_sla(1),
        ),
        "normal": ComplaintSla(
            acknowledge=business_days_sla(1),
            resolve=business_days_sla(7),
            first_update=business_days_sla(3),
        ),
    }


def _tier_sla_factors() -> dict[CustomerTierName, Decimal]:
    # Our choice (DOMAIN.md: "complaints shorten SLAs by tier", no numbers): a VIP's
    # clocks run at half, a key customer's at three quarters of the severity's SLA.
    return {"vip": Decimal("0.5"), "key": Decimal("0.75"), "regular": Decimal("1")}


def _escalation_ladder() -> list[str]:
    return ["handler", "department_manager", "gm", "oem_region"]


class ComplaintPolicy(PolicyGroup):
    """Complaint SLAs, escalation and automatic opening."""

    sla: dict[Severity, ComplaintSla] = Field(
        default_factory=_complaint_sla_defaults,
        description="Acknowledge, resolve and first-update SLAs per severity (critical, "
        "high, normal).",
    )
    inform_customer: SlaSpec = Field(
        default=SlaSpec(duration=timedelta(days=7), mode=ClockMode.WORKING_DAYS),
        description="Deadline for telling the customer how the complaint is handled (the "
        "law: 7 working days), for every severity; a breach escalates like the SLAs.",
    )
    inform_clock_pausable: bool = Field(
        default=False,
        description="The inform_customer clock pauses while waiting on the customer too; "
        "false: it keeps running (the acknowledge and resolve clocks always pause).",
    )
    escalation_ladder: list[str] = Field(
        default_factory=_escalation_ladder,
        description="Rungs by escalation level, index 0 the handler: a shorter list stops "
        "escalating earlier; the rungs cannot be renamed or reordered.",
        min_length=1,
    )
    survey_dissatisfied_max_score: int = Field(
        default=6,
        ge=0,
        le=10,
        description="A survey score at or below this opens a complaint automatically.",
    )
    survey_max_score: int = Field(
        default=10,
        gt=0,
        description="Highest survey score (scores run 0 to this; others are rejected).",
    )
    repeat_repair_window: timedelta = Field(
        default=timedelta(days=30),
        description="A repair of the same vehicle for the same concern within this long of "
        "the previous one opens a repeat-repair complaint.",
    )
    verification_callback_after: timedelta = Field(
        default=timedelta(days=3),
        description="Customer relations' verification callback is due this long after a "
        "complaint is resolved (moved out of quiet hours); its outcome closes or reopens it.",
    )
    tier_sla_factors: dict[CustomerTierName, Decimal] = Field(
        default_factory=_tier_sla_factors,
        description="Share of the severity's acknowledge, first-update and resolve SLAs a "
        "complaint gets by the customer's tier when it is opened (0.5 = half the time; "
        "the legal inform clock is never shortened). Day-counted SLAs round to whole days "
        "(half up), at least one.",
    )

    @field_validator("tier_sla_factors")
    @classmethod
    def _shortening(cls, factors: dict[str, Decimal]) -> dict[str, Decimal]:
        # A tier shortens the clocks (or leaves them): a factor above 1 would give a VIP
        # more time than a regular customer.
        for tier, factor in factors.items():
            if not Decimal(0) < factor <= Decimal(1):
                raise ValueError(f"tier_sla_factors[{tier}] must be in (0, 1], got {factor}")
        return factors

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

    purchase_tax_rate: Decimal = Field(
        default=Decimal("0.10"),
        description="Purchase tax as a fraction of the price excluding VAT (0.10 = 10 %).",
    )
    vat_rate: Decimal = Field(
        default=Decimal("0.13"),
        description="VAT included in vehicle prices, as a fraction (0.13 = 13 %): the "
        "purchase-tax base is price / (1 + vat_rate); also the VAT shown on invoices.",
    )
    nev_purchase_tax_exempt: bool = Field(
        default=True,
        description="New-energy vehicles get purchase-tax relief (nev_relief_ratio, at "
        "most nev_exemption_cap).",
    )
    nev_relief_ratio: Decimal = Field(
        default=Decimal("1"),
        ge=0,
        le=1,
        description="Share of an NEV's purchase tax waived when nev_purchase_tax_exempt: "
        "1 exempt, 0.5 halved.",
    )
    nev_exemption_cap: Decimal | None = Field(
        default=None,
        description="Most purchase tax waived per NEV, in the quote's currency; null: no cap.",
    )
    discount_approval_threshold_rate: Decimal = Field(
        default=Decimal("0.05"),
        description="A discount above this fraction of the vehicle price (0.05 = 5 %) "
        "needs approval by discount_approver_role.",
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
    test_drive_reminder_before: timedelta = Field(
        default=timedelta(hours=2),
        description="The customer is reminded of a booked test drive this long before it "
        "starts (bring the driving licence).",
    )
    plate_registration_assistance: bool = Field(
        default=True,
        description="The dealer helps the new owner register the plate (上牌): at delivery the "
        "delivering consultant gets a plate-registration task (handbook: the consultant "
        "assists with the registration).",
    )
    plate_registration_due_after: timedelta = Field(
        default=timedelta(days=3),
        description="The plate-registration task is due this long after delivery (the "
        "vehicle drives on a temporary plate until then).",
    )


class CustomerTierPolicy(PolicyGroup):
    """Customer tiers (VIP / key / regular) by purchases, service spend and referrals
    (the notifier's tier rules; complaints shorten SLAs by tier). Purchases and referrals
    count for life, service spend over a sliding window; VIP when any VIP threshold is
    reached, key when a purchase comes with service spend or a referral."""

    service_spend_window: timedelta = Field(
        default=timedelta(days=365),
        description="Service spend counts this long after the handover it was paid at "
        "(a sliding window: older spend drops out and the tier is reviewed then).",
    )
    spend_currency: str = Field(
        default="CNY",
        pattern=r"^[A-Z]{3}$",
        description="Currency of the spend thresholds; amounts paid in another currency "
        "do not count.",
    )
    vip_min_purchases: int = Field(
        default=2, ge=1, description="VIP from this many vehicles bought at the dealer."
    )
    vip_min_service_spend: Decimal = Field(
        default=Decimal("20000"),
        gt=0,
        description="VIP from this much service spend within the window.",
    )
    vip_min_referrals: int = Field(
        default=2,
        ge=1,
        description="VIP from this many referred customers who bought (a referral counts "
        "when the referred lead converts).",
    )
    key_min_purchases: int = Field(
        default=1,
        ge=1,
        description="Key from this many vehicles bought, together with key_min_service_spend "
        "or key_min_referrals.",
    )
    key_min_service_spend: Decimal = Field(
        default=Decimal("3000"),
        ge=0,
        description="Service spend within the window that, with key_min_purchases, makes "
        "a key customer.",
    )
    key_min_referrals: int = Field(
        default=1,
        ge=1,
        description="Referred customers who bought that, with key_min_purchases, make a key "
        "customer.",
    )
    vip_manager_courtesy_calls: bool = Field(
        default=True,
        description="A VIP's 24 h delivery callback is also given to the sales manager, and "
        "the post-repair follow-up callback to the service manager, as a courtesy call task "
        "(same due time, the customer's tier when the care is planned).",
    )
    maintenance_call_service_tiers: tuple[Literal["A", "B", "C", "D"], ...] = Field(
        default=("D",),
        description="After-sales tiers (service-center's A-D by visits a year) whose "
        "maintenance reminder also gives the service advisors a call task (retention_call, "
        "due when the reminder is sent, withdrawn by the vehicle's check-in); default D: "
        "no visit for a year, a message alone rarely brings them back. Empty: none.",
    )


class CarePolicy(PolicyGroup):
    """Which rules of the notifier's care calendar the dealer turns off."""

    disabled: list[str] = Field(
        default_factory=list,
        description="Keys of the care-calendar rules the dealer turns off (GET "
        "/v1/care-calendar on the notifier lists them; a disabled rule plans nothing). "
        "Keys are lower case letters, digits, '-' and '_'; the notifier ignores (and logs) "
        "keys it does not know.",
    )

    @field_validator("disabled")
    @classmethod
    def _rule_keys(cls, value: list[str]) -> list[str]:
        for key in value:
            if not key or not all(c.islower() or c.isdigit() or c in "-_" for c in key):
                raise ValueError(f"not a care-calendar rule key: {key!r}")
        return sorted(set(value))


class DealerPolicy(PolicyGroup):
    """Every rule number of one dealer, defaulting to DOMAIN.md."""

    calendar: CalendarPolicy = Field(
        default_factory=CalendarPolicy,
        description="Time zone, opening hours, holidays and working days.",
    )
    contact: ContactPolicy = Field(
        default_factory=ContactPolicy, description="Rules for messages to customers."
    )
    leads: LeadPolicy = Field(
        default_factory=LeadPolicy,
        description="First contact, follow-up cadence, assignment and appointments.",
    )
    owner_care: OwnerCarePolicy = Field(
        default_factory=OwnerCarePolicy, description="Care for a new owner after delivery."
    )
    service: ServicePolicy = Field(
        default_factory=ServicePolicy,
        description="After-sales pricing, intervals, warranty, follow-up and retention.",
    )
    complaints: ComplaintPolicy = Field(
        default_factory=ComplaintPolicy,
        description="Complaint SLAs, escalation and automatic opening.",
    )
    sales: SalesPolicy = Field(
        default_factory=SalesPolicy,
        description="Quotes, taxes, discount approval, deposits and test drives.",
    )
    tiers: CustomerTierPolicy = Field(
        default_factory=CustomerTierPolicy,
        description="Customer tiers (VIP / key / regular) by purchases, spend and referrals.",
    )
    care: CarePolicy = Field(
        default_factory=CarePolicy,
        description="The care-calendar rules the dealer turns off.",
    )


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
