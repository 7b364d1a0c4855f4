"""SQL of the lead row, the lead list and submissions (asyncpg), scoped by dealer_id.

Round robin, assignments, contact log and appointments are in ``repository_activity``.
Functions take the caller's connection, so they run inside the request's or the
message batch's transaction; nothing here commits. Rows come back as ``records``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.events.leads import LeadInterest
from dealerflow.leads.domain import Grade
from dealerflow.leads.domain_intake import CHANNEL_PRIORITY
from dealerflow.leads.records import AssignmentRecord, LeadRecord, SubmissionRecord
from dealerflow.runtime.db import DbConnection


def columns_of(record_type: type[Any]) -> tuple[str, ...]:
    """The column names of a records dataclass (its field names, in order)."""
    return tuple(f.name for f in fields(record_type))


def insert_statement(
    table: str, columns: Sequence[str], casts: Mapping[str, str] | None = None
) -> str:
    """``INSERT INTO table (columns) VALUES ($1, ...)`` with ``::cast`` where given."""
    casts = casts or {}
    values = ", ".join(
        f"${i}" + (f"::{casts[name]}" if name in casts else "")
        for i, name in enumerate(columns, start=1)
    )
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"


_PLACEHOLDER = re.compile(r"\$(\d+)")


def one_statement(inserts: Sequence[tuple[str, int]]) -> str:
    """The ``(statement, number of $n placeholders)`` of single-row INSERTs as ONE
    statement (data-modifying CTEs), taking their arguments one after the other: one
    round trip instead of one per row. Foreign keys between them hold (they are checked
    when the statement ends)."""
    parts: list[str] = []
    offset = 0
    for statement, count in inserts:
        parts.append(_renumbered(statement, offset))
        offset += count
    *first, last = parts
    if not first:
        return last
    ctes = ", ".join(f"w{i} AS ({part})" for i, part in enumerate(first, start=1))
    return f"WITH {ctes} {last}"


def _renumbered(statement: str, offset: int) -> str:
    return _PLACEHOLDER.sub(lambda m: f"${int(m.group(1)) + offset}", statement)


def values_of(record: Any) -> list[Any]:
    """The field values of a records dataclass, in column order."""
    return [getattr(record, name) for name in columns_of(type(record))]


_LEAD_COLUMNS = columns_of(LeadRecord)
_JSON_COLUMNS = {"contact", "interest"}


def lead_from_row(row: Any) -> LeadRecord:
    """A row of every :class:`LeadRecord` column as the record (other repositories too)."""
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
_INSERT_LEAD = insert_statement("leads", _LEAD_COLUMNS, dict.fromkeys(_JSON_COLUMNS, "jsonb"))
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
    """The dealer's open lead with this phone: its own, or the survivor a merged lead
    with this number went into (``lead_phone_aliases``)."""
    row = await conn.fetchrow(
        f"{_SELECT_LEAD} WHERE dealer_id = $1 AND grade NOT IN ('D', 'F') "
        "AND status <> 'merged' AND (phone_e164 = $2 OR lead_id = "
        "(SELECT lead_id FROM lead_phone_aliases WHERE dealer_id = $1 AND phone_e164 = $2)) "
        "ORDER BY phone_e164 = $2 DESC LIMIT 1",
        dealer_id,
        phone_e164,
    )
    return lead_from_row(row) if row else None


async def get_lead(
    conn: DbConnection, dealer_id: str, lead_id: uuid.UUID, *, for_update: bool = False
) -> LeadRecord | None:
    row = await conn.fetchrow(
        f"{_SELECT_LEAD} WHERE dealer_id = $1 AND lead_id = $2"
        + (" FOR UPDATE" if for_update else ""),
        dealer_id,
        lead_id,
    )
    return lead_from_row(row) if row else None


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
    return lead_from_row(row) if row else None


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


#: The kinds of :func:`list_key`'s values, to read a cursor back.
LIST_KEY_KINDS = (int, datetime, int, uuid.UUID)

#: A position in the lead list: priority rank, creation time, channel rank, lead id.
ListKey = tuple[int, datetime, int, uuid.UUID]

# The channel's rank as SQL (``domain_intake.CHANNEL_PRIORITY``; any other channel last).
_CHANNEL_RANK = (
    "(CASE channel "
    + " ".join(f"WHEN '{name}' THEN {rank}" for name, rank in CHANNEL_PRIORITY.items())
    + f" ELSE {len(CHANNEL_PRIORITY)} END)"
)

#: The lead list's order: customer referrals first, then the newest, then by channel.
PRIORITY_ORDER = f"priority_rank, created_at DESC, {_CHANNEL_RANK}, lead_id DESC"


def list_key(lead: LeadRecord) -> ListKey:
    """The lead's position in :data:`PRIORITY_ORDER` (what a page cursor holds)."""
    rank = CHANNEL_PRIORITY.get(lead.channel, len(CHANNEL_PRIORITY))
    return lead.priority_rank, lead.created_at, rank, lead.lead_id


def after_in_priority_order(arg: Callable[[Any], str], after: ListKey) -> str:
    """The WHERE clause of the leads after ``after`` in :data:`PRIORITY_ORDER`; ``arg``
    adds a value and returns its placeholder."""
    rank, created, channel, lead_id = after
    r, c, h, i = arg(rank), arg(created), arg(channel), arg(lead_id)
    ch = _CHANNEL_RANK
    return (
        f"(priority_rank > {r} OR (priority_rank = {r} AND (created_at < {c} OR "
        f"(created_at = {c} AND ({ch} > {h} OR ({ch} = {h} AND lead_id < {i}))))))"
    )


async def list_leads(
    conn: DbConnection,
    dealer_id: str,
    where: LeadFilter,
    *,
    limit: int,
    after: ListKey | None = None,
) -> list[LeadRecord]:
    """Leads in working order (:data:`PRIORITY_ORDER`): customer referrals first, then
    newest first, then walk-ins before calls before online leads."""
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
        clauses.append(after_in_priority_order(arg, after))
    sql = (
        f"{_SELECT_LEAD} WHERE {' AND '.join(clauses)} ORDER BY {PRIORITY_ORDER} LIMIT {arg(limit)}"
    )
    return [lead_from_row(r) for r in await conn.fetch(sql, *args)]


# --- submissions ----------------------------------------------------------------------


_SUBMISSION_COLUMNS = columns_of(SubmissionRecord)
_INSERT_SUBMISSION = insert_statement("lead_submissions", _SUBMISSION_COLUMNS, {"payload": "jsonb"})
_SELECT_SUBMISSION = "SELECT " + ", ".join(
    "payload::text AS payload" if name == "payload" else name for name in _SUBMISSION_COLUMNS
)


async def find_submission(
    conn: DbConnection, dealer_id: str, external_id: str
) -> SubmissionRecord | None:
    row = await conn.fetchrow(
        f"{_SELECT_SUBMISSION} FROM lead_submissions WHERE dealer_id = $1 AND external_id = $2",
        dealer_id,
        external_id,
    )
    return SubmissionRecord(**dict(row)) if row else None


async def insert_submission(conn: DbConnection, sub: SubmissionRecord) -> None:
    await conn.execute(_INSERT_SUBMISSION, *values_of(sub))


_ASSIGNMENT_COLUMNS = columns_of(AssignmentRecord)
_INSERT_ASSIGNMENT = insert_statement("lead_assignments", _ASSIGNMENT_COLUMNS)
_MOVE_ROTATION = (
    "UPDATE assignment_rotation SET last_assigned_id = $2, updated_at = $3 WHERE dealer_id = $1"
)
_INSERT_NEW_LEAD = {
    (assigned, rotated): one_statement(
        [
            (_INSERT_LEAD, len(_LEAD_COLUMNS)),
            *([(_INSERT_ASSIGNMENT, len(_ASSIGNMENT_COLUMNS))] if assigned else []),
            *([(_MOVE_ROTATION, 3)] if rotated else []),
            (_INSERT_SUBMISSION, len(_SUBMISSION_COLUMNS)),
        ]
    )
    for assigned in (False, True)
    for rotated in (False, True)
    if assigned or not rotated
}


async def insert_new_lead(
    conn: DbConnection,
    lead: LeadRecord,
    submission: SubmissionRecord,
    assignment: AssignmentRecord | None = None,
    *,
    rotated: bool = False,
) -> None:
    """A new lead with its first submission and initial assignment, and (``rotated``)
    the dealer's round-robin pointer moved to its consultant: one statement, since it
    runs while the pointer's row is locked (``repository_activity.lock_rotation``)."""
    if rotated and (assignment is None or lead.consultant_id is None):
        raise ValueError("the round-robin pointer moves to an assigned consultant")
    assigned = values_of(assignment) if assignment is not None else []
    moved = [lead.dealer_id, lead.consultant_id, lead.created_at] if rotated else []
    args = [*_lead_values(lead), *assigned, *moved, *values_of(submission)]
    await conn.execute(_INSERT_NEW_LEAD[assignment is not None, rotated], *args)


async def submissions_of(
    conn: DbConnection, dealer_id: str, lead_id: uuid.UUID
) -> list[SubmissionRecord]:
    """The lead's submissions, oldest first (at most 200)."""
    rows = await conn.fetch(
        f"{_SELECT_SUBMISSION} FROM lead_submissions WHERE dealer_id = $1 AND lead_id = $2"
        " ORDER BY received_at LIMIT 200",
        dealer_id,
        lead_id,
    )
    return [SubmissionRecord(**dict(r)) for r in rows]


async def fetch_leads(conn: DbConnection, tail: str, *args: Any) -> list[LeadRecord]:
    """Lead rows selected by ``tail`` (``WHERE ... ORDER BY ... LIMIT ...`` with ``$n``
    placeholders for ``args``): for the other repository modules' lead lists."""
    return [lead_from_row(r) for r in await conn.fetch(f"{_SELECT_LEAD} {tail}", *args)]
