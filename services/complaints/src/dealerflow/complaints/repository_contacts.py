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
