"""SQL of the showroom visit register (with each visit's needs analysis). Every statement
is scoped by dealer_id (see :mod:`repository` for the conventions)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import VisitKind
from dealerflow.contracts.events.sales import VisitNeeds
from dealerflow.runtime.db import DbConnection
from dealerflow.sales.domain_visits import VisitRecord
from dealerflow.sales.repository import to_json

_COLUMNS = """dealer_id, id, customer_id, lead_id, consultant_id, arrived_at, party_size,
    visit_kind, left_at, contact::text AS contact, needs::text AS needs, created_at"""


def _visit(row: asyncpg.Record) -> VisitRecord:
    needs = row["needs"]
    return VisitRecord(
        **dict(row)
        | {
            "visit_kind": VisitKind(row["visit_kind"]),
            "contact": ContactSnapshot.model_validate_json(row["contact"]),
            "needs": None if needs is None else VisitNeeds.model_validate_json(needs),
        }
    )


async def lock_customer_register(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> None:
    """Serialise registrations of one customer until the transaction ends, so two
    concurrent arrivals cannot both count as the first visit."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('visit:' || $1 || ':' || $2, 0))",
        dealer_id,
        str(customer_id),
    )


async def count_visits_before(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID, before: datetime
) -> int:
    """How many visits of the customer the register holds that arrived before ``before``."""
    count = await conn.fetchval(
        "SELECT count(*) FROM showroom_visits"
        " WHERE dealer_id = $1 AND customer_id = $2 AND arrived_at < $3",
        dealer_id,
        customer_id,
        before,
    )
    return int(count)


async def insert_visit(conn: DbConnection, v: VisitRecord) -> None:
    await conn.execute(
        """
        INSERT INTO showroom_visits (dealer_id, id, customer_id, lead_id, consultant_id,
            arrived_at, party_size, visit_kind, left_at, contact, needs, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12)
        """,
        v.dealer_id,
        v.id,
        v.customer_id,
        v.lead_id,
        v.consultant_id,
        v.arrived_at,
        v.party_size,
        v.visit_kind.value,
        v.left_at,
        to_json(v.contact),
        None if v.needs is None else to_json(v.needs),
        v.created_at,
    )


async def get_visit(
    conn: DbConnection, dealer_id: str, visit_id: uuid.UUID, *, for_update: bool = False
) -> VisitRecord | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM showroom_visits WHERE dealer_id = $1 AND id = $2{lock}",
        dealer_id,
        visit_id,
    )
    return None if row is None else _visit(row)


async def set_needs(
    conn: DbConnection, dealer_id: str, visit_id: uuid.UUID, needs: VisitNeeds
) -> None:
    await conn.execute(
        "UPDATE showroom_visits SET needs = $3::jsonb WHERE dealer_id = $1 AND id = $2",
        dealer_id,
        visit_id,
        to_json(needs),
    )


async def set_departure(
    conn: DbConnection, dealer_id: str, visit_id: uuid.UUID, left_at: datetime
) -> None:
    await conn.execute(
        "UPDATE showroom_visits SET left_at = $3 WHERE dealer_id = $1 AND id = $2",
        dealer_id,
        visit_id,
        left_at,
    )


async def visits_of_customer(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID, *, limit: int
) -> list[VisitRecord]:
    """The customer's visits, newest first (the history the consultant reads)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM showroom_visits WHERE dealer_id = $1 AND customer_id = $2"
        " ORDER BY arrived_at DESC, id LIMIT $3",
        dealer_id,
        customer_id,
        limit,
    )
    return [_visit(r) for r in rows]


async def latest_expected_yearly_km(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> int | None:
    """The yearly mileage of the customer's latest needs analysis that states one."""
    km = await conn.fetchval(
        "SELECT (needs->>'expected_yearly_km')::int FROM showroom_visits"
        " WHERE dealer_id = $1 AND customer_id = $2"
        " AND needs->>'expected_yearly_km' IS NOT NULL"
        " ORDER BY arrived_at DESC LIMIT 1",
        dealer_id,
        customer_id,
    )
    return None if km is None else int(km)
