"""The daily mileage estimate taken from a delivery's expected yearly mileage."""

from __future__ import annotations

import pytest

from dealerflow.notifier.domain_deliveries import daily_km_of_yearly


def test_the_daily_estimate_is_the_yearly_mileage_over_365_days() -> None:
    assert daily_km_of_yearly(36_500) == pytest.approx(100.0)
    assert daily_km_of_yearly(15_000) == pytest.approx(15_000 / 365)


@pytest.mark.parametrize("yearly", [None, 0])
def test_no_estimate_without_a_known_mileage(yearly: int | None) -> None:
    assert daily_km_of_yearly(yearly) is None
