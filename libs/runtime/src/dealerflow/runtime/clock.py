"""Injectable clocks, so tests and demos can run days of schedule in seconds.

Everything that compares against "now" (timers, SLAs, quiet hours) takes a :class:`Clock`
instead of calling ``datetime.now()``. All clocks return aware UTC datetimes.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = [
    "AcceleratedClock",
    "Clock",
    "ManualClock",
    "SystemClock",
    "clock_from_speed",
    "wall_duration",
    "wall_seconds_until",
]


def _require_aware(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt!r}: clocks work with aware datetimes only")
    return dt.astimezone(UTC)


@runtime_checkable
class Clock(Protocol):
    """Source of the current time (aware, UTC)."""

    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        """Return ``datetime.now(UTC)``."""
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """A clock that only moves when told to (unit and integration tests)."""

    def __init__(self, start: datetime) -> None:
        self._now = _require_aware(start)

    def now(self) -> datetime:
        """Return the time last set."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` (never backwards) and return the new time."""
        if delta < timedelta(0):
            raise ValueError("a ManualClock never goes backwards")
        self._now = self._now + delta
        return self._now

    def set(self, dt: datetime) -> None:
        """Jump to ``dt`` (must not be earlier than the current time)."""
        dt = _require_aware(dt)
        if dt < self._now:
            raise ValueError("a ManualClock never goes backwards")
        self._now = dt

    def __repr__(self) -> str:
        return f"ManualClock({self._now.isoformat()})"


class AcceleratedClock:
    """Time passes ``speed`` times faster than real time, starting at ``start``.

    Used for demos: with ``speed=3600`` an hour of schedule passes every second.
    ``anchor`` is the real instant at which the clock reads ``start`` (default: when the
    clock is created). Processes that share ``start`` and ``anchor`` agree on "now", which
    is how the five services of an accelerated demo or test keep one clock.
    """

    def __init__(self, start: datetime, speed: float, *, anchor: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._start = _require_aware(start)
        self._speed = float(speed)
        # monotonic, so wall-clock adjustments (NTP) never make the clock jump backwards
        self._origin = time.monotonic()
        if anchor is not None:
            lag = datetime.now(UTC) - _require_aware(anchor)
            self._origin -= lag.total_seconds()

    @property
    def speed(self) -> float:
        """How many clock seconds pass per real second."""
        return self._speed

    def now(self) -> datetime:
        """Return ``start + (real time elapsed since the anchor) * speed``."""
        elapsed = time.monotonic() - self._origin
        return self._start + timedelta(seconds=elapsed * self._speed)

    def __repr__(self) -> str:
        return f"AcceleratedClock({self._start.isoformat()}, speed={self._speed})"


def clock_from_speed(speed: float, start: datetime | None = None) -> Clock:
    """A :class:`SystemClock` for ``speed == 1``, else an :class:`AcceleratedClock`.

    ``start`` defaults to the real current time, so an accelerated demo starts "now".
    """
    if speed == 1.0:
        return SystemClock()
    return AcceleratedClock(start or datetime.now(UTC), speed)


def wall_seconds_until(clock: Clock, when: datetime) -> float | None:
    """Real seconds to sleep until ``clock`` reaches ``when`` (0 if already past).

    Returns ``None`` when that cannot be known (a :class:`ManualClock` only moves when a
    test moves it), in which case callers fall back to their polling interval.
    """
    if isinstance(clock, ManualClock):
        return None
    remaining = (when - clock.now()).total_seconds()
    if remaining <= 0:
        return 0.0
    speed = clock.speed if isinstance(clock, AcceleratedClock) else 1.0
    return remaining / speed


def wall_duration(clock: Clock, duration: timedelta) -> timedelta:
    """The real time in which ``duration`` of ``clock`` passes (``duration / speed`` for an
    accelerated clock; itself for the real one, and for a manual clock, which real time
    does not move): to compare a span of the services' clock with stamps the database
    wrote with its own ``now()``."""
    speed = clock.speed if isinstance(clock, AcceleratedClock) else 1.0
    return duration / speed
