"""SQL of the leads service beyond the lead row: roster and round robin, assignments,
contact log, appointments and history. Every statement is scoped by
dealer_id; re-exported by ``repository`` (import that)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dealerflow.leads.domain import Consultant
from dealerflow.runtime.db import DbConnection

# --- roster and round robin -----------------------------------------------------------


@dataclass(frozen=True)
class RosterEntry:
    consultant_id: str
    name: str | None
    on_duty: bool
    updated_at: datetime

    def consultant(self) -> Consultant:
        return Consultant(self.consultant_id, self.on_duty)


async def replace_roster(
    conn: DbConnection,
    dealer_id: str,
    roster: Sequence[tuple[str, str | None, bool]],
    now: datetime,
) -> None:
    """Make ``roster`` (consultant id, name, on duty) the dealer's whole roster."""
    ids = [entry[0] for entry in roster]
    await conn.execute(
        "DELETE FROM consultants WHERE dealer_id = $1 AND NOT (consultant_id = ANY($2::text[]))",
        dealer_id,
        ids,
    )
    await conn.executemany(
        "INSERT INTO consultants (dealer_id, consultant_id, name, on_duty, updated_at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (dealer_id, consultant_id) DO UPDATE"
        " SET name = EXCLUDED.name, on_duty = EXCLUDED.on_duty, updated_at = EXCLUDED.updated_at",
        [(dealer_id, cid, name, on_duty, now) for cid, name, on_duty in roster],
    )


async def list_roster(conn: DbConnection, dealer_id: str) -> list[RosterEntry]:
    rows = await conn.fetch(
        "SELECT consultant_id, name, on_duty, updated_at FROM consultants"
        " WHERE dealer_id = $1 ORDER BY consultant_id",
        dealer_id,
    )
    return [RosterEntry(**dict(r)) for r in rows]


async def lock_rotation(conn: DbConnection, dealer_id: str, now: datetime) -> str | None:
    """The dealer's last round-robin pick, locked until the transaction ends."""
    await conn.execute(
        "INSERT INTO assignment_rotation (dealer_id, last_assigned_id, updated_at)"
        " VALUES ($1, NULL, $2) ON CONFLICT (dealer_id) DO NOTHING",
        dealer_id,
        now,
    )
    last: str | None = await conn.fetchval(
        "SELECT last_assigned_id FROM assignment_rotation WHERE dealer_id = $1 FOR UPDATE",
        dealer_id,
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


async def insert_assignment(
    conn: DbConnection,
    dealer_id: str,
    lead_id: uuid.UUID,
    consultant_id: str,
    previous_consultant_id: str | None,
    reason: str,
    assigned_by: str | None,
    assigned_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO lead_assignments (dealer_id, assignment_id, lead_id, consultant_id,"
        " previous_consultant_id, reason, assigned_by, assigned_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        dealer_id,
        uuid.uuid4(),
        lead_id,
        consultant_id,
        previous_consultant_id,
        reason,
        assigned_by,
        assigned_at,
    )


# --- contact log, appointments, history -----------------------------------------------


async def insert_contact_entry(conn: DbConnection, dealer_id: str, entry: dict[str, Any]) -> None:
    """Insert a contact log row; ``entry`` holds the contact_log columns but dealer_id."""
    columns = ["dealer_id", *entry]
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    await conn.execute(
        f"INSERT INTO contact_log ({', '.join(columns)}) VALUES ({placeholders})",
        dealer_id,
        *entry.values(),
    )


async def insert_appointment(conn: DbConnection, dealer_id: str, appt: dict[str, Any]) -> bool:
    """Insert an appointment; False if its id already exists for the dealer."""
    columns = ["dealer_id", *appt]
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    status = await conn.execute(
        f"INSERT INTO appointments ({', '.join(columns)}) VALUES ({placeholders})"
        " ON CONFLICT (dealer_id, appointment_id) DO NOTHING",
        dealer_id,
        *appt.values(),
    )
    return bool(status == "INSERT 0 1")


async def history(conn: DbConnection, dealer_id: str, lead_id: uuid.UUID) -> dict[str, list[Any]]:
    """Contact log, appointments, assignments and submissions of one lead (oldest first)."""
    queries = {
        "contacts": "SELECT entry_id, consultant_id, contacted_at, channel, outcome,"
        " grade_before, grade_after, next_contact_at, notes, customer_initiated,"
        " invitation_declined, recorded_at FROM contact_log"
        " WHERE dealer_id = $1 AND lead_id = $2 ORDER BY contacted_at, recorded_at LIMIT 200",
        "appointments": "SELECT appointment_id, purpose, scheduled_for, consultant_id, location,"
        " status, created_at FROM appointments"
        " WHERE dealer_id = $1 AND lead_id = $2 ORDER BY scheduled_for LIMIT 200",
        "assignments": "SELECT consultant_id, previous_consultant_id, reason, assigned_by,"
        " assigned_at FROM lead_assignments"
        " WHERE dealer_id = $1 AND lead_id = $2 ORDER BY assigned_at LIMIT 200",
        "submissions": "SELECT submission_id, outcome, external_id, format, channel, source,"
        " received_at FROM lead_submissions"
        " WHERE dealer_id = $1 AND lead_id = $2 ORDER BY received_at LIMIT 200",
    }
    return {
        name: [dict(r) for r in await conn.fetch(sql, dealer_id, lead_id)]
        for name, sql in queries.items()
    }


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
