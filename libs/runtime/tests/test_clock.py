"""Unit tests of the injectable clocks."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from dealerflow.runtime.clock import (
    AcceleratedClock,
    Clock,
    ManualClock,
    SystemClock,
    clock_from_speed,
    wall_seconds_until,
)

START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def test_system_clock_is_aware_utc_and_current() -> None:
    now = SystemClock().now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)
    assert abs((datetime.now(UTC) - now).total_seconds()) < 1


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(START)
    assert clock.now() == START
    assert clock.now() == START
    assert clock.advance(timedelta(hours=2)) == START + timedelta(hours=2)
    clock.set(START + timedelta(days=1))
    assert clock.now() == START + timedelta(days=1)


def test_manual_clock_never_goes_backwards() -> None:
    clock = ManualClock(START)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="backwards"):
        clock.set(START - timedelta(seconds=1))


def test_manual_clock_converts_other_zones_to_utc_and_rejects_naive() -> None:
    shanghai = timezone(timedelta(hours=8))
    clock = ManualClock(datetime(2025, 3, 1, 16, 0, tzinfo=shanghai))
    assert clock.now() == START
    assert clock.now().utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="naive"):
        ManualClock(datetime(2025, 3, 1))


def test_accelerated_clock_runs_speed_times_faster() -> None:
    clock = AcceleratedClock(START, speed=3600)
    time.sleep(0.05)
    elapsed = clock.now() - START
    # 0.05 real seconds at 3600x is 180 clock seconds (allow scheduler jitter)
    assert timedelta(seconds=170) <= elapsed <= timedelta(seconds=3600)
    assert clock.now() >= START + elapsed  # monotonic


def test_accelerated_clock_rejects_non_positive_speed() -> None:
    with pytest.raises(ValueError, match="positive"):
        AcceleratedClock(START, speed=0)


def test_all_clocks_satisfy_the_protocol() -> None:
    for clock in (SystemClock(), ManualClock(START), AcceleratedClock(START, 2.0)):
        assert isinstance(clock, Clock)


def test_clock_from_speed() -> None:
    assert isinstance(clock_from_speed(1.0), SystemClock)
    fast = clock_from_speed(60.0, START)
    assert isinstance(fast, AcceleratedClock)
    assert fast.speed == 60.0


def test_wall_seconds_until() -> None:
    assert wall_seconds_until(ManualClock(START), START + timedelta(hours=1)) is None
    fast = AcceleratedClock(START, speed=100)
    wait = wall_seconds_until(fast, START + timedelta(seconds=1000))
    assert wait is not None
    assert 9.0 < wait <= 10.0
    assert wall_seconds_until(fast, START - timedelta(seconds=5)) == 0.0
    real = wall_seconds_until(SystemClock(), datetime.now(UTC) + timedelta(seconds=30))
    assert real is not None
    assert 29.0 < real <= 30.0


def test_accelerated_clocks_sharing_an_anchor_agree() -> None:
    """Two processes started at different times read one accelerated time."""
    import time as _time
    from datetime import UTC as _UTC
    from datetime import datetime as _dt
    from datetime import timedelta as _td

    from dealerflow.runtime.clock import AcceleratedClock as _Acc

    anchor = _dt.now(_UTC) - _td(seconds=2)
    first = _Acc(anchor, 3600, anchor=anchor)
    _time.sleep(0.05)
    second = _Acc(anchor, 3600, anchor=anchor)
    a, b = first.now(), second.now()
    # ~2 s after the anchor at 3600x is ~2 h; both agree to within scheduling noise.
    assert abs((a - b).total_seconds()) < 0.05 * 3600
    assert _td(hours=1.9) < a - anchor < _td(hours=2.5)
