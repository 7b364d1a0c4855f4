"""All SQL of sales contracts: contracts, versions, payments, invoices, deliveries
(quotes and test drives: :mod:`repository_showroom`). Every statement is scoped by dealer_id.

Functions take the caller's connection (inside the use case's transaction) and return
typed records (:mod:`records`); a key that is taken comes back as False, never as a
driver exception.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import asyncpg
from pydantic_core import to_jsonable_python

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.events.sales import PaymentPlan
from dealerflow.runtime.db import DbConnection
from dealerflow.sales import repository_finance, repository_pdi
from dealerflow.sales.domain import ContractStatus, PaymentKind
from dealerflow.sales.records import (
    ContractFile,
    ContractRecord,
    ContractVersionRecord,
    DeliveryRecord,
    InvoiceRecord,
    PaymentRecord,
)


def to_json(value: object) -> str:
    """A jsonb parameter (contract value types, UUIDs, dates and Decimals included)."""
    return json.dumps(to_jsonable_python(value), sort_keys=True)


def from_json(value: str | None) -> Any:
    """A jsonb column read as text (asyncpg has no jsonb codec by default)."""
    return None if value is None else json.loads(value)


# --- contracts --------------------------------------------------------------------------

_CONTRACT_COLUMNS = """dealer_id, id, customer_id, version, status, quote_id, lead_id,
    consultant_id, contact::text AS contact, address, identity_verified, model, configuration,
    colour, vin, price, currency, payment::text AS payment, planned_delivery_on, signed_at,
    updated_at, cancelled_at, cancel_reason, delivered_at"""


def _contract(row: asyncpg.Record) -> ContractRecord:
    return ContractRecord(
        **dict(row)
        | {
            "status": ContractStatus(row["status"]),
            "contact": ContactSnapshot.model_validate_json(row["contact"]),
            "payment": PaymentPlan.model_validate_json(row["payment"]),
        }
    )


async def insert_contract(conn: DbConnection, c: ContractRecord) -> bool:
    """Store version 1 of a contract; False when its id is taken already."""
    inserted = await conn.fetchval(
        """
        INSERT INTO contracts (dealer_id, id, customer_id, version, status, quote_id, lead_id,
            consultant_id, contact, address, identity_verified, model, configuration, colour,
            vin, price, currency, payment, planned_delivery_on, signed_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14, $15,
            $16, $17, $18::jsonb, $19, $20, $21)
        ON CONFLICT (dealer_id, id) DO NOTHING
        RETURNING true
        """,
        c.dealer_id,
        c.id,
        c.customer_id,
        c.version,
        c.status.value,
        c.quote_id,
        c.lead_id,
        c.consultant_id,
        to_json(c.contact),
        c.address,
        c.identity_verified,
        c.model,
        c.configuration,
        c.colour,
        c.vin,
        c.price,
        c.currency,
        to_json(c.payment),
        c.planned_delivery_on,
        c.signed_at,
        c.updated_at,
    )
    return bool(inserted)


async def get_contract(
    conn: DbConnection, dealer_id: str, contract_id: uuid.UUID, *, for_update: bool = False
) -> ContractRecord | None:
    """The contract, or None; ``for_update`` locks it until the transaction ends, so
    concurrent payments, amendments and the delivery of one contract run one at a time."""
    sql = f"SELECT {_CONTRACT_COLUMNS} FROM contracts WHERE dealer_id = $1 AND id = $2"
    if for_update:
        sql += " FOR UPDATE"
    row = await conn.fetchrow(sql, dealer_id, contract_id)
    return None if row is None else _contract(row)


async def contract_file(conn: DbConnection, contract: ContractRecord) -> ContractFile:
    """Everything on file for ``contract``: ledger rows, versions, invoice, delivery, PDI."""
    return ContractFile(
        contract=contract,
        payments=tuple(await list_payments(conn, contract.dealer_id, contract.id)),
        versions=tuple(await list_contract_versions(conn, contract.dealer_id, contract.id)),
        invoice=await get_invoice(conn, contract.dealer_id, contract.id),
        delivery=await get_delivery(conn, contract.dealer_id, contract.id),
        loan_decision=await repository_finance.get_loan_decision(
            conn, contract.dealer_id, contract.id
        ),
        pdi=await repository_pdi.get_pdi(conn, contract.dealer_id, contract.id),
    )


async def update_contract_terms(conn: DbConnection, c: ContractRecord) -> None:
    """Write an amended contract's version and terms."""
    await conn.execute(
        """
        UPDATE contracts SET version = $3, model = $4, configuration = $5, colour = $6,
            vin = $7, price = $8, payment = $9::jsonb, planned_delivery_on = $10,
            address = $11, updated_at = $12
        WHERE dealer_id = $1 AND id = $2
        """,
        c.dealer_id,
        c.id,
        c.version,
        c.model,
        c.configuration,
        c.colour,
        c.vin,
        c.price,
        to_json(c.payment),
        c.planned_delivery_on,
        c.address,
        c.updated_at,
    )


async def mark_contract_cancelled(
    conn: DbConnection, c: ContractRecord, *, version: int, reason: str, at: datetime
) -> None:
    await conn.execute(
        """
        UPDATE contracts SET status = 'cancelled', version = $3, cancel_reason = $4,
            cancelled_at = $5, updated_at = $5
        WHERE dealer_id = $1 AND id = $2
        """,
        c.dealer_id,
        c.id,
        version,
        reason,
        at,
    )


async def mark_contract_delivered(conn: DbConnection, c: ContractRecord, *, at: datetime) -> None:
    await conn.execute(
        "UPDATE contracts SET status = 'delivered', delivered_at = $3, updated_at = $3 "
        "WHERE dealer_id = $1 AND id = $2",
        c.dealer_id,
        c.id,
        at,
    )


# Fields of a command that are not terms of the contract (the buyer is on the contract).
_NOT_TERMS = {"request", "customer", "address", "id_document_verified"}


async def insert_contract_version(
    conn: DbConnection, c: ContractRecord, v: ContractVersionRecord, *, agreed: object
) -> None:
    """Put a version of ``c`` on record with what was ``agreed`` (the command that made
    it: its terms as given, the buyer's personal data and the retry key left out)."""
    terms = to_jsonable_python(agreed, exclude=_NOT_TERMS, exclude_none=True)
    await conn.execute(
        """
        INSERT INTO contract_versions (dealer_id, contract_id, version, status, terms,
            changed_fields, reason, effective_at)
        VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8)
        """,
        c.dealer_id,
        c.id,
        v.version,
        v.status.value,
        to_json({k: v for k, v in terms.items() if v is not None}),
        to_json(list(v.changed_fields)),
        v.reason,
        v.effective_at,
    )


async def list_contract_versions(
    conn: DbConnection, dealer_id: str, contract_id: uuid.UUID
) -> list[ContractVersionRecord]:
    rows = await conn.fetch(
        "SELECT version, status, changed_fields::text AS changed_fields, reason, effective_at"
        " FROM contract_versions WHERE dealer_id = $1 AND contract_id = $2 ORDER BY version",
        dealer_id,
        contract_id,
    )
    return [
        ContractVersionRecord(
            version=r["version"],
            status=ContractStatus(r["status"]),
            changed_fields=tuple(from_json(r["changed_fields"])),
            reason=r["reason"],
            effective_at=r["effective_at"],
        )
        for r in rows
    ]


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
) -> list[ContractRecord]:
    """Contracts newest first; ``after`` is the (signed_at, id) of the previous page's
    last row. Filters that are None do not apply."""
    rows = await conn.fetch(
        f"""
        SELECT {_CONTRACT_COLUMNS} FROM contracts
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
    return [_contract(r) for r in rows]


# --- payments, invoices -----------------------------------------------------------------


async def insert_payment(conn: DbConnection, p: PaymentRecord) -> bool:
    """Record a ledger row; False when its id is taken already."""
    inserted = await conn.fetchval(
        """
        INSERT INTO payments (dealer_id, id, contract_id, kind, method, amount, currency,
            confirmed, reason, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (dealer_id, id) DO NOTHING
        RETURNING true
        """,
        p.dealer_id,
        p.id,
        p.contract_id,
        p.kind.value,
        p.method,
        p.amount,
        p.currency,
        p.confirmed,
        p.reason,
        p.recorded_at,
    )
    return bool(inserted)


async def list_payments(
    conn: DbConnection, dealer_id: str, contract_id: uuid.UUID
) -> list[PaymentRecord]:
    rows = await conn.fetch(
        "SELECT dealer_id, id, contract_id, kind, method, amount, currency, confirmed, reason,"
        " recorded_at, confirmed_by, confirmed_at"
        " FROM payments WHERE dealer_id = $1 AND contract_id = $2"
        " ORDER BY recorded_at, id",
        dealer_id,
        contract_id,
    )
    return [PaymentRecord(**dict(r) | {"kind": PaymentKind(r["kind"])}) for r in rows]


_INVOICE_COLUMNS = """dealer_id, id, contract_id, invoice_number, invoice_title, tax_number,
    amount, tax_amount, currency, issued_at"""


async def get_invoice(
    conn: DbConnection, dealer_id: str, contract_id: uuid.UUID
) -> InvoiceRecord | None:
    row = await conn.fetchrow(
        f"SELECT {_INVOICE_COLUMNS} FROM invoices WHERE dealer_id = $1 AND contract_id = $2",
        dealer_id,
        contract_id,
    )
    return None if row is None else InvoiceRecord(**dict(row))


async def invoice_number_taken(conn: DbConnection, dealer_id: str, invoice_number: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT true FROM invoices WHERE dealer_id = $1 AND invoice_number = $2",
            dealer_id,
            invoice_number,
        )
    )


async def insert_invoice(conn: DbConnection, inv: InvoiceRecord) -> None:
    await conn.execute(
        f"INSERT INTO invoices ({_INVOICE_COLUMNS})"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        inv.dealer_id,
        inv.id,
        inv.contract_id,
        inv.invoice_number,
        inv.invoice_title,
        inv.tax_number,
        inv.amount,
        inv.tax_amount,
        inv.currency,
        inv.issued_at,
    )


# --- deliveries -------------------------------------------------------------------------


async def get_delivery(
    conn: DbConnection, dealer_id: str, contract_id: uuid.UUID
) -> DeliveryRecord | None:
    row = await conn.fetchrow(
        "SELECT id, contract_id, status, scheduled_for, location, delivered_at, odometer_km,"
        " (checklist -> 'documents')::text AS documents"
        " FROM deliveries WHERE dealer_id = $1 AND contract_id = $2",
        dealer_id,
        contract_id,
    )
    if row is None:
        return None
    documents = from_json(row["documents"])  # None until delivered
    handed_over = None if documents is None else tuple(documents)
    return DeliveryRecord(**dict(row) | {"documents": handed_over})


async def schedule_delivery(
    conn: DbConnection,
    c: ContractRecord,
    *,
    delivery_id: uuid.UUID,
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
        c.dealer_id,
        delivery_id,
        c.id,
        scheduled_for,
        location,
    )
    return result


async def record_delivery(
    conn: DbConnection,
    c: ContractRecord,
    *,
    delivery_id: uuid.UUID,
    delivered_at: datetime,
    odometer_km: int,
    documents: tuple[str, ...],
) -> uuid.UUID:
    """Mark the delivery done (creating it if it was never scheduled); returns its id.
    The checklist on record: PDI passed and the documents handed over."""
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
        c.dealer_id,
        delivery_id,
        c.id,
        delivered_at,
        odometer_km,
        to_json({"pdi_passed": True, "documents": list(documents)}),
    )
    return result
