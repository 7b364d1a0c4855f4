"""SQL of the consent store (`consent_changes`): every recorded change of a customer's
consent. Every statement is scoped by ``dealer_id``; a change is keyed by its consent id,
so a redelivered (or self-consumed) ConsentChanged is kept once."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from dealerflow.contracts.care_enums import ConsentSource
from dealerflow.contracts.enums import ConsentPurpose, MessageChannel
from dealerflow.notifier.domain_consent import ConsentChange
from dealerflow.runtime.db import DbConnection

_COLUMNS = "consent_id, purpose, channel, granted, source, changed_at, recorded_by"


def _change(row: asyncpg.Record) -> ConsentChange:
    return ConsentChange(
        consent_id=row["consent_id"],
        purpose=ConsentPurpose(row["purpose"]),
        channel=MessageChannel(row["channel"]) if row["channel"] is not None else None,
        granted=row["granted"],
        source=ConsentSource(row["source"]),
        changed_at=row["changed_at"],
        recorded_by=row["recorded_by"],
    )


async def insert_change(
    conn: DbConnection,
    dealer_id: str,
    customer_id: uuid.UUID,
    change: ConsentChange,
    *,
    source_event_id: str | None,
    recorded_at: datetime,
) -> bool:
    """Keep one change; False when its consent id was kept before."""
    created = await conn.fetchval(
        """
        INSERT INTO consent_changes (dealer_id, consent_id, customer_id, purpose, channel,
                                     granted, source, recorded_by, source_event_id,
                                     changed_at, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        ON CONFLICT (dealer_id, consent_id) DO NOTHING
        RETURNING true
        """,
        dealer_id,
        change.consent_id,
        customer_id,
        change.purpose.value,
        change.channel.value if change.channel is not None else None,
        change.granted,
        change.source.value,
        change.recorded_by,
        source_event_id,
        change.changed_at,
        recorded_at,
    )
    return bool(created)


async def get_change(
    conn: DbConnection, dealer_id: str, consent_id: str
) -> tuple[uuid.UUID, ConsentChange] | None:
    """The change ``consent_id`` and its customer."""
    row = await conn.fetchrow(
        f"SELECT customer_id, {_COLUMNS} FROM consent_changes"
        " WHERE dealer_id = $1 AND consent_id = $2",
        dealer_id,
        consent_id,
    )
    return None if row is None else (row["customer_id"], _change(row))


async def changes_of(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> list[ConsentChange]:
    """Every change recorded for the customer, oldest first."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM consent_changes WHERE dealer_id = $1 AND customer_id = $2"
        " ORDER BY changed_at, consent_id",
        dealer_id,
        customer_id,
    )
    return [_change(r) for r in rows]


async def history(
    conn: DbConnection,
    dealer_id: str,
    customer_id: uuid.UUID,
    *,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[ConsentChange]:
    """The customer's changes ordered by (changed_at, consent_id) after the keyset."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM consent_changes
        WHERE dealer_id = $1 AND customer_id = $2
          AND ($3::timestamptz IS NULL OR (changed_at, consent_id) > ($3, $4::text))
        ORDER BY changed_at, consent_id
        LIMIT $5
        """,
        dealer_id,
        customer_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [_change(r) for r in rows]


# -- open complaints (customer_complaints) ----------------------------------------------------


async def complaint_opened(
    conn: DbConnection,
    dealer_id: str,
    customer_id: uuid.UUID,
    complaint_id: str,
    opened_at: datetime,
    *,
    reopening: bool,
) -> None:
    """The complaint is open from ``opened_at``: a first opening is kept once (a
    redelivered one after the close changes nothing); a reopening reopens a complaint
    closed before it."""
    if reopening:
        conflict = """DO UPDATE SET opened_at = EXCLUDED.opened_at, closed_at = NULL
            WHERE customer_complaints.closed_at IS NOT NULL
              AND customer_complaints.closed_at <= EXCLUDED.opened_at"""
    else:
        conflict = "DO NOTHING"
    await conn.execute(
        f"""
        INSERT INTO customer_complaints (dealer_id, complaint_id, customer_id, opened_at)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (dealer_id, complaint_id) {conflict}
        """,
        dealer_id,
        complaint_id,
        customer_id,
        opened_at,
    )


async def complaint_closed(
    conn: DbConnection,
    dealer_id: str,
    customer_id: uuid.UUID,
    complaint_id: str,
    closed_at: datetime,
) -> None:
    """The complaint is closed at ``closed_at`` (unless reopened after that); one never
    seen open is kept closed."""
    await conn.execute(
        """
        INSERT INTO customer_complaints (dealer_id, complaint_id, customer_id, opened_at,
                                         closed_at)
        VALUES ($1, $2, $3, $4, $4)
        ON CONFLICT (dealer_id, complaint_id) DO UPDATE SET closed_at = EXCLUDED.closed_at
            WHERE customer_complaints.closed_at IS NULL
              AND customer_complaints.opened_at <= EXCLUDED.closed_at
        """,
        dealer_id,
        complaint_id,
        customer_id,
        closed_at,
    )


async def has_open_complaint(conn: DbConnection, dealer_id: str, customer_id: uuid.UUID) -> bool:
    """Whether the customer has a complaint open at the dealer."""
    found = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM customer_complaints"
        " WHERE dealer_id = $1 AND customer_id = $2 AND closed_at IS NULL)",
        dealer_id,
        customer_id,
    )
    return bool(found)


# -- inbound SMS replies (inbound_sms) -----------------------------------------------------------


async def customers_with_phone(conn: DbConnection, dealer_id: str, phone: str) -> list[uuid.UUID]:
    """The customers whose latest contact snapshot at the dealer has ``phone``."""
    rows = await conn.fetch(
        "SELECT customer_id FROM customer_contacts"
        " WHERE dealer_id = $1 AND contact->>'phone' = $2 ORDER BY customer_id",
        dealer_id,
        phone,
    )
    return [r["customer_id"] for r in rows]


async def insert_inbound_sms(
    conn: DbConnection,
    dealer_id: str,
    sms_id: uuid.UUID,
    *,
    phone: str,
    text: str,
    opt_out: bool,
    customer_ids: list[uuid.UUID],
    received_at: datetime,
    recorded_at: datetime,
) -> None:
    """Keep one inbound SMS."""
    await conn.execute(
        """
        INSERT INTO inbound_sms (dealer_id, id, phone, text, opt_out, customer_ids,
                                 received_at, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6::uuid[], $7, $8)
        """,
        dealer_id,
        sms_id,
        phone,
        text,
        opt_out,
        customer_ids,
        received_at,
        recorded_at,
    )


async def get_inbound_sms(
    conn: DbConnection, dealer_id: str, sms_id: uuid.UUID
) -> tuple[bool, list[uuid.UUID], datetime] | None:
    """Whether the inbound SMS ``sms_id`` opted out, whom, and when it was received."""
    row = await conn.fetchrow(
        "SELECT opt_out, customer_ids, received_at FROM inbound_sms"
        " WHERE dealer_id = $1 AND id = $2",
        dealer_id,
        sms_id,
    )
    return None if row is None else (row["opt_out"], list(row["customer_ids"]), row["received_at"])
