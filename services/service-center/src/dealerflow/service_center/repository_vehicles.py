"""SQL of a vehicle's history at a dealer (``usecases_vehicles``), by VIN."""

from __future__ import annotations

import uuid

from dealerflow.runtime.db import DbConnection
from dealerflow.service_center.records import DeclinedItemRecord


async def open_declined_items(
    conn: DbConnection, dealer_id: str, vin: str, *, except_order: uuid.UUID | None = None
) -> list[DeclinedItemRecord]:
    """The vehicle's declined lines not done or closed since (``resolved``), from every
    repair order but ``except_order``, oldest first."""
    rows = await conn.fetch(
        "SELECT repair_order_id, item_id, vin, description, amount, currency, declined_at,"
        " follow_up_on FROM declined_items"
        " WHERE dealer_id = $1 AND upper(vin) = upper($2) AND NOT resolved"
        " AND ($3::uuid IS NULL OR repair_order_id <> $3)"
        " ORDER BY declined_at, item_id",
        dealer_id,
        vin,
        except_order,
    )
    return [DeclinedItemRecord(**dict(row)) for row in rows]
