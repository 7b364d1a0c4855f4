"""Parts stock rules: available, low (on available), over-stocked (on hand)."""

from __future__ import annotations

import pytest

from dealerflow.service_center.domain_parts import (
    StockLimitsInvalid,
    check_stock_limits,
    stock_level,
)


def test_available_is_on_hand_minus_reserved() -> None:
    level = stock_level(10, 3, reorder_point=2, over_stock_limit=None)
    assert (level.available, level.low, level.over_stocked) == (7, False, False)


def test_low_when_available_reaches_the_reorder_point() -> None:
    assert stock_level(10, 8, reorder_point=2, over_stock_limit=None).low
    assert not stock_level(10, 7, reorder_point=2, over_stock_limit=None).low
    assert stock_level(0, 0, reorder_point=0, over_stock_limit=None).low


def test_over_stocked_above_the_limit_on_hand() -> None:
    assert stock_level(31, 30, reorder_point=2, over_stock_limit=30).over_stocked
    assert not stock_level(30, 0, reorder_point=2, over_stock_limit=30).over_stocked


@pytest.mark.parametrize(("reorder_point", "limit"), [(-1, None), (5, 5), (5, 3)])
def test_contradicting_limits_are_refused(reorder_point: int, limit: int | None) -> None:
    with pytest.raises(StockLimitsInvalid):
        check_stock_limits(reorder_point, limit)


def test_sane_limits_pass() -> None:
    check_stock_limits(0, None)
    check_stock_limits(2, 30)
