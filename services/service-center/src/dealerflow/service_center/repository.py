"""All SQL of the service-center service (asyncpg). Every statement is scoped by dealer_id.

Functions take the caller's connection (inside the request's transaction) and return
plain dicts with JSON columns decoded, so use cases never see SQL or asyncpg records.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from dealerflow.runtime.db import DbConnection

Row = dict[str, Any]

_JSON_COLUMNS = frozenset(
    {
        "concerns",
        "concern_codes",
        "walk_around_findings",
        "contact",
        "diagnosis",
        "quote",
        "approved_item_ids",
        "completed_item_ids",
        "technician_ids",
        "reasons",
    }
)

# Columns a use case may change on a repair order (guards the dynamic UPDATE below).
_UPDATABLE = frozenset(
    {
        "status",
        "diagnosis",
        "quote",
        "approved_item_ids",
        "approved_total",
        "completed_item_ids",
        "technician_ids",
        "work_summary",
        "labour_hours",
        "completed_at",
        "handed_over_at",
        "handover_mileage_km",
        "amount_paid",
        "currency",
        "invoice_number",
        "next_maintenance_due_on",
        "next_maintenance_due_km",
    }
)


def _row(record: asyncpg.Record | None) -> Row | None:
    if record is None:
        return None
    return {
        key: (json.loads(value) if key in _JSON_COLUMNS and isinstance(value, str) else value)
        for key, value in record.items()
    }


def _rows(records: Sequence[asyncpg.Record]) -> list[Row]:
    return [r for r in (_row(rec) for rec in records) if r is not None]


def _json(value: object) -> str:
    return json.dumps(value, default=str)


async def insert_repair_order(conn: DbConnection, ro: Mapping[str, Any]) -> None:
    """Insert a newly opened RO; raises UniqueViolationError if the id is taken."""
    await conn.execute(
        """
        INSERT INTO repair_orders (dealer_id, id, customer_id, service_appointment_id, vin,
            model, advisor_id, work_type, under_warranty, mileage_km, concerns, concern_codes,
            walk_around_findings, contact, status, opened_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb, $13::jsonb,
            $14::jsonb, 'open', $15, $15)
        """,
        ro["dealer_id"],
        ro["id"],
        ro["customer_id"],
        ro["service_appointment_id"],
        ro["vin"],
        ro["model"],
        ro["advisor_id"],
        ro["work_type"],
        ro["under_warranty"],
        ro["mileage_km"],
        _json(ro["concerns"]),
        _json(ro["concern_codes"]),
        _json(ro["walk_around_findings"]),
        _json(ro["contact"]),
        ro["opened_at"],
    )


async def get_repair_order(
    conn: DbConnection, dealer_id: str, repair_order_id: uuid.UUID, *, for_update: bool = False
) -> Row | None:
    """The RO, or None; ``for_update`` locks it until the transaction ends so two steps
    on one RO (say, a quality check and a handover) never interleave."""
    sql = "SELECT * FROM repair_orders WHERE dealer_id = $1 AND id = $2"
    if for_update:
        sql += " FOR UPDATE"
    return _row(await conn.fetchrow(sql, dealer_id, repair_order_id))


async def update_repair_order(
    conn: DbConnection,
    dealer_id: str,
    repair_order_id: uuid.UUID,
    *,
    at: datetime,
    **changes: Any,
) -> None:
    """Set the given columns (JSON ones from Python values) and ``updated_at``."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    names = sorted(changes)
    assignments = ", ".join(
        f"{name} = ${i}" + ("::jsonb" if name in _JSON_COLUMNS else "")
        for i, name in enumerate(names, start=4)
    )
    values = [_json(changes[n]) if n in _JSON_COLUMNS else changes[n] for n in names]
    await conn.execute(
        # Column names come from the _UPDATABLE whitelist, values are parameters.
        f"UPDATE repair_orders SET updated_at = $3, {assignments} WHERE dealer_id = $1 AND id = $2",
        dealer_id,
        repair_order_id,
        at,
        *values,
    )


async def list_repair_orders(
    conn: DbConnection,
    dealer_id: str,
    *,
    status: str | None,
    vin: str | None,
    advisor_id: str | None,
    customer_id: uuid.UUID | None,
    opened_from: datetime | None,
    opened_to: datetime | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Row]:
    """ROs newest first; ``after`` is the (opened_at, id) of the previous page's last row."""
    return _rows(
        await conn.fetch(
            """
            SELECT * FROM repair_orders
            WHERE dealer_id = $1
              AND ($2::text IS NULL OR status = $2)
              AND ($3::text IS NULL OR vin = $3)
              AND ($4::text IS NULL OR advisor_id = $4)
              AND ($5::uuid IS NULL OR customer_id = $5)
              AND ($6::timestamptz IS NULL OR opened_at >= $6)
              AND ($7::timestamptz IS NULL OR opened_at < $7)
              AND ($8::timestamptz IS NULL OR (opened_at, id) < ($8, $9::uuid))
            ORDER BY opened_at DESC, id DESC
            LIMIT $10
            """,
            dealer_id,
            status,
            vin,
            advisor_id,
            customer_id,
            opened_from,
            opened_to,
            after[0] if after else None,
            after[1] if after else None,
            limit,
        )
    )


async def vehicle_history(
    conn: DbConnection, dealer_id: str, vin: str, *, exclude: uuid.UUID | None = None
) -> list[Row]:
    """The vehicle's other repair orders at this dealer, oldest first (odometer history,
    the last maintenance)."""
    return _rows(
        await conn.fetch(
            """
            SELECT id, work_type, mileage_km, opened_at, handed_over_at, handover_mileage_km
            FROM repair_orders
            WHERE dealer_id = $1 AND vin = $2 AND ($3::uuid IS NULL OR id <> $3)
            ORDER BY opened_at
            """,
            dealer_id,
            vin,
            exclude,
        )
    )


async def insert_quality_check(conn: DbConnection, qc: Mapping[str, Any]) -> None:
    await conn.execute(
        """
        INSERT INTO quality_checks (dealer_id, repair_order_id, attempt, passed, reasons,
            repeat_failure, reached_customer, inspector_id, checked_at)
        VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9)
        """,
        qc["dealer_id"],
        qc["repair_order_id"],
        qc["attempt"],
        qc["passed"],
        _json(qc["reasons"]),
        qc["repeat_failure"],
        qc["reached_customer"],
        qc["inspector_id"],
        qc["checked_at"],
    )


async def list_quality_checks(
    conn: DbConnection, dealer_id: str, repair_order_id: uuid.UUID
) -> list[Row]:
    return _rows(
        await conn.fetch(
            "SELECT * FROM quality_checks WHERE dealer_id = $1 AND repair_order_id = $2 "
            "ORDER BY attempt",
            dealer_id,
            repair_order_id,
        )
    )


async def insert_declined_item(conn: DbConnection, item: Mapping[str, Any]) -> None:
    await conn.execute(
        """
        INSERT INTO declined_items (dealer_id, repair_order_id, item_id, vin, description,
            amount, currency, declined_at, follow_up_on)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """,
        item["dealer_id"],
        item["repair_order_id"],
        item["item_id"],
        item["vin"],
        item["description"],
        item["amount"],
        item["currency"],
        item["declined_at"],
        item["follow_up_on"],
    )


async def list_declined_items(
    conn: DbConnection, dealer_id: str, repair_order_id: uuid.UUID
) -> list[Row]:
    return _rows(
        await conn.fetch(
            "SELECT * FROM declined_items WHERE dealer_id = $1 AND repair_order_id = $2 "
            "ORDER BY declined_at, item_id",
            dealer_id,
            repair_order_id,
        )
    )
