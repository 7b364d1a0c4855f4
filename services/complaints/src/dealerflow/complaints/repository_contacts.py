"""SQL of the contact directory: the latest contact snapshot per customer, from any event
that carries one (leads, sales, service), refreshed by ConsentChanged. Scoped by dealer."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from dealerflow.runtime.db import DbConnection


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


async def upsert_contact(
    conn: DbConnection,
    *,
    dealer_id: str,
    customer_id: uuid.UUID,
    contact: dict[str, Any],
    observed_at: datetime,
    source_type: str,
) -> bool:
    """Keep the newest contact snapshot of a customer; False when a newer one is stored."""
    written = await conn.fetchval(
        """
        INSERT INTO customer_contacts (dealer_id, customer_id, contact, observed_at, source_type)
        VALUES ($1, $2, $3::jsonb, $4, $5)
        ON CONFLICT (dealer_id, customer_id) DO UPDATE
            SET contact = EXCLUDED.contact, observed_at = EXCLUDED.observed_at,
                source_type = EXCLUDED.source_type
            WHERE customer_contacts.observed_at <= EXCLUDED.observed_at
        RETURNING true
        """,
        dealer_id,
        customer_id,
        _dumps(contact),
        observed_at,
        source_type,
    )
    return bool(written)


async def contact_of(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID, *, for_update: bool = False
) -> dict[str, Any] | None:
    """The latest known contact snapshot of the dealer's customer."""
    lock = " FOR UPDATE" if for_update else ""
    raw = await conn.fetchval(
        "SELECT contact::text FROM customer_contacts WHERE dealer_id = $1 AND customer_id = $2"
        + lock,
        dealer_id,
        customer_id,
    )
    return json.loads(raw) if raw else None


async def set_contact(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID, contact: dict[str, Any]
) -> None:
    """Replace a stored snapshot in place (consent refresh keeps observed_at)."""
    await conn.execute(
        "UPDATE customer_contacts SET contact = $3::jsonb "
        "WHERE dealer_id = $1 AND customer_id = $2",
        dealer_id,
        customer_id,
        _dumps(contact),
    )


# -- triggers waiting for a contact ----------------------------------------------------------

_AWAITING_COLUMNS = (
    "dealer_id, trigger_ref, customer_id, event_type, event::text AS event, event_id, source, "
    "correlation_id, causation_id, event_time, topic, kafka_partition, kafka_offset, consumer, "
    "received_at"
)


async def park_trigger(conn: DbConnection, row: dict[str, Any]) -> bool:
    """Keep a trigger until the customer's contact is known; False if already kept."""
    written = await conn.fetchval(
        """
        INSERT INTO awaiting_contact (dealer_id, trigger_ref, customer_id, event_type, event,
            event_id, source, correlation_id, causation_id, event_time, topic,
            kafka_partition, kafka_offset, consumer, received_at)
        VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
        ON CONFLICT (dealer_id, trigger_ref) DO NOTHING
        RETURNING true
        """,
        row["dealer_id"],
        row["trigger_ref"],
        row["customer_id"],
        row["event_type"],
        row["event"],
        row["event_id"],
        row["source"],
        row["correlation_id"],
        row["causation_id"],
        row["event_time"],
        row["topic"],
        row["kafka_partition"],
        row["kafka_offset"],
        row["consumer"],
        row["received_at"],
    )
    return bool(written)


async def take_waiting_for(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> list[dict[str, Any]]:
    """Remove and return the triggers waiting for this customer's contact."""
    rows = await conn.fetch(
        f"DELETE FROM awaiting_contact WHERE dealer_id = $1 AND customer_id = $2 "
        f"RETURNING {_AWAITING_COLUMNS}",
        dealer_id,
        customer_id,
    )
    return [dict(r) for r in sorted(rows, key=lambda r: (r["received_at"], r["trigger_ref"]))]


async def take_waiting(
    conn: DbConnection, dealer_id: str, trigger_ref: str
) -> dict[str, Any] | None:
    """Remove and return one waiting trigger."""
    row = await conn.fetchrow(
        f"DELETE FROM awaiting_contact WHERE dealer_id = $1 AND trigger_ref = $2 "
        f"RETURNING {_AWAITING_COLUMNS}",
        dealer_id,
        trigger_ref,
    )
    return dict(row) if row else None
