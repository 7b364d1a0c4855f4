"""SQL of the showroom: quotes and test-drive bookings. Every statement is scoped by
dealer_id (see :mod:`repository` for the conventions)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal

import asyncpg

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.events.sales import ContractVehicle, PaymentPlan
from dealerflow.runtime.db import DbConnection
from dealerflow.sales.records import QuoteLoanRecord, QuoteRecord, TestDriveRecord
from dealerflow.sales.repository import from_json, to_json

# --- quotes -----------------------------------------------------------------------------

# The quote's amounts, stored as decimal strings in its ``lines`` column.
_LINES = (
    "vehicle_price",
    "discount",
    "transaction_price",
    "purchase_tax",
    "insurance",
    "registration_fee",
    "accessories_total",
    "extended_warranty",
    "total",
    "due_upfront",
)
_LOAN_AMOUNTS = (
    "principal",
    "down_payment",
    "monthly_instalment",
    "final_instalment",
    "total_repayment",
    "total_interest",
)


async def insert_quote(conn: DbConnection, q: QuoteRecord) -> None:
    lines = {name: str(getattr(q, name)) for name in _LINES}
    loan: dict[str, object] | None = None
    if q.loan is not None:
        loan = {name: str(getattr(q.loan, name)) for name in _LOAN_AMOUNTS}
        loan |= {
            "term_months": q.loan.term_months,
            "annual_rate_percent": str(q.loan.annual_rate_percent),
        }
    await conn.execute(
        """
        INSERT INTO quotes (dealer_id, id, customer_id, lead_id, consultant_id, currency,
            vehicle, new_energy, lines, payment, loan, total, needs_approval, approval_id,
            valid_until, issued_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9::jsonb, $10::jsonb, $11::jsonb,
            $12, $13, $14, $15, $16)
        """,
        q.dealer_id,
        q.id,
        q.customer_id,
        q.lead_id,
        q.consultant_id,
        q.currency,
        to_json(q.vehicle),
        q.new_energy,
        to_json(lines),
        to_json(q.payment),
        None if loan is None else to_json(loan),
        q.total,
        q.needs_approval,
        q.approval_id,
        q.valid_until,
        q.issued_at,
    )


def _quote(row: asyncpg.Record) -> QuoteRecord:
    columns = dict(row)
    lines = json.loads(columns.pop("lines"))
    loan = from_json(row["loan"])
    return QuoteRecord(
        **columns
        | {name: Decimal(lines[name]) for name in _LINES}
        | {
            "vehicle": ContractVehicle.model_validate_json(row["vehicle"]),
            "payment": PaymentPlan.model_validate_json(row["payment"]),
            "loan": None
            if loan is None
            else QuoteLoanRecord(
                **{name: Decimal(loan[name]) for name in _LOAN_AMOUNTS},
                term_months=loan["term_months"],
                annual_rate_percent=Decimal(loan["annual_rate_percent"]),
            ),
        }
    )


async def get_quote(conn: DbConnection, dealer_id: str, quote_id: uuid.UUID) -> QuoteRecord | None:
    row = await conn.fetchrow(
        "SELECT dealer_id, id, customer_id, lead_id, consultant_id, currency,"
        " vehicle::text AS vehicle, new_energy, lines::text AS lines, payment::text AS payment,"
        " loan::text AS loan, needs_approval, approval_id, valid_until, issued_at"
        " FROM quotes WHERE dealer_id = $1 AND id = $2",
        dealer_id,
        quote_id,
    )
    return None if row is None else _quote(row)


# --- test drives ------------------------------------------------------------------------

_TEST_DRIVE_COLUMNS = """dealer_id, id, customer_id, lead_id, vehicle_id, model, consultant_id,
    starts_at, ends_at, route, licence_number, licence_expires, contact::text AS contact,
    created_at, cancelled, blocked_until, started_at, licence_checked_at, consent_signed_by,
    consent_signed_at, consent_version, completed_at, rating_overall, rating_vehicle,
    rating_consultant, feedback_notes, cancelled_at, cancel_reason"""


def _test_drive(row: asyncpg.Record) -> TestDriveRecord:
    return TestDriveRecord(
        **dict(row) | {"contact": ContactSnapshot.model_validate_json(row["contact"])}
    )


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
) -> list[TestDriveRecord]:
    """Live bookings of the vehicle that end (their turnaround included) after
    ``ends_after`` and start before ``starts_before`` (the caller widens the window by the
    turnaround)."""
    rows = await conn.fetch(
        f"""
        SELECT {_TEST_DRIVE_COLUMNS} FROM test_drives
        WHERE dealer_id = $1 AND vehicle_id = $2 AND NOT cancelled
          AND starts_at < $3 AND blocked_until > $4
        ORDER BY starts_at
        """,
        dealer_id,
        vehicle_id,
        starts_before,
        ends_after,
    )
    return [_test_drive(r) for r in rows]


class SlotTaken(Exception):
    """The database refused the booking: the vehicle is booked then (the exclusion
    constraint test_drives_no_double_booking)."""


async def insert_test_drive(conn: DbConnection, td: TestDriveRecord) -> None:
    """Insert the booking; SlotTaken when it overlaps a live booking of the vehicle (the
    database's exclusion constraint, whatever the caller checked before)."""
    try:
        await _insert_test_drive(conn, td)
    except asyncpg.ExclusionViolationError as exc:
        raise SlotTaken(td.vehicle_id) from exc


async def _insert_test_drive(conn: DbConnection, td: TestDriveRecord) -> None:
    await conn.execute(
        """
        INSERT INTO test_drives (dealer_id, id, customer_id, lead_id, vehicle_id, model,
            consultant_id, starts_at, ends_at, route, licence_number, licence_expires,
            contact, created_at, cancelled, blocked_until)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15,
            $16)
        """,
        td.dealer_id,
        td.id,
        td.customer_id,
        td.lead_id,
        td.vehicle_id,
        td.model,
        td.consultant_id,
        td.starts_at,
        td.ends_at,
        td.route,
        td.licence_number,
        td.licence_expires,
        to_json(td.contact),
        td.created_at,
        td.cancelled,
        td.blocked_until or td.ends_at,
    )


async def get_test_drive(
    conn: DbConnection, dealer_id: str, test_drive_id: uuid.UUID
) -> TestDriveRecord | None:
    row = await conn.fetchrow(
        f"SELECT {_TEST_DRIVE_COLUMNS} FROM test_drives WHERE dealer_id = $1 AND id = $2",
        dealer_id,
        test_drive_id,
    )
    return None if row is None else _test_drive(row)
