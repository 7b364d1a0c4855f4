"""Business-time arithmetic in a dealer's time zone.

Every method takes and returns timezone-aware datetimes; results are in UTC. Opening hours,
holidays and quiet hours are interpreted in the dealer's local time (`CalendarPolicy`).
Within an opening interval elapsed time is real time, so a DST change during opening hours
(which no real zone has) would still be counted correctly.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from dealerflow.policy.dealer_policy import DealerPolicy
from dealerflow.policy.primitives import ClockMode, OpeningInterval, SlaSpec, Weekday

# A calendar with no opening hours at all would loop forever; no real store is closed
# for more than a few weeks, so give up after ten years of closed days.
_MAX_SCAN_DAYS = 3660


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: pass a timezone-aware datetime")


def add_months(day: date, months: int) -> date:
    """`day` plus a number of calendar months, clamped to the last day of the month."""
    year, month_index = divmod(day.year * 12 + (day.month - 1) + months, 12)
    month = month_index + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


class BusinessCalendar:
    """Opening hours, working days and quiet hours of one dealer."""

    def __init__(self, policy: DealerPolicy) -> None:
        self._policy = policy
        self._calendar = policy.calendar
        self._tz = policy.calendar.tz

    @property
    def policy(self) -> DealerPolicy:
        """The policy this calendar was built from."""
        return self._policy

    # -- local helpers --------------------------------------------------------------

    def local(self, moment: datetime) -> datetime:
        """`moment` in the dealer's local time."""
        _require_aware(moment)
        return moment.astimezone(self._tz)

    def at_local(self, day: date, clock: time) -> datetime:
        """The UTC instant of a local date and wall time (a time skipped by DST moves on)."""
        return datetime.combine(day, clock, tzinfo=self._tz).astimezone(UTC)

    def opening_intervals(self, day: date) -> list[OpeningInterval]:
        """The store's opening intervals on a local date (holidays and make-up days applied)."""
        cal = self._calendar
        if day in cal.holidays and not cal.open_on_holidays:
            return []
        hours = cal.business_hours.for_weekday(Weekday.of(day))
        if not hours and day in cal.makeup_working_days:
            return list(cal.makeup_day_hours)
        return hours

    def _open_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        spans = []
        for interval in self.opening_intervals(day):
            opens = self.at_local(day, interval.opens)
            closes = (
                self.at_local(day + timedelta(days=1), time(0))
                if interval.closes_at_midnight
                else self.at_local(day, interval.closes)
            )
            spans.append((opens, closes))
        return spans

    def is_open_day(self, day: date) -> bool:
        """True when the store opens at all on a local date."""
        return bool(self.opening_intervals(day))

    def is_working_day(self, day: date) -> bool:
        """True for a statutory working day (make-up days yes, holidays no)."""
        cal = self._calendar
        if day in cal.makeup_working_days:
            return True
        if day in cal.holidays:
            return False
        return Weekday.of(day) in cal.working_weekdays

    # -- business hours -------------------------------------------------------------

    def is_business_time(self, moment: datetime) -> bool:
        """True when the store is open at `moment` (opening inclusive, closing exclusive)."""
        day = self.local(moment).date()
        # An interval closing at midnight belongs to the previous local day.
        for candidate in (day - timedelta(days=1), day):
            for opens, closes in self._open_spans(candidate):
                if opens <= moment < closes:
                    return True
        return False

    def add_business_time(self, start: datetime, delta: timedelta) -> datetime:
        """The instant `delta` of opening hours after `start` (nights and holidays skipped).

        A zero delta returns `start` unchanged; a deadline landing exactly on a closing
        time stays there rather than moving to the next opening.
        """
        _require_aware(start)
        if delta < timedelta(0):
            raise ValueError("business time can only be added, not subtracted")
        remaining = delta
        cursor = start.astimezone(UTC)
        if not remaining:
            return cursor
        day = self.local(start).date() - timedelta(days=1)
        for _ in range(_MAX_SCAN_DAYS):
            for opens, closes in self._open_spans(day):
                if closes <= cursor:
                    continue
                begin = max(opens, cursor)
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
                cursor = closes
            day += timedelta(days=1)
        raise ValueError("the calendar has no opening hours within ten years")

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Opening hours elapsed from `start` to `end` (zero when `end` is not later)."""
        _require_aware(start)
        _require_aware(end)
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        day = self.local(start).date() - timedelta(days=1)
        last = self.local(end).date()
        while day <= last:
            for opens, closes in self._open_spans(day):
                begin, finish = max(opens, start), min(closes, end)
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return total

    # -- whole days -----------------------------------------------------------------

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same local time on the `days`-th statutory working day after `start`'s date.

        The start day itself never counts (as in the law's counting, where the day of
        receipt is excluded), so the result is never later than the legal end-of-day
        deadline.
        """
        return self._add_days(start, days, self.is_working_day, clamp_to_closing=False)

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """The same local time on the `days`-th store-open day after `start`'s date.

        When that time is after the store closes that day, the day's closing time is used
        (nobody can be expected to act after closing).
        """
        return self._add_days(start, days, self.is_open_day, clamp_to_closing=True)

    def _add_days(
        self,
        start: datetime,
        days: int,
        counts: Callable[[date], bool],
        *,
        clamp_to_closing: bool,
    ) -> datetime:
        if days < 0:
            raise ValueError("days must not be negative")
        local = self.local(start)
        if days == 0:
            return start.astimezone(UTC)
        day, found = local.date(), 0
        for _ in range(_MAX_SCAN_DAYS):
            day += timedelta(days=1)
            if counts(day):
                found += 1
                if found == days:
                    break
        else:
            raise ValueError("the calendar has no qualifying days within ten years")
        due = self.at_local(day, local.time().replace(tzinfo=None))
        if clamp_to_closing:
            spans = self._open_spans(day)
            if spans and due > spans[-1][1]:
                due = spans[-1][1]
        return due

    # -- SLAs -----------------------------------------------------------------------

    def due(self, start: datetime, sla: SlaSpec) -> datetime:
        """When an SLA started at `start` falls due, counted per its `ClockMode`."""
        _require_aware(start)
        if sla.mode is ClockMode.WALL:
            return start.astimezone(UTC) + sla.duration
        if sla.mode is ClockMode.BUSINESS_HOURS:
            return self.add_business_time(start, sla.duration)
        whole_days = sla.duration.days
        if sla.mode is ClockMode.BUSINESS_DAYS:
            return self.add_business_days(start, whole_days)
        return self.add_working_days(start, whole_days)

    def point_of(self, start: datetime, sla: SlaSpec, fraction: float) -> datetime:
        """The instant at which `fraction` of an SLA started at `start` has elapsed.

        Wall clocks split real time; the other modes split the business time between the
        start and the due time (a warning never lands while the store is closed unless the
        deadline itself does).
        """
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        due = self.due(start, sla)
        if sla.mode is ClockMode.WALL:
            return start.astimezone(UTC) + (due - start) * fraction
        span = self.business_time_between(start, due)
        if not span:
            return start.astimezone(UTC) + (due - start) * fraction
        return self.add_business_time(start, span * fraction)

    def remaining(self, mode: ClockMode, at: datetime, due: datetime) -> timedelta:
        """What is left of a clock at `at`: real time for wall clocks, business time else."""
        if mode is ClockMode.WALL:
            return max(due - at, timedelta(0))
        return self.business_time_between(at, due)

    def extend(self, mode: ClockMode, start: datetime, remaining: timedelta) -> datetime:
        """The due time of a clock resumed at `start` with `remaining` left (see remaining)."""
        if mode is ClockMode.WALL:
            return start.astimezone(UTC) + remaining
        return self.add_business_time(start, remaining)

    # -- quiet hours ----------------------------------------------------------------

    def is_quiet_time(self, moment: datetime) -> bool:
        """True when customer messages must not be sent (dealer-local quiet hours)."""
        contact = self._policy.contact
        start, end = contact.quiet_hours_start, contact.quiet_hours_end
        now = self.local(moment).time().replace(tzinfo=None)
        if start == end:
            return False
        if start < end:
            return start <= now < end
        return now >= start or now < end

    def next_allowed_send_time(self, moment: datetime) -> datetime:
        """`moment` itself, or the end of the quiet hours it falls in (in UTC)."""
        if not self.is_quiet_time(moment):
            return moment.astimezone(UTC)
        end = self._policy.contact.quiet_hours_end
        local = self.local(moment)
        day = local.date()
        if local.time().replace(tzinfo=None) >= end:
            # Quiet hours that started this evening end tomorrow morning.
            day += timedelta(days=1)
        return self.at_local(day, end)
