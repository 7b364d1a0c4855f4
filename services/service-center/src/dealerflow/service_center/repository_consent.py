"""SQL of the consent refresh: the contact snapshots service-center keeps per customer
(repair orders, service appointments, owned vehicles)."""

from __future__ import annotations

import uuid

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.runtime.db import DbConnection

#: The tables with a customer's contact snapshot and the column that names a row.
CONTACT_TABLES = (
    ("repair_orders", "id::text"),
    ("service_appointments", "id::text"),
    ("owned_vehicles", "vin"),
)


async def contacts_of(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> list[tuple[str, str, ContactSnapshot]]:
    """(table, row key, contact) of every row holding the customer's contact, locked."""
    found: list[tuple[str, str, ContactSnapshot]] = []
    for table, key in CONTACT_TABLES:
        rows = await conn.fetch(
            f"SELECT {key} AS key, contact::text AS contact FROM {table} "
            "WHERE dealer_id = $1 AND customer_id = $2 ORDER BY 1 FOR UPDATE",
            dealer_id,
            customer_id,
        )
        found += [
            (table, r["key"], ContactSnapshot.model_validate_json(r["contact"])) for r in rows
        ]
    return found


async def set_contact(
    conn: DbConnection, table: str, dealer_id: str, key: str, contact: ContactSnapshot
) -> None:
    """Replace the contact snapshot of one row of a ``CONTACT_TABLES`` table."""
    column = dict(CONTACT_TABLES)[table]
    await conn.execute(
        f"UPDATE {table} SET contact = $3::jsonb WHERE dealer_id = $1 AND {column} = $2",
        dealer_id,
        key,
        contact.model_dump_json(),
    )
