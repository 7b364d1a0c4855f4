"""Parts stock rules (issue 12, handbook parts desk): what is available of a part, when it
is low and when it is over-stocked.

Decision: "low" is judged on the AVAILABLE quantity (on hand minus reserved), because
reserved parts are already promised to a repair order and cannot be sold or fitted again;
a part is low when available <= reorder point. Over-stock is judged on ON HAND (what sits
on the shelf and ties up money): over-stocked when on hand > over-stock limit (no limit:
never over-stocked). Stock is never negative and never more reserved than on hand (the
database enforces it as well: CHECK on the parts table).
"""

from __future__ import annotations

from dataclasses import dataclass

from dealerflow.service_center.domain_order import BrokenRule


class StockLimitsInvalid(BrokenRule):
    """Reorder point and over-stock limit that contradict each other."""


@dataclass(frozen=True)
class StockLevel:
    """A part's stock as the parts desk sees it."""

    on_hand: int
    reserved: int
    available: int
    low: bool
    over_stocked: bool


def check_stock_limits(reorder_point: int, over_stock_limit: int | None) -> None:
    """A catalogue entry's limits: the reorder point is not negative and the over-stock
    limit, when set, is above it (else the part would be low and over-stocked at once).
    Raises :class:`StockLimitsInvalid`."""
    if reorder_point < 0:
        raise StockLimitsInvalid("the reorder point may not be negative")
    if over_stock_limit is not None and over_stock_limit <= reorder_point:
        raise StockLimitsInvalid("the over-stock limit must be above the reorder point")


def stock_level(
    on_hand: int, reserved: int, reorder_point: int, over_stock_limit: int | None
) -> StockLevel:
    """Available = on hand - reserved; low when available <= reorder point; over-stocked
    when on hand > over-stock limit."""
    available = on_hand - reserved
    return StockLevel(
        on_hand=on_hand,
        reserved=reserved,
        available=available,
        low=available <= reorder_point,
        over_stocked=over_stock_limit is not None and on_hand > over_stock_limit,
    )
