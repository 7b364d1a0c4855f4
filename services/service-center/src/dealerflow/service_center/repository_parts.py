"""SQL of the parts catalogue and stock (``usecases_parts``), scoped by dealer_id.

Stock changes are single conditional UPDATEs; the table's CHECK keeps on hand >= 0 and
reserved <= on hand whatever runs at the same time."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from dealerflow.runtime.db import DbConnection


@dataclass(frozen=True, kw_only=True)
class PartRecord:
    """A catalogue entry with its stock."""

    dealer_id: str
    part_number: str
    description: str
    category: str
    unit_price: Decimal
    currency: str
    reorder_point: int
    over_stock_limit: int | None
    on_hand: int
    reserved: int
    updated_by: str | None
    updated_at: datetime


_COLUMNS = ", ".join(f.name for f in fields(PartRecord))


def _part(row: Any) -> PartRecord:
    return PartRecord(**dict(row))


async def save_part(
    conn: DbConnection,
    *,
    dealer_id: str,
    part_number: str,
    description: str,
    category: str,
    unit_price: Decimal,
    currency: str,
    reorder_point: int,
    over_stock_limit: int | None,
    updated_by: str | None,
    updated_at: datetime,
) -> tuple[PartRecord, bool]:
    """Create or replace the catalogue entry (its stock is kept); True when created."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO parts (dealer_id, part_number, description, category, unit_price,
                           currency, reorder_point, over_stock_limit, updated_by, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (dealer_id, part_number) DO UPDATE SET
            description = EXCLUDED.description, category = EXCLUDED.category,
            unit_price = EXCLUDED.unit_price, currency = EXCLUDED.currency,
            reorder_point = EXCLUDED.reorder_point,
            over_stock_limit = EXCLUDED.over_stock_limit,
            updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at
        RETURNING {_COLUMNS}, (xmax = 0) AS created
        """,
        dealer_id,
        part_number,
        description,
        category,
        unit_price,
        currency,
        reorder_point,
        over_stock_limit,
        updated_by,
        updated_at,
    )
    assert row is not None
    data = dict(row)
    created = bool(data.pop("created"))
    return PartRecord(**data), created


async def get_part(conn: DbConnection, dealer_id: str, part_number: str) -> PartRecord | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM parts WHERE dealer_id = $1 AND part_number = $2",
        dealer_id,
        part_number,
    )
    return _part(row) if row is not None else None


async def list_parts(
    conn: DbConnection,
    dealer_id: str,
    *,
    category: str | None,
    after: str | None,
    limit: int,
) -> list[PartRecord]:
    """Parts by part number; ``after`` is the previous page's last part number."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM parts
        WHERE dealer_id = $1
          AND ($2::text IS NULL OR category = $2)
          AND ($3::text IS NULL OR part_number > $3)
        ORDER BY part_number
        LIMIT $4
        """,
        dealer_id,
        category,
        after,
        limit,
    )
    return [_part(row) for row in rows]


async def parts_for_update(
    conn: DbConnection, dealer_id: str, part_numbers: Sequence[str]
) -> dict[str, PartRecord]:
    """The named parts, locked for the transaction (in part-number order: no deadlock)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM parts WHERE dealer_id = $1 AND part_number = ANY($2::text[]) "
        "ORDER BY part_number FOR UPDATE",
        dealer_id,
        sorted(set(part_numbers)),
    )
    return {row["part_number"]: _part(row) for row in rows}


async def reserve(
    conn: DbConnection, dealer_id: str, part_number: str, quantity: int, at: datetime
) -> PartRecord | None:
    """Reserve ``quantity`` if that many are available, decided by the UPDATE itself (a
    concurrent reservation waits for the row and re-checks); None when not (or no such
    part): the line is back-ordered."""
    row = await conn.fetchrow(
        f"""
        UPDATE parts SET reserved = reserved + $3, updated_at = $4
        WHERE dealer_id = $1 AND part_number = $2 AND on_hand - reserved >= $3
        RETURNING {_COLUMNS}
        """,
        dealer_id,
        part_number,
        quantity,
        at,
    )
    return _part(row) if row is not None else None


async def save_reservation(
    conn: DbConnection,
    *,
    dealer_id: str,
    repair_order_id: uuid.UUID,
    item_id: str,
    part_number: str,
    quantity: int,
    status: str,
    at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO part_reservations (dealer_id, repair_order_id, item_id, part_number, "
        "quantity, status, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        dealer_id,
        repair_order_id,
        item_id,
        part_number,
        quantity,
        status,
        at,
    )


@dataclass(frozen=True, kw_only=True)
class ReservationRecord:
    item_id: str
    part_number: str
    quantity: int
    status: str
    recorded_at: datetime


async def reservations_of(
    conn: DbConnection, dealer_id: str, repair_order_id: uuid.UUID
) -> list[ReservationRecord]:
    rows = await conn.fetch(
        "SELECT item_id, part_number, quantity, status, recorded_at FROM part_reservations "
        "WHERE dealer_id = $1 AND repair_order_id = $2 ORDER BY item_id",
        dealer_id,
        repair_order_id,
    )
    return [ReservationRecord(**dict(row)) for row in rows]


async def record_count(
    conn: DbConnection,
    *,
    dealer_id: str,
    stock_count_id: uuid.UUID,
    part_number: str,
    counted: int,
    on_hand_before: int,
    reason: str,
    recorded_by: str | None,
    at: datetime,
) -> PartRecord:
    """Set on hand to the counted quantity and record the adjustment with its reason."""
    await conn.execute(
        "INSERT INTO stock_adjustments (dealer_id, stock_count_id, part_number, counted, "
        "on_hand_before, adjustment, reason, recorded_by, recorded_at) "
        "VALUES ($1, $2, $3, $4, $5, $4::integer - $5::integer, $6, $7, $8)",
        dealer_id,
        stock_count_id,
        part_number,
        counted,
        on_hand_before,
        reason,
        recorded_by,
        at,
    )
    row = await conn.fetchrow(
        f"UPDATE parts SET on_hand = $3, updated_at = $4 "
        f"WHERE dealer_id = $1 AND part_number = $2 RETURNING {_COLUMNS}",
        dealer_id,
        part_number,
        counted,
        at,
    )
    assert row is not None
    return _part(row)


@dataclass(frozen=True, kw_only=True)
class AdjustmentRecord:
    part_number: str
    counted: int
    on_hand_before: int
    adjustment: int
    reason: str
    recorded_by: str | None
    recorded_at: datetime


async def adjustments_of(
    conn: DbConnection, dealer_id: str, stock_count_id: uuid.UUID
) -> list[AdjustmentRecord]:
    rows = await conn.fetch(
        "SELECT part_number, counted, on_hand_before, adjustment, reason, recorded_by, "
        "recorded_at FROM stock_adjustments WHERE dealer_id = $1 AND stock_count_id = $2 "
        "ORDER BY part_number",
        dealer_id,
        stock_count_id,
    )
    return [AdjustmentRecord(**dict(row)) for row in rows]


async def reservation_states_for_update(
    conn: DbConnection, dealer_id: str, repair_order_id: uuid.UUID
) -> dict[str, ReservationRecord]:
    """The order's reservations by line, locked for the transaction."""
    rows = await conn.fetch(
        "SELECT item_id, part_number, quantity, status, recorded_at FROM part_reservations "
        "WHERE dealer_id = $1 AND repair_order_id = $2 ORDER BY item_id FOR UPDATE",
        dealer_id,
        repair_order_id,
    )
    return {row["item_id"]: ReservationRecord(**dict(row)) for row in rows}


#: How each move of a reserved/issued line changes the part's stock (on hand, reserved).
_STOCK_CHANGE = {
    "issued": "on_hand = on_hand - $3, reserved = reserved - $3",
    "returned": "on_hand = on_hand + $3",
    "released": "reserved = reserved - $3",
}


async def move_reservation(
    conn: DbConnection,
    *,
    dealer_id: str,
    repair_order_id: uuid.UUID,
    reservation: ReservationRecord,
    to: str,
    at: datetime,
) -> None:
    """Move one line to ``to`` (issued, returned, released) and change the stock so."""
    await conn.execute(
        f"UPDATE parts SET {_STOCK_CHANGE[to]}, updated_at = $4 "
        "WHERE dealer_id = $1 AND part_number = $2",
        dealer_id,
        reservation.part_number,
        reservation.quantity,
        at,
    )
    await conn.execute(
        "UPDATE part_reservations SET status = $4, recorded_at = $5 "
        "WHERE dealer_id = $1 AND repair_order_id = $2 AND item_id = $3",
        dealer_id,
        repair_order_id,
        reservation.item_id,
        to,
        at,
    )


@dataclass(frozen=True, kw_only=True)
class PurchaseOrderLine:
    part_number: str
    quantity: int
    unit_cost: Decimal
    currency: str
    received: int | None = None


@dataclass(frozen=True, kw_only=True)
class PurchaseOrderRecord:
    dealer_id: str
    id: uuid.UUID
    supplier: str
    status: str
    ordered_by: str | None
    ordered_at: datetime
    received_by: str | None
    received_at: datetime | None
    lines: tuple[PurchaseOrderLine, ...] = ()


async def insert_purchase_order(conn: DbConnection, po: PurchaseOrderRecord) -> bool:
    """Insert the order and its lines; False (nothing written) when the dealer has an
    order with this id already."""
    inserted = await conn.fetchval(
        "INSERT INTO purchase_orders (dealer_id, id, supplier, status, ordered_by, ordered_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (dealer_id, id) DO NOTHING RETURNING true",
        po.dealer_id,
        po.id,
        po.supplier,
        po.status,
        po.ordered_by,
        po.ordered_at,
    )
    if not inserted:
        return False
    await conn.executemany(
        "INSERT INTO purchase_order_lines (dealer_id, purchase_order_id, part_number, "
        "quantity, unit_cost, currency) VALUES ($1, $2, $3, $4, $5, $6)",
        [
            (po.dealer_id, po.id, line.part_number, line.quantity, line.unit_cost, line.currency)
            for line in po.lines
        ],
    )
    return True


async def get_purchase_order(
    conn: DbConnection, dealer_id: str, po_id: uuid.UUID, *, for_update: bool = False
) -> PurchaseOrderRecord | None:
    row = await conn.fetchrow(
        "SELECT dealer_id, id, supplier, status, ordered_by, ordered_at, received_by, "
        "received_at FROM purchase_orders WHERE dealer_id = $1 AND id = $2"
        + (" FOR UPDATE" if for_update else ""),
        dealer_id,
        po_id,
    )
    if row is None:
        return None
    lines = await conn.fetch(
        "SELECT part_number, quantity, unit_cost, currency, received FROM purchase_order_lines "
        "WHERE dealer_id = $1 AND purchase_order_id = $2 ORDER BY part_number",
        dealer_id,
        po_id,
    )
    return PurchaseOrderRecord(
        **dict(row), lines=tuple(PurchaseOrderLine(**dict(line)) for line in lines)
    )


async def receive_purchase_order(
    conn: DbConnection,
    dealer_id: str,
    po_id: uuid.UUID,
    received: dict[str, int],
    *,
    by: str | None,
    at: datetime,
) -> list[PartRecord]:
    """Record the receipt and add the received quantities to on hand."""
    await conn.execute(
        "UPDATE purchase_orders SET status = 'received', received_by = $3, received_at = $4 "
        "WHERE dealer_id = $1 AND id = $2",
        dealer_id,
        po_id,
        by,
        at,
    )
    parts = []
    for number, quantity in sorted(received.items()):
        await conn.execute(
            "UPDATE purchase_order_lines SET received = $4 "
            "WHERE dealer_id = $1 AND purchase_order_id = $2 AND part_number = $3",
            dealer_id,
            po_id,
            number,
            quantity,
        )
        row = await conn.fetchrow(
            f"UPDATE parts SET on_hand = on_hand + $3, updated_at = $4 "
            f"WHERE dealer_id = $1 AND part_number = $2 RETURNING {_COLUMNS}",
            dealer_id,
            number,
            quantity,
            at,
        )
        if row is not None:
            parts.append(_part(row))
    return parts
