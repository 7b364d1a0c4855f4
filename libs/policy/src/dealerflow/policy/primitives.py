"""Building blocks of `DealerPolicy`: weekdays, clock modes, SLA specs, opening hours."""

from __future__ import annotations

import itertools
from datetime import date, time, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


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


class PolicyGroup(BaseModel):
    """Base of every policy group: frozen, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class SlaSpec(PolicyGroup):
    """A duration and how it is counted (see `ClockMode`)."""

    duration: timedelta = Field(
        description="How long the clock runs (ISO 8601 duration; whole days for "
        "business_days and working_days)."
    )
    mode: ClockMode = Field(
        default=ClockMode.WALL,
        description="What counts: wall (real time), business_hours (opening hours), "
        "business_days (store-open days), working_days (statutory working days).",
    )

    @model_validator(mode="after")
    def _check(self) -> SlaSpec:
        if self.duration < timedelta(0):
            raise ValueError("an SLA duration cannot be negative")
        if self.mode in (ClockMode.BUSINESS_DAYS, ClockMode.WORKING_DAYS) and (
            self.duration % timedelta(days=1)
        ):
            raise ValueError(f"a {self.mode.value} SLA must be a whole number of days")
        return self


def wall_sla(**kw: float) -> SlaSpec:
    """An SLA counted in wall time."""
    return SlaSpec(duration=timedelta(**kw), mode=ClockMode.WALL)


def business_hours_sla(**kw: float) -> SlaSpec:
    """An SLA counted in opening hours."""
    return SlaSpec(duration=timedelta(**kw), mode=ClockMode.BUSINESS_HOURS)


def business_days_sla(days: int) -> SlaSpec:
    """An SLA counted in whole store-open days."""
    return SlaSpec(duration=timedelta(days=days), mode=ClockMode.BUSINESS_DAYS)


class OpeningInterval(PolicyGroup):
    """One opening period of a day in local time; ``closes`` 00:00 means midnight."""

    opens: time = Field(description="Local time the store opens (no time zone).")
    closes: time = Field(
        description="Local time the store closes, after opens; 00:00 means midnight."
    )

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


def default_opening_day() -> list[OpeningInterval]:
    """The default opening hours of a day: 08:30-18:00."""
    return list(_DEFAULT_DAY)


def _opening_hours_of(day: str) -> Any:
    """The field of one weekday's opening hours (default 08:30-18:00)."""
    return Field(
        default_factory=default_opening_day,
        description=f"{day}'s opening intervals (local time); empty: closed all day.",
    )


class WeeklyHours(PolicyGroup):
    """Store opening hours per weekday; an empty list means closed all day."""

    mon: list[OpeningInterval] = _opening_hours_of("Monday")
    tue: list[OpeningInterval] = _opening_hours_of("Tuesday")
    wed: list[OpeningInterval] = _opening_hours_of("Wednesday")
    thu: list[OpeningInterval] = _opening_hours_of("Thursday")
    fri: list[OpeningInterval] = _opening_hours_of("Friday")
    sat: list[OpeningInterval] = _opening_hours_of("Saturday")
    sun: list[OpeningInterval] = _opening_hours_of("Sunday")

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
