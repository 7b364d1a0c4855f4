"""The parts desk (issue 12 item 3): the dealer's parts catalogue with its stock (on
hand, reserved, available, low, over-stocked: ``domain_parts.stock_level``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from dealerflow.contracts.enums import PartCategory
from dealerflow.runtime.context import UseCaseContext
from dealerflow.service_center import domain_parts
from dealerflow.service_center import repository_parts as parts_repo
from dealerflow.service_center.domain_parts import StockLevel
from dealerflow.service_center.repository_parts import PartRecord
from dealerflow.service_center.settings import ServiceCenterSettings

Uc = UseCaseContext[ServiceCenterSettings]


class PartNotFound(LookupError):
    """No such part in the dealer's catalogue."""


@dataclass(frozen=True)
class PartStock:
    """A catalogue entry and its stock as the parts desk sees it."""

    part: PartRecord
    level: StockLevel


def stock_of(part: PartRecord) -> PartStock:
    return PartStock(
        part=part,
        level=domain_parts.stock_level(
            part.on_hand, part.reserved, part.reorder_point, part.over_stock_limit
        ),
    )


@dataclass(frozen=True, kw_only=True)
class SavePart:
    dealer_id: str
    part_number: str
    description: str
    category: PartCategory
    unit_price: Decimal
    currency: str
    reorder_point: int
    over_stock_limit: int | None


@dataclass(frozen=True)
class SavedPart:
    stock: PartStock
    created: bool


async def save_part(uc: Uc, cmd: SavePart) -> SavedPart:
    """Create or replace a catalogue entry; its stock is kept (stock changes come from
    receipts, counts, reservations and issues). Raises ``StockLimitsInvalid``."""
    domain_parts.check_stock_limits(cmd.reorder_point, cmd.over_stock_limit)
    part, created = await parts_repo.save_part(
        uc.conn,
        dealer_id=cmd.dealer_id,
        part_number=cmd.part_number,
        description=cmd.description,
        category=cmd.category.value,
        unit_price=cmd.unit_price,
        currency=cmd.currency,
        reorder_point=cmd.reorder_point,
        over_stock_limit=cmd.over_stock_limit,
        updated_by=uc.actor,
        updated_at=uc.now,
    )
    return SavedPart(stock=stock_of(part), created=created)


async def get_part(uc: Uc, dealer_id: str, part_number: str) -> PartStock:
    part = await parts_repo.get_part(uc.conn, dealer_id, part_number)
    if part is None:
        raise PartNotFound(part_number)
    return stock_of(part)


@dataclass(frozen=True, kw_only=True)
class ListParts:
    dealer_id: str
    category: PartCategory | None = None
    after: str | None = None
    limit: int = 50


async def list_parts(uc: Uc, query: ListParts) -> list[PartStock]:
    """Up to ``query.limit + 1`` parts by part number (the extra one says a next page)."""
    found = await parts_repo.list_parts(
        uc.conn,
        query.dealer_id,
        category=query.category.value if query.category is not None else None,
        after=query.after,
        limit=query.limit + 1,
    )
    return [stock_of(p) for p in found]
