"""Parts stock rules: available, low (on available), over-stocked (on hand)."""

from __future__ import annotations

import pytest

from dealerflow.contracts.events.service import RepairItem
from dealerflow.contracts.types import Money
from dealerflow.service_center.domain_order import BrokenRule
from dealerflow.service_center.domain_parts import (
    ISSUE_FROM,
    RETURN_FROM,
    CountBelowReserved,
    CountedPart,
    PartsNotMovable,
    ReservationWanted,
    StockLimitsInvalid,
    became_available,
    became_low,
    check_count,
    check_stock_limits,
    lines_to_move,
    received_quantities,
    reservations_wanted,
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


def test_low_is_raised_once_per_crossing() -> None:
    above = stock_level(10, 0, reorder_point=5, over_stock_limit=None)
    at = stock_level(10, 5, reorder_point=5, over_stock_limit=None)
    below = stock_level(10, 8, reorder_point=5, over_stock_limit=None)
    assert became_low(above, at)
    assert not became_low(at, below)
    assert not became_low(below, above)
    assert became_available(below, above)
    assert became_available(at, above)
    assert not became_available(above, above)
    assert not became_available(below, at)


def test_a_count_may_not_fall_below_the_reserved() -> None:
    fine = CountedPart("OF-1", counted=4, on_hand=6, reserved=4)
    assert fine.adjustment == -2
    check_count((fine,))
    with pytest.raises(CountBelowReserved, match="OF-2: counted 1 is below the 3 reserved"):
        check_count((fine, CountedPart("OF-2", counted=1, on_hand=5, reserved=3)))


def test_only_approved_lines_with_a_part_number_reserve() -> None:
    cny = Money(amount="10.00", currency="CNY")
    items = [
        RepairItem(
            item_id="P1",
            kind="part",
            description="Filter",
            part_number="OF-1",
            quantity=2,
            amount=cny,
        ),
        RepairItem(item_id="L1", kind="labour", description="Fit", labour_hours="0.5", amount=cny),
        RepairItem(item_id="P2", kind="part", description="Pads", part_number="BP-7", amount=cny),
    ]
    assert reservations_wanted(items, ["P1", "L1"]) == [ReservationWanted("P1", "OF-1", 2)]


def test_issue_moves_reserved_lines_only() -> None:
    states = {"P1": "reserved", "P2": "back_ordered", "P3": "issued"}
    assert lines_to_move(states, None, ISSUE_FROM, "issued") == {"P1": "issued"}
    with pytest.raises(PartsNotMovable) as refused:
        lines_to_move(states, ["P1", "P2", "P9"], ISSUE_FROM, "issued")
    assert refused.value.problems == (
        "line P2 is back-ordered: it cannot be issued",
        "line P9 has no part reservation",
    )


def test_return_brings_back_issued_and_releases_reserved() -> None:
    states = {"P1": "reserved", "P3": "issued", "P4": "returned"}
    assert lines_to_move(states, None, RETURN_FROM, "returned") == {
        "P1": "released",
        "P3": "returned",
    }
    assert lines_to_move(states, ["P3"], RETURN_FROM, "returned") == {"P3": "returned"}


def test_a_receipt_adds_what_was_delivered() -> None:
    ordered = {"OF-1": 10, "BP-7": 4}
    assert received_quantities(ordered, None) == ordered
    assert received_quantities(ordered, {"OF-1": 8}) == {"OF-1": 8, "BP-7": 0}
    with pytest.raises(BrokenRule, match="XX-9 is not on the purchase order"):
        received_quantities(ordered, {"XX-9": 1})
