"""SQL of quote approvals and the quote list (the quotes themselves are written by
:mod:`repository_showroom`). Every statement is scoped by dealer_id."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from dealerflow.runtime.db import DbConnection
from dealerflow.sales.domain_approval import ApprovalDecision, ApprovalStatus
from dealerflow.sales.records import QuoteRecord
from dealerflow.sales.repository_showroom import _quote

_SELECT = """
    SELECT q.dealer_id, q.id, q.customer_id, q.lead_id, q.consultant_id, q.currency,
        q.vehicle::text AS vehicle, q.new_energy, q.lines::text AS lines,
        q.payment::text AS payment, q.loan::text AS loan, q.needs_approval, q.approval_id,
        q.valid_until, q.issued_at,
        a.decision AS a_decision, a.decided_by AS a_decided_by,
        a.decided_at AS a_decided_at, a.note AS a_note
    FROM quotes q
    LEFT JOIN quote_approvals a ON a.dealer_id = q.dealer_id AND a.quote_id = q.id
"""

QuoteRow = tuple[QuoteRecord, ApprovalDecision | None]


def _row(row: asyncpg.Record) -> QuoteRow:
    columns = {k: v for k, v in dict(row).items() if not k.startswith("a_")}
    decision = (
        None
        if row["a_decision"] is None
        else ApprovalDecision(
            outcome=ApprovalStatus(row["a_decision"]),
            decided_by=row["a_decided_by"],
            decided_at=row["a_decided_at"],
            note=row["a_note"],
        )
    )
    return _quote(columns), decision  # type: ignore[arg-type]


async def get_quote(
    conn: DbConnection, dealer_id: str, quote_id: uuid.UUID, *, for_update: bool = False
) -> QuoteRow | None:
    """The quote and its decision, if any; ``for_update`` locks the quote's row."""
    lock = " FOR UPDATE OF q" if for_update else ""
    row = await conn.fetchrow(
        f"{_SELECT} WHERE q.dealer_id = $1 AND q.id = $2{lock}", dealer_id, quote_id
    )
    return None if row is None else _row(row)


async def insert_decision(
    conn: DbConnection,
    dealer_id: str,
    quote_id: uuid.UUID,
    approval_id: uuid.UUID,
    decision: ApprovalDecision,
) -> None:
    await conn.execute(
        """
        INSERT INTO quote_approvals (dealer_id, quote_id, approval_id, decision, decided_by,
            decided_at, note)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        dealer_id,
        quote_id,
        approval_id,
        decision.outcome.value,
        decision.decided_by,
        decision.decided_at,
        decision.note,
    )


async def list_quotes(
    conn: DbConnection,
    dealer_id: str,
    *,
    customer_id: uuid.UUID | None,
    lead_id: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[QuoteRow]:
    """Quotes newest first; ``after`` is the (issued_at, id) of the previous page's last
    row. Filters that are None do not apply."""
    rows = await conn.fetch(
        f"""
        {_SELECT}
        WHERE q.dealer_id = $1
          AND ($2::uuid IS NULL OR q.customer_id = $2)
          AND ($3::text IS NULL OR q.lead_id = $3)
          AND ($4::timestamptz IS NULL OR (q.issued_at, q.id) < ($4, $5::uuid))
        ORDER BY q.issued_at DESC, q.id DESC
        LIMIT $6
        """,
        dealer_id,
        customer_id,
        lead_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [_row(r) for r in rows]
