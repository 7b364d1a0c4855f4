"""SQL of the showroom: quotes and test-drive bookings. Every statement is scoped by
dealer_id (see repository for the conventions)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dealerflow.runtime.db import DbConnection
from dealerflow.sales.repository import Row, row_dict, row_dicts, to_json

# --- quotes ---------------------------------------------------------------------------


async def insert_quote(conn: DbConnection, quote: Mapping[str, Any]) -> None:
    await conn.execute(
        """
        INSERT INTO quotes (dealer_id, id, customer_id, lead_id, consultant_id, currency,
            vehicle, new_energy, lines, payment, loan, total, needs_approval, approval_id,
            valid_until, issued_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9::jsonb, $10::jsonb, $11::jsonb,
            $12, $13, $14, $15, $16)
        """,
        quote["dealer_id"],
        quote["id"],
        quote["customer_id"],
        quote["lead_id"],
        quote["consultant_id"],
        quote["currency"],
        to_json(quote["vehicle"]),
        quote["new_energy"],
        to_json(quote["lines"]),
        to_json(quote["payment"]),
        None if quote["loan"] is None else to_json(quote["loan"]),
        quote["total"],
        quote["needs_approval"],
        quote["approval_id"],
        quote["valid_until"],
        quote["issued_at"],
    )


async def get_quote(conn: DbConnection, dealer_id: str, quote_id: uuid.UUID) -> Row | None:
    return row_dict(
        await conn.fetchrow(
            "SELECT * FROM quotes WHERE dealer_id = $1 AND id = $2", dealer_id, quote_id
        )
    )


# --- test drives ----------------------------------------------------------------------


async def lock_test_drive_vehicle(conn: DbConnection, dealer_id: str, vehicle_id: str) -> None:
    """Serialise bookings of one test-drive vehicle until the transaction ends, so two
    concurrent requests cannot both see the slot free (no double booking)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('test-drive:' || $1 || ':' || $2, 0))",
        dealer_id,
        vehicle_id,
    )


async def bookings_of_vehicle_between(
    conn: DbConnection,
    dealer_id: str,
    vehicle_id: str,
    *,
    starts_before: datetime,
    ends_after: datetime,
) -> list[Row]:
    """Live bookings of the vehicle that end after ``ends_after`` and start before
    ``starts_before`` (the caller widens the window by the turnaround)."""
    return row_dicts(
        await conn.fetch(
            """
            SELECT * FROM test_drives
            WHERE dealer_id = $1 AND vehicle_id = $2 AND NOT cancelled
              AND starts_at < $3 AND ends_at > $4
            ORDER BY starts_at
            """,
            dealer_id,
            vehicle_id,
            starts_before,
            ends_after,
        )
    )


async def insert_test_drive(conn: DbConnection, td: Mapping[str, Any]) -> None:
    await conn.execute(
        """
        INSERT INTO test_drives (dealer_id, id, customer_id, lead_id, vehicle_id, model,
            consultant_id, starts_at, ends_at, route, licence_number, licence_expires,
            contact, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14)
        """,
        td["dealer_id"],
        td["id"],
        td["customer_id"],
        td["lead_id"],
        td["vehicle_id"],
        td["model"],
        td["consultant_id"],
        td["starts_at"],
        td["ends_at"],
        td["route"],
        td["licence_number"],
        td["licence_expires"],
        to_json(td["contact"]),
        td["created_at"],
    )


async def get_test_drive(
    conn: DbConnection, dealer_id: str, test_drive_id: uuid.UUID
) -> Row | None:
    return row_dict(
        await conn.fetchrow(
            "SELECT * FROM test_drives WHERE dealer_id = $1 AND id = $2", dealer_id, test_drive_id
        )
    )
