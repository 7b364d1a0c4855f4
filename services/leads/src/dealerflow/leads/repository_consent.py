"""SQL of the consent refresh: the contact snapshots the leads of a customer keep."""

from __future__ import annotations

import uuid

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.runtime.db import DbConnection


async def lead_contacts_of(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> list[tuple[uuid.UUID, ContactSnapshot]]:
    """Every lead of the customer with its contact snapshot, locked for the refresh."""
    rows = await conn.fetch(
        "SELECT lead_id, contact::text AS contact FROM leads "
        "WHERE dealer_id = $1 AND customer_id = $2 ORDER BY lead_id FOR UPDATE",
        dealer_id,
        customer_id,
    )
    return [(r["lead_id"], ContactSnapshot.model_validate_json(r["contact"])) for r in rows]


async def set_lead_contact(
    conn: DbConnection, dealer_id: str, lead_id: uuid.UUID, contact: ContactSnapshot
) -> None:
    """Replace a lead's contact snapshot (the lead's other columns stay as they are)."""
    await conn.execute(
        "UPDATE leads SET contact = $3::jsonb WHERE dealer_id = $1 AND lead_id = $2",
        dealer_id,
        lead_id,
        contact.model_dump_json(),
    )
