"""SQL of a customer's erasure (`usecases_erasure`): the personal data of the customer's
complaints, their history entries, pauses and confirmations, the contact directory, the
parked triggers and the concerns of the customer's repair orders. Every
statement is scoped by ``dealer_id`` and the customer (directly, or through the
customer's complaints); the rows read are locked for the erasure's transaction."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from dealerflow.complaints.records import ComplaintPersonalData, HistoryText, ParkedEvent
from dealerflow.runtime.db import DbConnection

#: source_type of a directory entry the erasure wrote
ERASURE_SOURCE = "CustomerErasureRequested"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _loads(text: str | None) -> Any:
    return json.loads(text) if text is not None else None


async def complaints_of_customer(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> list[ComplaintPersonalData]:
    """The personal data of the dealer's complaints about the customer, locked."""
    rows = await conn.fetch(
        """
        SELECT id, contact::text AS contact, summary, details, pause_reason,
            resolution::text AS resolution, request_hash
        FROM complaints WHERE dealer_id = $1 AND customer_id = $2
        ORDER BY opened_at, id FOR UPDATE
        """,
        dealer_id,
        customer_id,
    )
    return [
        ComplaintPersonalData(
            id=r["id"],
            contact=json.loads(r["contact"]),
            summary=r["summary"],
            details=r["details"],
            pause_reason=r["pause_reason"],
            resolution=_loads(r["resolution"]),
            request_hash=r["request_hash"],
        )
        for r in rows
    ]


async def save_complaint_personal_data(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID, data: ComplaintPersonalData
) -> None:
    """Write back a complaint's personal data (the rest of the row is not touched)."""
    await conn.execute(
        """
        UPDATE complaints SET contact = $4::jsonb, summary = $5, details = $6,
            pause_reason = $7, resolution = $8::jsonb, request_hash = $9, updated_at = now()
        WHERE dealer_id = $1 AND customer_id = $2 AND id = $3
        """,
        dealer_id,
        customer_id,
        data.id,
        _dumps(data.contact),
        data.summary,
        data.details,
        data.pause_reason,
        _dumps(data.resolution) if data.resolution is not None else None,
        data.request_hash,
    )


async def erase_pause_reasons(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID, erased: str
) -> int:
    """Overwrite the reason of every pause of the dealer's complaints about the customer
    with ``erased``; how many pauses changed (0 when erased already)."""
    changed = await conn.fetchval(
        """
        WITH erased AS (
            UPDATE complaint_pauses p SET reason = $3
            FROM complaints c
            WHERE c.dealer_id = p.dealer_id AND c.id = p.complaint_id
                AND p.dealer_id = $1 AND c.customer_id = $2 AND p.reason <> $3
            RETURNING 1
        )
        SELECT count(*) FROM erased
        """,
        dealer_id,
        customer_id,
        erased,
    )
    return int(changed)


async def history_of_customer(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> list[HistoryText]:
    """Every history entry of the dealer's complaints about the customer, locked."""
    rows = await conn.fetch(
        """
        SELECT h.id, h.action, h.details::text AS details
        FROM complaint_history h
        JOIN complaints c ON c.dealer_id = h.dealer_id AND c.id = h.complaint_id
        WHERE h.dealer_id = $1 AND c.customer_id = $2
        ORDER BY h.id FOR UPDATE OF h
        """,
        dealer_id,
        customer_id,
    )
    return [HistoryText(r["id"], r["action"], json.loads(r["details"])) for r in rows]


async def save_history_details(conn: DbConnection, dealer_id: str, entry: HistoryText) -> None:
    """Write back one history entry's details."""
    await conn.execute(
        "UPDATE complaint_history SET details = $3::jsonb WHERE dealer_id = $1 AND id = $2",
        dealer_id,
        entry.id,
        _dumps(entry.details),
    )


async def erase_directory_contact(
    conn: DbConnection,
    dealer_id: str,
    customer_id: uuid.UUID,
    *,
    contact: dict[str, Any],
    observed_at: datetime,
) -> bool:
    """Make the customer's directory entry ``contact`` (the erased one), observed no
    earlier than ``observed_at``, written even when none was stored (then a contact
    snapshot of an event older than the erasure cannot bring the person back: the
    directory keeps only newer snapshots). False when it was so already."""
    written = await conn.fetchval(
        """
        INSERT INTO customer_contacts (dealer_id, customer_id, contact, observed_at, source_type)
        VALUES ($1, $2, $3::jsonb, $4, $5)
        ON CONFLICT (dealer_id, customer_id) DO UPDATE
            SET contact = EXCLUDED.contact,
                observed_at = greatest(customer_contacts.observed_at, EXCLUDED.observed_at),
                source_type = EXCLUDED.source_type
            WHERE customer_contacts.contact IS DISTINCT FROM EXCLUDED.contact
                OR customer_contacts.observed_at < EXCLUDED.observed_at
        RETURNING true
        """,
        dealer_id,
        customer_id,
        _dumps(contact),
        observed_at,
        ERASURE_SOURCE,
    )
    return bool(written)


async def parked_events_of(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> list[ParkedEvent]:
    """The events of the customer's triggers waiting for a contact, locked."""
    rows = await conn.fetch(
        """
        SELECT trigger_ref, event_type, event::text AS event FROM awaiting_contact
        WHERE dealer_id = $1 AND customer_id = $2 ORDER BY trigger_ref FOR UPDATE
        """,
        dealer_id,
        customer_id,
    )
    return [ParkedEvent(r["trigger_ref"], r["event_type"], r["event"]) for r in rows]


async def save_parked_event(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID, parked: ParkedEvent
) -> None:
    """Write back a parked trigger's event."""
    await conn.execute(
        "UPDATE awaiting_contact SET event = $4::jsonb "
        "WHERE dealer_id = $1 AND customer_id = $2 AND trigger_ref = $3",
        dealer_id,
        customer_id,
        parked.trigger_ref,
        parked.event,
    )


async def erase_confirmation_notes(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID, erased: str
) -> int:
    """Make the note of every confirmation of the customer's complaints ``erased``; how
    many changed."""
    rows = await conn.fetch(
        """
        UPDATE complaint_confirmations k SET note = $3
        FROM complaints c
        WHERE k.dealer_id = $1 AND c.dealer_id = k.dealer_id AND c.id = k.complaint_id
            AND c.customer_id = $2 AND k.note IS NOT NULL AND k.note <> $3
        RETURNING k.id
        """,
        dealer_id,
        customer_id,
        erased,
    )
    return len(rows)


async def erase_repair_concerns(conn: DbConnection, dealer_id: str, customer_id: uuid.UUID) -> int:
    """Empty the concerns of the customer's repair orders (as service-center erases them;
    an erased repair order no longer counts for repeat-repair detection); how many
    changed. Rows kept before the customer was recorded (migration 0007) have none and
    are not found."""
    rows = await conn.fetch(
        """
        UPDATE repair_visits SET concerns = '{}'
        WHERE dealer_id = $1 AND customer_id = $2 AND concerns <> '{}'
        RETURNING repair_order_id
        """,
        dealer_id,
        customer_id,
    )
    return len(rows)
