"""The parts desk (issue 12 item 3): the dealer's parts catalogue with its stock (on
hand, reserved, available, low, over-stocked: ``domain_parts.stock_level``), the
reservations made when a customer approves a repair, and stock counts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from dealerflow.contracts.enums import PartCategory
from dealerflow.contracts.events.service import (
    PartLine,
    PartsReserved,
    PartStockLow,
    PartStockReplenished,
    RepairItem,
)
from dealerflow.contracts.identity import house_customer_id
from dealerflow.runtime import idempotency
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.idempotency import RequestKey
from dealerflow.service_center import domain_parts
from dealerflow.service_center import repository as repo
from dealerflow.service_center import repository_parts as parts_repo
from dealerflow.service_center.domain_parts import StockLevel
from dealerflow.service_center.records import RepairOrderRecord
from dealerflow.service_center.repository_parts import (
    AdjustmentRecord,
    PartRecord,
    PurchaseOrderLine,
    PurchaseOrderRecord,
    ReservationRecord,
)
from dealerflow.service_center.settings import ServiceCenterSettings
from dealerflow.service_center.usecases import RepairOrderNotFound

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


def _before(part: PartRecord, *, on_hand: int, reserved: int) -> StockLevel:
    return domain_parts.stock_level(on_hand, reserved, part.reorder_point, part.over_stock_limit)


async def _stock_low_if_crossed(
    uc: Uc,
    part: PartRecord,
    before: StockLevel,
    *,
    customer_id: uuid.UUID,
    repair_order_id: uuid.UUID | None,
) -> None:
    """``PartStockLow`` when this change crossed the reorder point (once per crossing)."""
    after = stock_of(part).level
    if not domain_parts.became_low(before, after):
        return
    await uc.publish(
        PartStockLow(
            dealer_id=part.dealer_id,
            customer_id=customer_id,
            occurred_at=uc.now,
            part_number=part.part_number,
            description=part.description,
            category=PartCategory(part.category),
            on_hand=after.on_hand,
            reorder_point=part.reorder_point,
            repair_order_id=str(repair_order_id) if repair_order_id is not None else None,
            detected_at=uc.now,
        )
    )


async def reserve_for_approval(
    uc: Uc, ro: RepairOrderRecord, items: Sequence[RepairItem], approved_ids: Sequence[str]
) -> None:
    """At the customer's approval: reserve the parts of the approved lines that name a
    part number (``PartsReserved`` for what was reserved); a line whose part is short (or
    not in the catalogue) is recorded back-ordered, never reserved beyond the stock."""
    reserved: list[PartLine] = []
    for wanted in domain_parts.reservations_wanted(items, approved_ids):
        part = await parts_repo.reserve(
            uc.conn, ro.dealer_id, wanted.part_number, wanted.quantity, uc.now
        )
        await parts_repo.save_reservation(
            uc.conn,
            dealer_id=ro.dealer_id,
            repair_order_id=ro.id,
            item_id=wanted.item_id,
            part_number=wanted.part_number,
            quantity=wanted.quantity,
            status="reserved" if part is not None else "back_ordered",
            at=uc.now,
        )
        if part is None:
            continue
        reserved.append(
            PartLine(
                part_number=part.part_number,
                description=part.description,
                quantity=wanted.quantity,
                category=PartCategory(part.category),
            )
        )
        before = _before(part, on_hand=part.on_hand, reserved=part.reserved - wanted.quantity)
        await _stock_low_if_crossed(
            uc, part, before, customer_id=ro.customer_id, repair_order_id=ro.id
        )
    if reserved:
        await uc.publish(
            PartsReserved(
                dealer_id=ro.dealer_id,
                customer_id=ro.customer_id,
                occurred_at=uc.now,
                repair_order_id=str(ro.id),
                parts=reserved,
                reserved_at=uc.now,
            )
        )


async def reservations_of(
    uc: Uc, dealer_id: str, repair_order_id: uuid.UUID
) -> list[ReservationRecord]:
    """What the approval reserved or back-ordered, per quote line."""
    if await repo.get_repair_order(uc.conn, dealer_id, repair_order_id) is None:
        raise RepairOrderNotFound(repair_order_id)
    return await parts_repo.reservations_of(uc.conn, dealer_id, repair_order_id)


@dataclass(frozen=True, kw_only=True)
class CountStock:
    dealer_id: str
    request: RequestKey | None
    counted: tuple[tuple[str, int], ...]
    reason: str


@dataclass(frozen=True)
class StockCount:
    stock_count_id: uuid.UUID
    adjustments: list[AdjustmentRecord]


async def count_stock(uc: Uc, cmd: CountStock) -> StockCount:
    """A stock count: on hand becomes the counted quantity, each difference recorded as an
    adjustment with the reason; refused (nothing changed) for an unknown part or a count
    below the reserved. A count that leaves a part low publishes ``PartStockLow`` (the
    dealer's house customer: no person is involved). A retry returns the first count."""
    count_id = uuid.uuid4()
    earlier = await idempotency.claimed_resource(
        uc.conn, cmd.request, dealer_id=cmd.dealer_id, scope="stock-counts", resource_id=count_id
    )
    if earlier is not None:
        return StockCount(earlier, await parts_repo.adjustments_of(uc.conn, cmd.dealer_id, earlier))
    numbers = [number for number, _ in cmd.counted]
    parts = await parts_repo.parts_for_update(uc.conn, cmd.dealer_id, numbers)
    unknown = sorted(set(numbers) - parts.keys())
    if unknown:
        raise PartNotFound(", ".join(unknown))
    domain_parts.check_count(
        tuple(
            domain_parts.CountedPart(n, c, parts[n].on_hand, parts[n].reserved)
            for n, c in cmd.counted
        )
    )
    for number, counted in cmd.counted:
        was = parts[number]
        part = await parts_repo.record_count(
            uc.conn,
            dealer_id=cmd.dealer_id,
            stock_count_id=count_id,
            part_number=number,
            counted=counted,
            on_hand_before=was.on_hand,
            reason=cmd.reason,
            recorded_by=uc.actor,
            at=uc.now,
        )
        await _stock_low_if_crossed(
            uc,
            part,
            stock_of(was).level,
            customer_id=house_customer_id(cmd.dealer_id),
            repair_order_id=None,
        )
    return StockCount(count_id, await parts_repo.adjustments_of(uc.conn, cmd.dealer_id, count_id))


@dataclass(frozen=True, kw_only=True)
class MoveParts:
    """Issue a repair order's reserved parts to the workshop, or return them."""

    dealer_id: str
    repair_order_id: uuid.UUID
    request: RequestKey | None
    item_ids: tuple[str, ...] | None  # None: every line the move applies to


async def _move(
    uc: Uc, cmd: MoveParts, moves: dict[str, str], verb: str
) -> list[ReservationRecord]:
    scope = f"repair-orders:{cmd.repair_order_id}:parts-{verb}"
    if not await idempotency.claimed_resource(
        uc.conn, cmd.request, dealer_id=cmd.dealer_id, scope=scope, resource_id=cmd.repair_order_id
    ):
        ro = await repo.get_repair_order(uc.conn, cmd.dealer_id, cmd.repair_order_id)
        if ro is None:
            raise RepairOrderNotFound(cmd.repair_order_id)
        found = await parts_repo.reservation_states_for_update(
            uc.conn, cmd.dealer_id, cmd.repair_order_id
        )
        chosen = domain_parts.lines_to_move(
            {item: r.status for item, r in found.items()}, cmd.item_ids, moves, verb
        )
        for item, to in sorted(chosen.items()):
            await parts_repo.move_reservation(
                uc.conn,
                dealer_id=cmd.dealer_id,
                repair_order_id=cmd.repair_order_id,
                reservation=found[item],
                to=to,
                at=uc.now,
            )
    return await parts_repo.reservations_of(uc.conn, cmd.dealer_id, cmd.repair_order_id)


async def issue_parts(uc: Uc, cmd: MoveParts) -> list[ReservationRecord]:
    """The reserved parts leave the shelf for the workshop: on hand and reserved both go
    down (available is unchanged, so an issue never raises PartStockLow). A line that is
    back-ordered or already issued is refused (PartsNotMovable); a retry does nothing."""
    return await _move(uc, cmd, domain_parts.ISSUE_FROM, "issued")


async def return_parts(uc: Uc, cmd: MoveParts) -> list[ReservationRecord]:
    """Parts not used: an issued line comes back on the shelf (on hand up), a reserved
    line not issued is released (reserved down). Either raises available."""
    return await _move(uc, cmd, domain_parts.RETURN_FROM, "returned")


class PurchaseOrderNotFound(LookupError):
    """No such purchase order at this dealer."""


class PurchaseOrderIdTaken(Exception):
    """The client-chosen purchase order id exists already (not as this request's retry)."""


@dataclass(frozen=True, kw_only=True)
class OrderParts:
    dealer_id: str
    purchase_order_id: uuid.UUID | None
    request: RequestKey | None
    supplier: str
    lines: tuple[PurchaseOrderLine, ...]


@dataclass(frozen=True)
class PlacedOrder:
    order: PurchaseOrderRecord
    created: bool


async def order_parts(uc: Uc, cmd: OrderParts) -> PlacedOrder:
    """A purchase order to a supplier for catalogue parts (PartNotFound otherwise); a
    retry (same key or client id) returns the first order."""
    po_id = cmd.purchase_order_id or uuid.uuid4()
    earlier = await idempotency.claimed_resource(
        uc.conn, cmd.request, dealer_id=cmd.dealer_id, scope="purchase-orders", resource_id=po_id
    )
    if earlier is not None:
        return PlacedOrder(await get_purchase_order(uc, cmd.dealer_id, earlier), created=False)
    numbers = [line.part_number for line in cmd.lines]
    known = await parts_repo.parts_for_update(uc.conn, cmd.dealer_id, numbers)
    unknown = sorted(set(numbers) - known.keys())
    if unknown:
        raise PartNotFound(", ".join(unknown))
    placed = await parts_repo.insert_purchase_order(
        uc.conn,
        PurchaseOrderRecord(
            dealer_id=cmd.dealer_id,
            id=po_id,
            supplier=cmd.supplier,
            status="open",
            ordered_by=uc.actor,
            ordered_at=uc.now,
            received_by=None,
            received_at=None,
            lines=cmd.lines,
        ),
    )
    if not placed:
        raise PurchaseOrderIdTaken(
            f"purchase order {po_id} already exists (sent with another Idempotency-Key)"
        )
    return PlacedOrder(await get_purchase_order(uc, cmd.dealer_id, po_id), created=True)


async def get_purchase_order(uc: Uc, dealer_id: str, po_id: uuid.UUID) -> PurchaseOrderRecord:
    found = await parts_repo.get_purchase_order(uc.conn, dealer_id, po_id)
    if found is None:
        raise PurchaseOrderNotFound(po_id)
    return found


@dataclass(frozen=True, kw_only=True)
class ReceiveParts:
    dealer_id: str
    purchase_order_id: uuid.UUID
    request: RequestKey | None
    counted: dict[str, int] | None  # None: everything ordered arrived


async def receive_parts(uc: Uc, cmd: ReceiveParts) -> PurchaseOrderRecord:
    """The delivery of a purchase order: the received quantities are added to on hand
    (which only raises available: no PartStockLow; a part lifted above its reorder point
    publishes ``PartStockReplenished``, the reorder task's end). Once per order
    (ReceiptRefused for a second receipt); a retry returns the received order."""
    scope = f"purchase-orders:{cmd.purchase_order_id}:receipt"
    if await idempotency.claimed_resource(
        uc.conn,
        cmd.request,
        dealer_id=cmd.dealer_id,
        scope=scope,
        resource_id=cmd.purchase_order_id,
    ):
        return await get_purchase_order(uc, cmd.dealer_id, cmd.purchase_order_id)
    po = await parts_repo.get_purchase_order(
        uc.conn, cmd.dealer_id, cmd.purchase_order_id, for_update=True
    )
    if po is None:
        raise PurchaseOrderNotFound(cmd.purchase_order_id)
    if po.status != "open":
        raise domain_parts.ReceiptRefused(f"purchase order {po.id} was received already")
    received = domain_parts.received_quantities(
        {line.part_number: line.quantity for line in po.lines}, cmd.counted
    )
    restocked = await parts_repo.receive_purchase_order(
        uc.conn, cmd.dealer_id, po.id, received, by=uc.actor, at=uc.now
    )
    for part in restocked:
        before = _before(
            part, on_hand=part.on_hand - received[part.part_number], reserved=part.reserved
        )
        after = stock_of(part).level
        if domain_parts.became_available(before, after):
            await uc.publish(
                PartStockReplenished(
                    dealer_id=part.dealer_id,
                    customer_id=house_customer_id(part.dealer_id),
                    occurred_at=uc.now,
                    part_number=part.part_number,
                    description=part.description,
                    on_hand=after.on_hand,
                    available=after.available,
                    reorder_point=part.reorder_point,
                    purchase_order_id=str(po.id),
                    replenished_at=uc.now,
                )
            )
    return await get_purchase_order(uc, cmd.dealer_id, po.id)
