"""SQL of the lost-lead review queue, the reviews and the reopenings of leads (asyncpg),
scoped by dealer_id; rows come back as ``records``."""

from __future__ import annotations

import uuid
from datetime import datetime

from dealerflow.leads.domain import Grade
from dealerflow.leads.records import LeadRecord, ReopeningRecord, ReviewRecord
from dealerflow.leads.repository import columns_of, insert_statement, lead_from_row, values_of
from dealerflow.runtime.db import DbConnection

_LEAD_COLUMNS = ", ".join(columns_of(LeadRecord))
_REVIEW_COLUMNS = columns_of(ReviewRecord)

# A lead at F whose latest loss has no review yet.
_AWAITING_REVIEW = (
    "dealer_id = $1 AND grade = 'F' AND closed_at IS NOT NULL AND NOT EXISTS ("
    "SELECT 1 FROM lead_reviews r WHERE r.dealer_id = leads.dealer_id"
    " AND r.lead_id = leads.lead_id AND r.lost_at = leads.closed_at)"
)

#: The kinds of :func:`queue_key`'s values, to read a cursor back.
QUEUE_KEY_KINDS = (datetime, uuid.UUID)


def queue_key(lead: LeadRecord) -> tuple[datetime, uuid.UUID]:
    """The lead's position in the review queue (what a page cursor holds)."""
    assert lead.closed_at is not None  # a lead at F is closed
    return lead.closed_at, lead.lead_id


async def awaiting_review(
    conn: DbConnection,
    dealer_id: str,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[LeadRecord]:
    """Lost leads whose loss is not reviewed yet, the longest waiting first."""
    sql = f"SELECT {_LEAD_COLUMNS} FROM leads WHERE {_AWAITING_REVIEW}"
    args: list[object] = [dealer_id]
    if after is not None:
        sql += " AND (closed_at, lead_id) > ($2, $3)"
        args += list(after)
    sql += f" ORDER BY closed_at, lead_id LIMIT ${len(args) + 1}"
    return [lead_from_row(r) for r in await conn.fetch(sql, *args, limit)]


async def lead_of_contract(
    conn: DbConnection, dealer_id: str, contract_id: str
) -> LeadRecord | None:
    """The lead ``contract_id`` converted (and still holds), locked for update."""
    row = await conn.fetchrow(
        f"SELECT {_LEAD_COLUMNS} FROM leads WHERE dealer_id = $1 AND contract_id = $2"
        " ORDER BY created_at DESC LIMIT 1 FOR UPDATE",
        dealer_id,
        contract_id,
    )
    return lead_from_row(row) if row else None


async def loss_reviewed(
    conn: DbConnection, dealer_id: str, lead_id: uuid.UUID, lost_at: datetime
) -> bool:
    """Whether the loss of ``lead_id`` at ``lost_at`` has its review."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM lead_reviews"
        " WHERE dealer_id = $1 AND lead_id = $2 AND lost_at = $3)",
        dealer_id,
        lead_id,
        lost_at,
    )
    return found


async def insert_review(conn: DbConnection, review: ReviewRecord) -> None:
    await conn.execute(insert_statement("lead_reviews", _REVIEW_COLUMNS), *values_of(review))


async def insert_reopening(conn: DbConnection, reopening: ReopeningRecord) -> None:
    await conn.execute(
        insert_statement("lead_reopenings", columns_of(ReopeningRecord)), *values_of(reopening)
    )


async def grade_history(conn: DbConnection, dealer_id: str, lead_id: uuid.UUID) -> list[Grade]:
    """The grades the lead had, oldest first, as its contact log and its reopenings record
    them (the only places a live grade is set; conversion, delivery and loss set O, D, F)."""
    rows = await conn.fetch(
        "SELECT grade FROM ("
        " SELECT recorded_at AS at, 0 AS step, grade_before AS grade FROM contact_log"
        "  WHERE dealer_id = $1 AND lead_id = $2"
        " UNION ALL SELECT recorded_at, 1, grade_after FROM contact_log"
        "  WHERE dealer_id = $1 AND lead_id = $2"
        " UNION ALL SELECT reopened_at, 1, grade_after FROM lead_reopenings"
        "  WHERE dealer_id = $1 AND lead_id = $2"
        ") h ORDER BY at, step",
        dealer_id,
        lead_id,
    )
    return [Grade(r["grade"]) for r in rows]
