"""HTTP bodies of the parts desk (``api_parts``)."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, Field

from dealerflow.contracts.enums import PartCategory
from dealerflow.contracts.money import money
from dealerflow.contracts.types import DealerId, Money
from dealerflow.runtime.request_models import RequestBody
from dealerflow.service_center.schemas import Line
from dealerflow.service_center.usecases_parts import PartStock


class PartIn(RequestBody):
    """A catalogue entry (its stock is not set here: receipts and counts change it)."""

    dealer_id: DealerId
    description: Line = Field(description="Part name.")
    category: PartCategory = Field(description="Stock category: common, seasonal, special, scrap.")
    unit_price: Money = Field(description="Unit price.")
    reorder_point: int = Field(ge=0, description="Available quantity at which to reorder.")
    over_stock_limit: int | None = Field(
        default=None, ge=0, description="On-hand quantity above which the part is over-stocked."
    )


class PartOut(BaseModel):
    """A part with its stock: available = on hand - reserved; low when available <= the
    reorder point; over-stocked when on hand > the over-stock limit."""

    dealer_id: str
    part_number: str
    description: str
    category: PartCategory
    unit_price: Money
    reorder_point: int
    over_stock_limit: int | None
    on_hand: int
    reserved: int
    available: int
    low: bool
    over_stocked: bool

    @classmethod
    def of(cls, stock: PartStock) -> Self:
        part, level = stock.part, stock.level
        return cls(
            dealer_id=part.dealer_id,
            part_number=part.part_number,
            description=part.description,
            category=PartCategory(part.category),
            unit_price=money(part.unit_price, part.currency),
            reorder_point=part.reorder_point,
            over_stock_limit=part.over_stock_limit,
            on_hand=level.on_hand,
            reserved=level.reserved,
            available=level.available,
            low=level.low,
            over_stocked=level.over_stocked,
        )
