"""SQL of the parts catalogue and stock (``usecases_parts``), scoped by dealer_id.

Stock changes are single conditional UPDATEs; the table's CHECK keeps on hand >= 0 and
reserved <= on hand whatever runs at the same time."""

from __future__ import annotations

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
