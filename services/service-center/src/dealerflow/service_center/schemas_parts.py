"""HTTP bodies of the parts desk (``api_parts``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, StringConstraints, model_validator

from dealerflow.contracts.enums import PartCategory
from dealerflow.contracts.money import money
from dealerflow.contracts.types import DealerId, Money
from dealerflow.runtime.request_models import MoneyIn, RequestBody
from dealerflow.service_center.repository_parts import PurchaseOrderRecord, ReservationRecord
from dealerflow.service_center.schemas import Line
from dealerflow.service_center.usecases_parts import PartStock, StockCount

PartNumberText = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$"
    ),
]


#: The largest quantity a request may name (the stock columns are PostgreSQL integers;
#: schemathesis found a reorder point above 2**31 answered 500).
MAX_QUANTITY = 100_000


class PartIn(RequestBody):
    """A catalogue entry (its stock is not set here: receipts and counts change it)."""

    dealer_id: DealerId
    description: Line = Field(description="Part name.")
    category: PartCategory = Field(description="Stock category: common, seasonal, special, scrap.")
    unit_price: MoneyIn = Field(description="Unit price.")
    reorder_point: int = Field(
        ge=0, le=MAX_QUANTITY, description="Available quantity at which to reorder."
    )
    over_stock_limit: int | None = Field(
        default=None,
        ge=0,
        le=MAX_QUANTITY,
        description="On-hand quantity above which the part is over-stocked.",
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


class CountedIn(BaseModel):
    part_number: PartNumberText
    counted: int = Field(ge=0, le=MAX_QUANTITY, description="Quantity found on the shelf.")


class StockCountIn(RequestBody):
    """A stock count: the counted quantities of some parts and why they may differ."""

    dealer_id: DealerId
    counted: list[CountedIn] = Field(min_length=1, description="One line per counted part.")
    reason: Line = Field(description="Why the stock is adjusted, e.g. 'monthly count'.")

    @model_validator(mode="after")
    def _each_part_once(self) -> Self:
        numbers = [c.part_number for c in self.counted]
        if len(numbers) != len(set(numbers)):
            raise ValueError("each part may be counted once per stock count")
        return self


class AdjustmentOut(BaseModel):
    part_number: str
    counted: int
    on_hand_before: int
    adjustment: int = Field(description="counted - on hand before (negative: shrinkage).")
    reason: str
    recorded_by: str | None
    recorded_at: datetime


class StockCountOut(BaseModel):
    stock_count_id: uuid.UUID
    adjustments: list[AdjustmentOut]

    @classmethod
    def of(cls, count: StockCount) -> Self:
        return cls(
            stock_count_id=count.stock_count_id,
            adjustments=[AdjustmentOut(**vars(a)) for a in count.adjustments],
        )


class ReservationOut(BaseModel):
    """A quote line's part: reserved at the approval, or back-ordered (not enough stock,
    or not in the catalogue)."""

    item_id: str
    part_number: str
    quantity: int
    status: Literal["reserved", "back_ordered", "issued", "returned", "released"]
    recorded_at: datetime


class RepairOrderPartsOut(BaseModel):
    repair_order_id: uuid.UUID
    reservations: list[ReservationOut]
    back_ordered: bool = Field(description="Some approved part waits for stock.")

    @classmethod
    def of(cls, repair_order_id: uuid.UUID, found: list[ReservationRecord]) -> Self:
        items = [ReservationOut(**vars(r)) for r in found]
        return cls(
            repair_order_id=repair_order_id,
            reservations=items,
            back_ordered=any(r.status == "back_ordered" for r in items),
        )


class MovePartsIn(RequestBody):
    dealer_id: DealerId
    item_ids: list[str] | None = Field(
        default=None, min_length=1, description="Quote lines to move; none: every line that can."
    )


class PurchaseOrderLineIn(BaseModel):
    part_number: PartNumberText
    quantity: int = Field(ge=1, le=MAX_QUANTITY, description="Quantity ordered.")
    unit_cost: MoneyIn = Field(description="Cost per unit from the supplier.")


class PurchaseOrderIn(RequestBody):
    """A purchase order to a supplier for catalogue parts."""

    dealer_id: DealerId
    purchase_order_id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id (a retry with the same id is the same order)."
    )
    supplier: Line = Field(description="Supplier (name or code).")
    lines: list[PurchaseOrderLineIn] = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _each_part_once(self) -> Self:
        numbers = [line.part_number for line in self.lines]
        if len(numbers) != len(set(numbers)):
            raise ValueError("each part may appear once per purchase order")
        return self


class ReceivedIn(BaseModel):
    part_number: PartNumberText
    received: int = Field(ge=0, le=MAX_QUANTITY, description="Quantity delivered.")


class ReceiptIn(RequestBody):
    """The delivery of a purchase order (no lines: everything ordered arrived)."""

    dealer_id: DealerId
    lines: list[ReceivedIn] | None = Field(default=None, min_length=1)


class PurchaseOrderLineOut(BaseModel):
    part_number: str
    quantity: int
    unit_cost: Money
    received: int | None = Field(description="Quantity delivered (null until received).")


class PurchaseOrderOut(BaseModel):
    dealer_id: str
    purchase_order_id: uuid.UUID
    supplier: str
    status: Literal["open", "received"]
    ordered_by: str | None
    ordered_at: datetime
    received_by: str | None
    received_at: datetime | None
    lines: list[PurchaseOrderLineOut]

    @classmethod
    def of(cls, po: PurchaseOrderRecord) -> Self:
        return cls(
            dealer_id=po.dealer_id,
            purchase_order_id=po.id,
            supplier=po.supplier,
            status="received" if po.status == "received" else "open",
            ordered_by=po.ordered_by,
            ordered_at=po.ordered_at,
            received_by=po.received_by,
            received_at=po.received_at,
            lines=[
                PurchaseOrderLineOut(
                    part_number=line.part_number,
                    quantity=line.quantity,
                    unit_cost=money(line.unit_cost, line.currency),
                    received=line.received,
                )
                for line in po.lines
            ],
        )
