"""All SQL of the leads service (asyncpg). Every statement is scoped by dealer_id.

Functions take the caller's connection, so they run inside the request's or the
message batch's transaction; nothing here commits.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.events.leads import LeadInterest
from dealerflow.leads.domain import Consultant, Grade, LeadSnapshot, LeadSource
from dealerflow.runtime.db import DbConnection


@dataclass(frozen=True)
class LeadRecord:
    """One row of ``leads``."""

    dealer_id: str
    lead_id: uuid.UUID
    customer_id: uuid.UUID
    phone_e164: str
    grade: Grade
    status: str
    priority_rank: int
    channel: str
    source: str
    source_detail: str | None
    referrer_customer_id: uuid.UUID | None
    consultant_id: str | None
    contact: ContactSnapshot
    interest: LeadInterest
    created_at: datetime
    updated_at: datetime
    last_touch_at: datetime
    touch_count: int = 1
    graded_at: datetime | None = None
    last_contacted_at: datetime | None = None
    next_contact_at: datetime | None = None
    invitation_declined_at: datetime | None = None
    reengaged_at: datetime | None = None
    lost_reason: str | None = None
    lost_note: str | None = None
    contract_id: str | None = None
    closed_at: datetime | None = None

    def snapshot(self) -> LeadSnapshot:
        """What the pure rules need to know about this lead."""
        return LeadSnapshot(
            lead_id=self.lead_id,
            dealer_id=self.dealer_id,
            phone_e164=self.phone_e164,
            grade=self.grade,
            source=LeadSource(self.source),
            created_at=self.created_at,
            models_of_interest=tuple(self.interest.models),
            referred_by_customer_id=self.referrer_customer_id,
            invitation_declined_at=self.invitation_declined_at,
            reengaged_at=self.reengaged_at,
        )


_LEAD_COLUMNS = tuple(f.name for f in fields(LeadRecord))
_JSON_COLUMNS = {"contact", "interest"}


def _lead_from_row(row: Any) -> LeadRecord:
    data = dict(row)
    data["grade"] = Grade(data["grade"])
    data["contact"] = ContactSnapshot.model_validate_json(data["contact"])
    data["interest"] = LeadInterest.model_validate_json(data["interest"])
    return LeadRecord(**data)


def _lead_values(lead: LeadRecord) -> list[Any]:
    values: list[Any] = []
    for name in _LEAD_COLUMNS:
        value = getattr(lead, name)
        if name in _JSON_COLUMNS:
            value = value.model_dump_json()
        elif name == "grade":
            value = str(value)
        values.append(value)
    return values


_SELECT_LEAD = f"SELECT {', '.join(_LEAD_COLUMNS)} FROM leads"
_INSERT_LEAD = (
    f"INSERT INTO leads ({', '.join(_LEAD_COLUMNS)}) VALUES ("
    + ", ".join(
        f"${i}::jsonb" if name in _JSON_COLUMNS else f"${i}"
        for i, name in enumerate(_LEAD_COLUMNS, start=1)
    )
    + ")"
)
_MUTABLE = tuple(c for c in _LEAD_COLUMNS if c not in ("dealer_id", "lead_id", "created_at"))
_UPDATE_LEAD = (
    "UPDATE leads SET "
    + ", ".join(
        f"{name} = ${i}" + ("::jsonb" if name in _JSON_COLUMNS else "")
        for i, name in enumerate(_MUTABLE, start=3)
    )
    + " WHERE dealer_id = $1 AND lead_id = $2"
)


async def lock_person(conn: DbConnection, dealer_id: str, phone_e164: str) -> None:
    """Serialise submissions for one person at one dealer until the transaction ends.

    Two concurrent first submissions would otherwise both see "no open lead".
    """
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"lead:{dealer_id}|{phone_e164}"
    )


async def find_open_lead_by_phone(
    conn: DbConnection, dealer_id: str, phone_e164: str
) -> LeadRecord | None:
    row = await conn.fetchrow(
        f"{_SELECT_LEAD} WHERE dealer_id = $1 AND phone_e164 = $2 AND grade NOT IN ('D', 'F')",
        dealer_id,
        phone_e164,
    )
    return _lead_from_row(row) if row else None


async def get_lead(
    conn: DbConnection, dealer_id: str, lead_id: uuid.UUID, *, for_update: bool = False
) -> LeadRecord | None:
    row = await conn.fetchrow(
        f"{_SELECT_LEAD} WHERE dealer_id = $1 AND lead_id = $2"
        + (" FOR UPDATE" if for_update else ""),
        dealer_id,
        lead_id,
    )
    return _lead_from_row(row) if row else None


async def find_lead_for_sale(
    conn: DbConnection,
    dealer_id: str,
    customer_id: uuid.UUID,
    *,
    lead_id: uuid.UUID | None = None,
    contract_id: str | None = None,
) -> LeadRecord | None:
    """The lead a sale refers to: by lead id, else by contract, else the customer's open one.

    Locked for update (the caller changes its grade).
    """
    if lead_id is not None:
        found = await get_lead(conn, dealer_id, lead_id, for_update=True)
        if found is not None:
            return found
    row = None
    if contract_id is not None:
        row = await conn.fetchrow(
            f"{_SELECT_LEAD} WHERE dealer_id = $1 AND contract_id = $2 FOR UPDATE",
            dealer_id,
            contract_id,
        )
    if row is None:
        row = await conn.fetchrow(
            f"{_SELECT_LEAD} WHERE dealer_id = $1 AND customer_id = $2"
            " AND grade NOT IN ('D', 'F') ORDER BY created_at DESC LIMIT 1 FOR UPDATE",
            dealer_id,
            customer_id,
        )
    return _lead_from_row(row) if row else None


async def insert_lead(conn: DbConnection, lead: LeadRecord) -> None:
    await conn.execute(_INSERT_LEAD, *_lead_values(lead))


async def save_lead(conn: DbConnection, lead: LeadRecord) -> None:
    """Write every mutable column of ``lead`` (the row must exist)."""
    values = dict(zip(_LEAD_COLUMNS, _lead_values(lead), strict=True))
    status = await conn.execute(
        _UPDATE_LEAD, lead.dealer_id, lead.lead_id, *(values[name] for name in _MUTABLE)
    )
    if status != "UPDATE 1":
        raise LookupError(f"lead {lead.lead_id} of dealer {lead.dealer_id} does not exist")


# --- listing --------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadFilter:
    status: str | None = None
    grade: str | None = None
    consultant_id: str | None = None
    phone_e164: str | None = None
    customer_id: uuid.UUID | None = None


def encode_cursor(lead: LeadRecord) -> str:
    """An opaque keyset cursor after ``lead`` in list order."""
    raw = json.dumps([lead.priority_rank, lead.created_at.isoformat(), str(lead.lead_id)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, datetime, uuid.UUID]:
    """Inverse of :func:`encode_cursor`; ValueError for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        rank, created, lead_id = json.loads(base64.urlsafe_b64decode(padded))
        parsed = datetime.fromisoformat(created)
        if parsed.tzinfo is None:
            raise ValueError("naive cursor time")
        return int(rank), parsed, uuid.UUID(lead_id)
    except (ValueError, TypeError) as exc:
        raise ValueError("invalid cursor") from exc


async def list_leads(
    conn: DbConnection,
    dealer_id: str,
    where: LeadFilter,
    *,
    limit: int,
    after: tuple[int, datetime, uuid.UUID] | None = None,
) -> list[LeadRecord]:
    """Leads in working order: customer referrals first, then newest first."""
    clauses = ["dealer_id = $1"]
    args: list[Any] = [dealer_id]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if where.status is not None:
        clauses.append(f"status = {arg(where.status)}")
    if where.grade is not None:
        clauses.append(f"grade = {arg(where.grade)}")
    if where.consultant_id is not None:
        clauses.append(f"consultant_id = {arg(where.consultant_id)}")
    if where.phone_e164 is not None:
        clauses.append(f"phone_e164 = {arg(where.phone_e164)}")
    if where.customer_id is not None:
        clauses.append(f"customer_id = {arg(where.customer_id)}")
    if after is not None:
        rank, created, lead_id = after
        r, c, i = arg(rank), arg(created), arg(lead_id)
        clauses.append(
            f"(priority_rank > {r} OR (priority_rank = {r} AND (created_at, lead_id) < ({c}, {i})))"
        )
    sql = (
        f"{_SELECT_LEAD} WHERE {' AND '.join(clauses)}"
        f" ORDER BY priority_rank, created_at DESC, lead_id DESC LIMIT {arg(limit)}"
    )
    return [_lead_from_row(r) for r in await conn.fetch(sql, *args)]


# --- submissions ----------------------------------------------------------------------


@dataclass(frozen=True)
class SubmissionRecord:
    dealer_id: str
    submission_id: uuid.UUID
    lead_id: uuid.UUID
    outcome: str  # created | touched
    external_id: str | None
    format: str
    channel: str
    source: str
    received_at: datetime
    payload: str  # JSON of the normalised submission


async def find_submission(
    conn: DbConnection, dealer_id: str, external_id: str
) -> SubmissionRecord | None:
    row = await conn.fetchrow(
        "SELECT dealer_id, submission_id, lead_id, outcome, external_id, format, channel,"
        " source, received_at, payload::text AS payload FROM lead_submissions"
        " WHERE dealer_id = $1 AND external_id = $2",
        dealer_id,
        external_id,
    )
    return SubmissionRecord(**dict(row)) if row else None


async def insert_submission(conn: DbConnection, sub: SubmissionRecord) -> None:
    await conn.execute(
        "INSERT INTO lead_submissions (dealer_id, submission_id, lead_id, outcome, external_id,"
        " format, channel, source, received_at, payload)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)",
        sub.dealer_id,
        sub.submission_id,
        sub.lead_id,
        sub.outcome,
        sub.external_id,
        sub.format,
        sub.channel,
        sub.source,
        sub.received_at,
        sub.payload,
    )


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


# --- idempotent requests --------------------------------------------------------------


async def lock_idempotency_key(conn: DbConnection, dealer_id: str, key: str) -> None:
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"idem:{dealer_id}|{key}"
    )


async def find_idempotent_response(
    conn: DbConnection, dealer_id: str, operation: str, key: str
) -> tuple[int, Any] | None:
    row = await conn.fetchrow(
        "SELECT status_code, response::text AS response FROM idempotent_requests"
        " WHERE dealer_id = $1 AND operation = $2 AND idempotency_key = $3",
        dealer_id,
        operation,
        key,
    )
    return (int(row["status_code"]), json.loads(row["response"])) if row else None


async def save_idempotent_response(
    conn: DbConnection,
    dealer_id: str,
    operation: str,
    key: str,
    status_code: int,
    response: Any,
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO idempotent_requests (dealer_id, operation, idempotency_key, status_code,"
        " response, created_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6)",
        dealer_id,
        operation,
        key,
        status_code,
        json.dumps(response),
        now,
    )


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
