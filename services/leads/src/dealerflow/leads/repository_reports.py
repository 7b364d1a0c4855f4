"""SQL of the sales manager's views (``usecases_reports``): the daily visit report, a
consultant's worklist, the board by grade and consultant, and the funnel. Read-only;
every query is scoped by dealer_id."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dealerflow.leads.records import LeadRecord
from dealerflow.leads.repository import (
    PRIORITY_ORDER,
    ListKey,
    after_in_priority_order,
    fetch_leads,
)
from dealerflow.runtime.db import DbConnection


@dataclass(frozen=True)
class VisitLine:
    """One line of the daily visit report: a logged contact with the lead's name."""

    entry_id: uuid.UUID
    lead_id: uuid.UUID
    consultant_id: str
    name: str
    contacted_at: datetime
    channel: str
    outcome: str
    grade_before: str
    grade_after: str
    next_contact_at: datetime | None
    notes: str | None
    customer_initiated: bool


#: The kinds of :func:`visit_key`'s values, to read a cursor back.
VISIT_KEY_KINDS = (str, datetime, uuid.UUID)


def visit_key(line: VisitLine) -> tuple[str, datetime, uuid.UUID]:
    """A line's position in the report (by consultant, then time): what a cursor holds."""
    return line.consultant_id, line.contacted_at, line.entry_id


async def visit_lines(
    conn: DbConnection,
    dealer_id: str,
    start: datetime,
    end: datetime,
    *,
    consultant_id: str | None,
    limit: int,
    after: tuple[str, datetime, uuid.UUID] | None,
) -> list[VisitLine]:
    """Contacts logged in [start, end), by consultant and time."""
    args: list[Any] = [dealer_id, start, end]
    clauses = ["c.dealer_id = $1", "c.contacted_at >= $2", "c.contacted_at < $3"]
    if consultant_id is not None:
        args.append(consultant_id)
        clauses.append(f"c.consultant_id = ${len(args)}")
    if after is not None:
        args.extend(after)
        n = len(args)
        clauses.append(
            f"(c.consultant_id, c.contacted_at, c.entry_id) > (${n - 2}, ${n - 1}, ${n})"
        )
    args.append(limit)
    rows = await conn.fetch(
        "SELECT c.entry_id, c.lead_id, c.consultant_id, l.contact->>'name' AS name, "
        "c.contacted_at, c.channel, c.outcome, c.grade_before, c.grade_after, "
        "c.next_contact_at, c.notes, c.customer_initiated "
        "FROM contact_log c JOIN leads l ON l.dealer_id = c.dealer_id AND l.lead_id = c.lead_id "
        f"WHERE {' AND '.join(clauses)} "
        f"ORDER BY c.consultant_id, c.contacted_at, c.entry_id LIMIT ${len(args)}",
        *args,
    )
    return [VisitLine(**dict(row)) for row in rows]


@dataclass(frozen=True)
class ConsultantDay:
    """One consultant's totals in the visit report."""

    consultant_id: str
    contacts: int
    reached: int
    next_contacts_planned: int
    leads: int


async def consultant_days(
    conn: DbConnection, dealer_id: str, start: datetime, end: datetime, consultant_id: str | None
) -> list[ConsultantDay]:
    """Each consultant's contacts in [start, end): how many, reached, with a next date."""
    rows = await conn.fetch(
        "SELECT consultant_id, count(*) AS contacts, "
        "count(*) FILTER (WHERE outcome = 'reached') AS reached, "
        "count(*) FILTER (WHERE next_contact_at IS NOT NULL) AS next_contacts_planned, "
        "count(DISTINCT lead_id) AS leads "
        "FROM contact_log WHERE dealer_id = $1 AND contacted_at >= $2 AND contacted_at < $3 "
        "AND ($4::text IS NULL OR consultant_id = $4) "
        "GROUP BY consultant_id ORDER BY consultant_id",
        dealer_id,
        start,
        end,
        consultant_id,
    )
    return [ConsultantDay(**dict(row)) for row in rows]


async def worklist(
    conn: DbConnection,
    dealer_id: str,
    due_before: datetime,
    *,
    consultant_id: str | None,
    limit: int,
    after: ListKey | None,
) -> list[LeadRecord]:
    """Open leads with a contact owed before ``due_before``: never contacted and nothing
    planned, or a next contact planned before then; in the lead list's priority order
    (referrals first, then newest, then by channel), so the cursor is
    :func:`repository.list_key`."""
    args: list[Any] = [dealer_id, due_before]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    clauses = [
        "dealer_id = $1",
        "status = 'open'",
        "((last_contacted_at IS NULL AND next_contact_at IS NULL) OR next_contact_at < $2)",
    ]
    if consultant_id is not None:
        clauses.append(f"consultant_id = {arg(consultant_id)}")
    if after is not None:
        clauses.append(after_in_priority_order(arg, after))
    limit_arg = arg(limit)
    return await fetch_leads(
        conn,
        f"WHERE {' AND '.join(clauses)} ORDER BY {PRIORITY_ORDER} LIMIT {limit_arg}",
        *args,
    )


@dataclass(frozen=True)
class BoardCell:
    """How many of the dealer's leads a consultant has at one grade."""

    consultant_id: str | None
    grade: str
    leads: int


async def board(conn: DbConnection, dealer_id: str) -> list[BoardCell]:
    """The dealer's leads counted by consultant and grade."""
    rows = await conn.fetch(
        "SELECT consultant_id, grade, count(*) AS leads FROM leads WHERE dealer_id = $1 "
        "GROUP BY consultant_id, grade ORDER BY consultant_id NULLS FIRST, grade",
        dealer_id,
    )
    return [BoardCell(**dict(row)) for row in rows]


@dataclass(frozen=True)
class BreachCount:
    """How many open leads missed their first contact while with a consultant."""

    consultant_id: str | None
    leads: int
    breaches: int


async def first_contact_breaches(conn: DbConnection, dealer_id: str) -> list[BreachCount]:
    """The dealer's open leads whose first contact the notifier reported breached, by the
    consultant each breach happened with (a lead reassigned after its second breach counts
    for both), and how many breaches."""
    rows = await conn.fetch(
        "SELECT b.consultant_id, count(DISTINCT b.lead_id) AS leads, count(*) AS breaches "
        "FROM first_contact_breaches b JOIN leads l "
        "ON l.dealer_id = b.dealer_id AND l.lead_id = b.lead_id AND l.status = 'open' "
        "WHERE b.dealer_id = $1 GROUP BY b.consultant_id ORDER BY b.consultant_id NULLS FIRST",
        dealer_id,
    )
    return [BreachCount(**dict(row)) for row in rows]


@dataclass(frozen=True)
class FunnelRow:
    """How many of one channel's new leads of a period reached each stage."""

    channel: str
    new: int
    contacted: int
    appointment: int
    visit: int
    test_drive: int
    contract: int
    delivered: int


_HAS_APPOINTMENT = (
    "EXISTS (SELECT 1 FROM appointments a WHERE a.dealer_id = l.dealer_id "
    "AND a.lead_id = l.lead_id{})"
)


async def funnel(
    conn: DbConnection, dealer_id: str, start: datetime, end: datetime, channel: str | None
) -> list[FunnelRow]:
    """Per channel, the leads created in [start, end) and how many of them were contacted,
    got an appointment, came to one (attended), came to a test drive, signed, took
    delivery."""
    attended = _HAS_APPOINTMENT.format(" AND a.status = 'attended'")
    test_drive = _HAS_APPOINTMENT.format(" AND a.status = 'attended' AND a.purpose = 'test_drive'")
    rows = await conn.fetch(
        "SELECT l.channel, count(*) AS new, "
        "count(*) FILTER (WHERE l.last_contacted_at IS NOT NULL) AS contacted, "
        f"count(*) FILTER (WHERE {_HAS_APPOINTMENT.format('')}) AS appointment, "
        f"count(*) FILTER (WHERE {attended}) AS visit, "
        f"count(*) FILTER (WHERE {test_drive}) AS test_drive, "
        "count(*) FILTER (WHERE l.contract_id IS NOT NULL OR l.grade IN ('O', 'D')) AS contract, "
        "count(*) FILTER (WHERE l.grade = 'D') AS delivered "
        "FROM leads l WHERE l.dealer_id = $1 AND l.created_at >= $2 AND l.created_at < $3 "
        "AND ($4::text IS NULL OR l.channel = $4) "
        "GROUP BY l.channel ORDER BY l.channel",
        dealer_id,
        start,
        end,
        channel,
    )
    return [FunnelRow(**dict(row)) for row in rows]
