"""All SQL of the sales service (asyncpg). Every statement is scoped by dealer_id.

Functions take the caller's connection (inside the request's transaction) and return
plain dicts with JSON columns decoded, so use cases never see SQL or asyncpg records.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from dealerflow.runtime.db import DbConnection

Row = dict[str, Any]

_JSON_COLUMNS = frozenset(
    {"vehicle", "lines", "payment", "loan", "contact", "terms", "changed_fields", "checklist"}
)


def row_dict(record: asyncpg.Record | None) -> Row | None:
    if record is None:
        return None
    return {
        key: (json.loads(value) if key in _JSON_COLUMNS and isinstance(value, str) else value)
        for key, value in record.items()
    }


def row_dicts(records: Sequence[asyncpg.Record]) -> list[Row]:
    return [r for r in (row_dict(rec) for rec in records) if r is not None]


def to_json(value: object) -> str:
    return json.dumps(value, default=str, sort_keys=True)


# --- contracts ------------------------------------------------------------------------


async def insert_contract(conn: DbConnection, c: Mapping[str, Any]) -> None:
    """Insert version 1 of a contract; raises UniqueViolationError if the id is taken."""
    await conn.execute(
        """
        INSERT INTO contracts (dealer_id, id, customer_id, version, status, quote_id, lead_id,
            consultant_id, contact, address, identity_verified, model, configuration, colour,
            vin, price, currency, payment, planned_delivery_on, signed_at, updated_at)
        VALUES ($1, $2, $3, 1, 'active', $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, $13,
            $14, $15, $16::jsonb, $17, $18, $18)
        """,
        c["dealer_id"],
        c["id"],
        c["customer_id"],
        c["quote_id"],
        c["lead_id"],
        c["consultant_id"],
        to_json(c["contact"]),
        c["address"],
        c["identity_verified"],
        c["model"],
        c["configuration"],
        c["colour"],
        c["vin"],
        c["price"],
        c["currency"],
        to_json(c["payment"]),
        c["planned_delivery_on"],
        c["signed_at"],
    )


async def get_contract(
    conn: DbConnection, dealer_id: str, contract_id: uuid.UUID, *, for_update: bool = False
) -> Row | None:
    """The contract, or None; ``for_update`` locks it until the transaction ends, so
    concurrent payments, amendments and the delivery of one contract run one at a time."""
    sql = "SELECT * FROM contracts WHERE dealer_id = $1 AND id = $2"
    if for_update:
        sql += " FOR UPDATE"
    return row_dict(await conn.fetchrow(sql, dealer_id, contract_id))


async def update_contract_terms(
    conn: DbConnection,
    dealer_id: str,
    contract_id: uuid.UUID,
    *,
    version: int,
    model: str,
    configuration: str,
    colour: str,
    vin: str | None,
    price: Decimal,
    payment: Mapping[str, Any],
    planned_delivery_on: date,
    address: str,
    at: datetime,
) -> None:
    await conn.execute(
        """
        UPDATE contracts SET version = $3, model = $4, configuration = $5, colour = $6,
            vin = $7, price = $8, payment = $9::jsonb, planned_delivery_on = $10,
            address = $11, updated_at = $12
        WHERE dealer_id = $1 AND id = $2
        """,
        dealer_id,
        contract_id,
        version,
        model,
        configuration,
        colour,
        vin,
        price,
        to_json(payment),
        planned_delivery_on,
        address,
        at,
    )


async def mark_contract_cancelled(
    conn: DbConnection,
    dealer_id: str,
    contract_id: uuid.UUID,
    *,
    version: int,
    reason: str,
    at: datetime,
) -> None:
    await conn.execute(
        """
        UPDATE contracts SET status = 'cancelled', version = $3, cancel_reason = $4,
            cancelled_at = $5, updated_at = $5
        WHERE dealer_id = $1 AND id = $2
        """,
        dealer_id,
        contract_id,
        version,
        reason,
        at,
    )


async def mark_contract_delivered(
    conn: DbConnection, dealer_id: str, contract_id: uuid.UUID, *, at: datetime
) -> None:
    await conn.execute(
        "UPDATE contracts SET status = 'delivered', delivered_at = $3, updated_at = $3 "
        "WHERE dealer_id = $1 AND id = $2",
        dealer_id,
        contract_id,
        at,
    )


async def insert_contract_version(
    conn: DbConnection,
    *,
    dealer_id: str,
    contract_id: uuid.UUID,
    version: int,
    status: str,
    terms: Mapping[str, Any],
    changed_fields: Sequence[str],
    reason: str | None,
    effective_at: datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO contract_versions (dealer_id, contract_id, version, status, terms,
            changed_fields, reason, effective_at)
        VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8)
        """,
        dealer_id,
        contract_id,
        version,
        status,
        to_json(terms),
        to_json(list(changed_fields)),
        reason,
        effective_at,
    )


async def list_contract_versions(
    conn: DbConnection, dealer_id: str, contract_id: uuid.UUID
) -> list[Row]:
    return row_dicts(
        await conn.fetch(
            "SELECT * FROM contract_versions WHERE dealer_id = $1 AND contract_id = $2 "
            "ORDER BY version",
            dealer_id,
            contract_id,
        )
    )


async def list_contracts(
    conn: DbConnection,
    dealer_id: str,
    *,
    status: str | None,
    consultant_id: str | None,
    customer_id: uuid.UUID | None,
    vin: str | None,
    signed_from: datetime | None,
    signed_to: datetime | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Row]:
    """Contracts newest first; ``after`` is the (signed_at, id) of the previous page's
    last row. Filters that are None do not apply."""
    return row_dicts(
        await conn.fetch(
            """
            SELECT * FROM contracts
            WHERE dealer_id = $1
              AND ($2::text IS NULL OR status = $2)
              AND ($3::text IS NULL OR consultant_id = $3)
              AND ($4::uuid IS NULL OR customer_id = $4)
              AND ($5::text IS NULL OR vin = $5)
              AND ($6::timestamptz IS NULL OR signed_at >= $6)
              AND ($7::timestamptz IS NULL OR signed_at < $7)
              AND ($8::timestamptz IS NULL OR (signed_at, id) < ($8, $9::uuid))
            ORDER BY signed_at DESC, id DESC
            LIMIT $10
            """,
            dealer_id,
            status,
            consultant_id,
            customer_id,
            vin,
            signed_from,
            signed_to,
            after[0] if after else None,
            after[1] if after else None,
            limit,
        )
    )


# --- payments, invoices ---------------------------------------------------------------


async def insert_payment(conn: DbConnection, p: Mapping[str, Any]) -> None:
    await conn.execute(
        """
        INSERT INTO payments (dealer_id, id, contract_id, kind, method, amount, currency,
            confirmed, reason, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        """,
        p["dealer_id"],
        p["id"],
        p["contract_id"],
        p["kind"],
        p["method"],
        p["amount"],
        p["currency"],
        p["confirmed"],
        p["reason"],
        p["recorded_at"],
    )


async def list_payments(conn: DbConnection, dealer_id: str, contract_id: uuid.UUID) -> list[Row]:
    return row_dicts(
        await conn.fetch(
            "SELECT * FROM payments WHERE dealer_id = $1 AND contract_id = $2 "
            "ORDER BY recorded_at, id",
            dealer_id,
            contract_id,
        )
    )


async def get_invoice(conn: DbConnection, dealer_id: str, contract_id: uuid.UUID) -> Row | None:
    return row_dict(
        await conn.fetchrow(
            "SELECT * FROM invoices WHERE dealer_id = $1 AND contract_id = $2",
            dealer_id,
            contract_id,
        )
    )


async def invoice_number_taken(conn: DbConnection, dealer_id: str, invoice_number: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT true FROM invoices WHERE dealer_id = $1 AND invoice_number = $2",
            dealer_id,
            invoice_number,
        )
    )


async def insert_invoice(conn: DbConnection, inv: Mapping[str, Any]) -> None:
    await conn.execute(
        """
        INSERT INTO invoices (dealer_id, id, contract_id, invoice_number, invoice_title,
            tax_number, amount, tax_amount, currency, issued_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        """,
        inv["dealer_id"],
        inv["id"],
        inv["contract_id"],
        inv["invoice_number"],
        inv["invoice_title"],
        inv["tax_number"],
        inv["amount"],
        inv["tax_amount"],
        inv["currency"],
        inv["issued_at"],
    )


# --- deliveries -----------------------------------------------------------------------


async def get_delivery(conn: DbConnection, dealer_id: str, contract_id: uuid.UUID) -> Row | None:
    return row_dict(
        await conn.fetchrow(
            "SELECT * FROM deliveries WHERE dealer_id = $1 AND contract_id = $2",
            dealer_id,
            contract_id,
        )
    )


async def schedule_delivery(
    conn: DbConnection,
    *,
    dealer_id: str,
    delivery_id: uuid.UUID,
    contract_id: uuid.UUID,
    scheduled_for: datetime,
    location: str | None,
) -> uuid.UUID:
    """Create or move the contract's delivery appointment; returns its (stable) id."""
    result: uuid.UUID = await conn.fetchval(
        """
        INSERT INTO deliveries (dealer_id, id, contract_id, status, scheduled_for, location)
        VALUES ($1, $2, $3, 'scheduled', $4, $5)
        ON CONFLICT (dealer_id, contract_id)
        DO UPDATE SET scheduled_for = EXCLUDED.scheduled_for, location = EXCLUDED.location
        RETURNING id
        """,
        dealer_id,
        delivery_id,
        contract_id,
        scheduled_for,
        location,
    )
    return result


async def record_delivery(
    conn: DbConnection,
    *,
    dealer_id: str,
    delivery_id: uuid.UUID,
    contract_id: uuid.UUID,
    delivered_at: datetime,
    odometer_km: int,
    checklist: Mapping[str, Any],
) -> uuid.UUID:
    """Mark the delivery done (creating it if it was never scheduled); returns its id."""
    result: uuid.UUID = await conn.fetchval(
        """
        INSERT INTO deliveries (dealer_id, id, contract_id, status, delivered_at, odometer_km,
            checklist)
        VALUES ($1, $2, $3, 'delivered', $4, $5, $6::jsonb)
        ON CONFLICT (dealer_id, contract_id)
        DO UPDATE SET status = 'delivered', delivered_at = EXCLUDED.delivered_at,
            odometer_km = EXCLUDED.odometer_km, checklist = EXCLUDED.checklist
        RETURNING id
        """,
        dealer_id,
        delivery_id,
        contract_id,
        delivered_at,
        odometer_km,
        to_json(checklist),
    )
    return result
