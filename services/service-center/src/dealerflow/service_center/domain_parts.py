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

from collections.abc import Sequence
from dataclasses import dataclass

from dealerflow.contracts.events.service import RepairItem
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


def became_low(before: StockLevel, after: StockLevel) -> bool:
    """A change crossed the reorder point downwards (``PartStockLow`` once per crossing:
    a part already low that falls further raises nothing; one that was restocked above the
    point and falls again raises it again)."""
    return after.low and not before.low


def became_available(before: StockLevel, after: StockLevel) -> bool:
    """A change lifted a low part above the reorder point (``PartStockReplenished``: the
    reorder task is no longer needed), once per crossing."""
    return before.low and not after.low


class CountBelowReserved(BrokenRule):
    """A stock count below what is reserved: issue or return the reservations first."""


@dataclass(frozen=True)
class CountedPart:
    """One counted line against the stock the system holds."""

    part_number: str
    counted: int
    on_hand: int
    reserved: int

    @property
    def adjustment(self) -> int:
        """What the count changes on hand by (negative: shrinkage)."""
        return self.counted - self.on_hand


def check_count(lines: tuple[CountedPart, ...]) -> None:
    """A count may not leave fewer on hand than reserved (stock promised to repair
    orders); raises :class:`CountBelowReserved` naming every such part."""
    errors = [
        f"{line.part_number}: counted {line.counted} is below the {line.reserved} reserved"
        for line in lines
        if line.counted < line.reserved
    ]
    if errors:
        raise CountBelowReserved(*errors)


@dataclass(frozen=True)
class ReservationWanted:
    """An approved quote line that names a part."""

    item_id: str
    part_number: str
    quantity: int


def reservations_wanted(
    items: Sequence[RepairItem], approved: Sequence[str]
) -> list[ReservationWanted]:
    """The approved lines that name a part number, in quote order (labour lines and
    parts without a number reserve nothing)."""
    chosen = set(approved)
    return [
        ReservationWanted(item.item_id, item.part_number, item.quantity)
        for item in items
        if item.item_id in chosen and item.part_number
    ]


class PartsNotMovable(Exception):
    """Lines that cannot be issued or returned in their state (a 409, reasons listed)."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)

    @property
    def problem_extensions(self) -> dict[str, object]:
        return {"problems": list(self.problems)}


#: The reservation states each move starts from, and where it leaves the line.
ISSUE_FROM = {"reserved": "issued"}
RETURN_FROM = {"issued": "returned", "reserved": "released"}


def lines_to_move(
    states: dict[str, str], wanted: Sequence[str] | None, moves: dict[str, str], verb: str
) -> dict[str, str]:
    """``{item_id: new state}`` for the named lines (none named: every line that can
    move). Raises :class:`PartsNotMovable` naming each line that has no reservation or
    is in a state the move does not start from (nothing moves then)."""
    if wanted is None:
        return {item: moves[state] for item, state in states.items() if state in moves}
    problems = [
        f"line {item} has no part reservation"
        if item not in states
        else f"line {item} is {states[item].replace('_', '-')}: it cannot be {verb}"
        for item in wanted
        if states.get(item) not in moves
    ]
    if problems:
        raise PartsNotMovable(problems)
    return {item: moves[states[item]] for item in wanted}


class ReceiptRefused(Exception):
    """A receipt for an order already received (a 409)."""


def received_quantities(ordered: dict[str, int], counted: dict[str, int] | None) -> dict[str, int]:
    """What a receipt adds per part: the counted quantities (none given: everything
    ordered). A part not on the order is refused (:class:`BrokenRule`); a part of the
    order not counted was not delivered (0)."""
    if counted is None:
        return dict(ordered)
    unknown = sorted(set(counted) - ordered.keys())
    if unknown:
        raise BrokenRule(*(f"{number} is not on the purchase order" for number in unknown))
    return {number: counted.get(number, 0) for number in ordered}
