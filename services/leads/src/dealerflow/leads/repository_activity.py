"""SQL of the leads service beyond the lead row (asyncpg): round robin and open load,
assignments, contact log, appointments and a lead's history. Every statement is scoped
by dealer_id; rows come back as ``records``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dealerflow.leads.records import (
    AppointmentRecord,
    AssignmentRecord,
    ContactEntryRecord,
    LeadHistory,
)
from dealerflow.leads.repository import columns_of, insert_statement, submissions_of, values_of
from dealerflow.runtime.db import DbConnection

# --- round robin and open load --------------------------------------------------------
# The consultants themselves are the dealer's people (dealer configuration); leads keeps
# only the last pick per dealer.


async def open_leads_by_consultant(
    conn: DbConnection, dealer_id: str, consultant_ids: Sequence[str]
) -> dict[str, int]:
    """How many open leads each of ``consultant_ids`` holds (absent: none)."""
    rows = await conn.fetch(
        "SELECT consultant_id, count(*) AS open_leads FROM leads"
        " WHERE dealer_id = $1 AND status = 'open' AND consultant_id = ANY($2::text[])"
        " GROUP BY consultant_id",
        dealer_id,
        list(consultant_ids),
    )
    return {r["consultant_id"]: r["open_leads"] for r in rows}


async def last_assigned(conn: DbConnection, dealer_id: str) -> str | None:
    """The dealer's last round-robin pick (not locked: for reading)."""
    last: str | None = await conn.fetchval(
        "SELECT last_assigned_id FROM assignment_rotation WHERE dealer_id = $1", dealer_id
    )
    return last


async def lock_rotation(conn: DbConnection, dealer_id: str, now: datetime) -> str | None:
    """The dealer's last round-robin pick, locked until the transaction ends.

    One statement (the row is created on first use): the lock serialises the dealer's
    new leads, so every round trip while it is held costs the dealer's throughput."""
    last: str | None = await conn.fetchval(
        "INSERT INTO assignment_rotation AS r (dealer_id, last_assigned_id, updated_at)"
        " VALUES ($1, NULL, $2) ON CONFLICT (dealer_id)"
        " DO UPDATE SET last_assigned_id = r.last_assigned_id RETURNING last_assigned_id",
        dealer_id,
        now,
    )
    return last


async def save_rotation(
    conn: DbConnection, dealer_id: str, last_assigned_id: str | None, now: datetime
) -> None:
    await conn.execute(
        "UPDATE assignment_rotation SET last_assigned_id = $2, updated_at = $3"
        " WHERE dealer_id = $1",
        dealer_id,
        last_assigned_id,
        now,
    )


# --- assignments, contact log, appointments -------------------------------------------

_ASSIGNMENT_COLUMNS = columns_of(AssignmentRecord)
_CONTACT_COLUMNS = columns_of(ContactEntryRecord)
_APPOINTMENT_COLUMNS = columns_of(AppointmentRecord)


async def insert_assignment(conn: DbConnection, assignment: AssignmentRecord) -> None:
    await conn.execute(
        insert_statement("lead_assignments", _ASSIGNMENT_COLUMNS), *values_of(assignment)
    )


async def insert_contact_entry(conn: DbConnection, entry: ContactEntryRecord) -> None:
    await conn.execute(insert_statement("contact_log", _CONTACT_COLUMNS), *values_of(entry))


async def insert_appointment(conn: DbConnection, appointment: AppointmentRecord) -> bool:
    """Insert an appointment; False if its id already exists for the dealer."""
    status = await conn.execute(
        insert_statement("appointments", _APPOINTMENT_COLUMNS)
        + " ON CONFLICT (dealer_id, appointment_id) DO NOTHING",
        *values_of(appointment),
    )
    return bool(status == "INSERT 0 1")


async def appointment_lead(
    conn: DbConnection, dealer_id: str, appointment_id: str
) -> uuid.UUID | None:
    """The lead an existing appointment belongs to."""
    found: uuid.UUID | None = await conn.fetchval(
        "SELECT lead_id FROM appointments WHERE dealer_id = $1 AND appointment_id = $2",
        dealer_id,
        appointment_id,
    )
    return found


async def history(conn: DbConnection, dealer_id: str, lead_id: uuid.UUID) -> LeadHistory:
    """Contact log, appointments, assignments and submissions of one lead (oldest first,
    at most 200 of each)."""

    async def rows(columns: Sequence[str], table: str, order: str) -> list[dict[str, Any]]:
        found = await conn.fetch(
            f"SELECT {', '.join(columns)} FROM {table} WHERE dealer_id = $1 AND lead_id = $2"
            f" ORDER BY {order} LIMIT 200",
            dealer_id,
            lead_id,
        )
        return [dict(r) for r in found]

    contacts = await rows(_CONTACT_COLUMNS, "contact_log", "contacted_at, recorded_at")
    appointments = await rows(_APPOINTMENT_COLUMNS, "appointments", "scheduled_for")
    assignments = await rows(_ASSIGNMENT_COLUMNS, "lead_assignments", "assigned_at")
    return LeadHistory(
        contacts=[ContactEntryRecord(**r) for r in contacts],
        appointments=[AppointmentRecord(**r) for r in appointments],
        assignments=[AssignmentRecord(**r) for r in assignments],
        submissions=await submissions_of(conn, dealer_id, lead_id),
    )
