"""SQL of the contact directory: the latest contact snapshot per customer, from any event
that carries one (leads, sales, service), refreshed by ConsentChanged; and the triggers
waiting for a contact. Scoped by dealer."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from dealerflow.complaints.records import ParkedTrigger
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.runtime.batches import columns
from dealerflow.runtime.db import DbConnection


@dataclass(frozen=True)
class ContactSeen:
    """A contact snapshot an event carried: whose, as of when, on which event type."""

    dealer_id: str
    customer_id: uuid.UUID
    contact: ContactSnapshot
    observed_at: datetime
    source_type: str


async def upsert_contacts(conn: DbConnection, seen: Sequence[ContactSeen]) -> None:
    """Keep the newest contact snapshot of each customer, with one statement: of
    ``seen``, a customer's newest (of two as old, the later one), unless the stored one
    is newer."""
    if not seen:
        return
    await conn.execute(
        """
        INSERT INTO customer_contacts (dealer_id, customer_id, contact, observed_at, source_type)
        SELECT DISTINCT ON (dealer_id, customer_id)
            dealer_id, customer_id, contact::jsonb, observed_at, source_type
        FROM unnest($1::text[], $2::uuid[], $3::text[], $4::timestamptz[], $5::text[])
            WITH ORDINALITY AS s (dealer_id, customer_id, contact, observed_at, source_type, n)
        ORDER BY dealer_id, customer_id, observed_at DESC, n DESC
        ON CONFLICT (dealer_id, customer_id) DO UPDATE
            SET contact = EXCLUDED.contact, observed_at = EXCLUDED.observed_at,
                source_type = EXCLUDED.source_type
            WHERE customer_contacts.observed_at <= EXCLUDED.observed_at
        """,
        *columns(
            seen,
            "dealer_id customer_id contact observed_at source_type",
            contact=ContactSnapshot.model_dump_json,
        ),
    )


async def contact_of(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID, *, for_update: bool = False
) -> ContactSnapshot | None:
    """The latest known contact snapshot of the dealer's customer."""
    lock = " FOR UPDATE" if for_update else ""
    raw = await conn.fetchval(
        "SELECT contact::text FROM customer_contacts WHERE dealer_id = $1 AND customer_id = $2"
        + lock,
        dealer_id,
        customer_id,
    )
    return ContactSnapshot.model_validate_json(raw) if raw else None


async def set_contact(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID, contact: ContactSnapshot
) -> None:
    """Replace a stored snapshot in place (consent refresh keeps observed_at)."""
    await conn.execute(
        "UPDATE customer_contacts SET contact = $3::jsonb "
        "WHERE dealer_id = $1 AND customer_id = $2",
        dealer_id,
        customer_id,
        contact.model_dump_json(),
    )


# -- triggers waiting for a contact ----------------------------------------------------------

_PARKED_COLUMNS = (
    "dealer_id, trigger_ref, customer_id, event_type, event::text AS event, event_id, source, "
    "correlation_id, causation_id, event_time, traceparent, tracestate, topic, "
    "kafka_partition, kafka_offset, consumer, received_at"
)


def _parked(row: asyncpg.Record) -> ParkedTrigger:
    return ParkedTrigger(**dict(row))


async def park_trigger(conn: DbConnection, p: ParkedTrigger) -> bool:
    """Keep a trigger until the customer's contact is known; False if already kept."""
    written = await conn.fetchval(
        """
        INSERT INTO awaiting_contact (dealer_id, trigger_ref, customer_id, event_type, event,
            event_id, source, correlation_id, causation_id, event_time, traceparent,
            tracestate, topic, kafka_partition, kafka_offset, consumer, received_at)
        VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
            $16, $17)
        ON CONFLICT (dealer_id, trigger_ref) DO NOTHING
        RETURNING true
        """,
        p.dealer_id,
        p.trigger_ref,
        p.customer_id,
        p.event_type,
        p.event,
        p.event_id,
        p.source,
        p.correlation_id,
        p.causation_id,
        p.event_time,
        p.traceparent,
        p.tracestate,
        p.topic,
        p.kafka_partition,
        p.kafka_offset,
        p.consumer,
        p.received_at,
    )
    return bool(written)


async def take_waiting_for(
    conn: DbConnection, customers: Sequence[tuple[str, uuid.UUID]]
) -> list[ParkedTrigger]:
    """Remove and return the triggers waiting for the contact of any of ``customers``
    (dealer, customer), oldest first, with one statement."""
    if not customers:
        return []
    rows = await conn.fetch(
        f"DELETE FROM awaiting_contact WHERE (dealer_id, customer_id) IN "
        f"(SELECT * FROM unnest($1::text[], $2::uuid[])) RETURNING {_PARKED_COLUMNS}",
        [dealer_id for dealer_id, _ in customers],
        [customer_id for _, customer_id in customers],
    )
    return sorted(map(_parked, rows), key=lambda p: (p.received_at, p.trigger_ref))


async def take_waiting(
    conn: DbConnection, dealer_id: str, trigger_ref: str
) -> ParkedTrigger | None:
    """Remove and return one waiting trigger."""
    row = await conn.fetchrow(
        f"DELETE FROM awaiting_contact WHERE dealer_id = $1 AND trigger_ref = $2 "
        f"RETURNING {_PARKED_COLUMNS}",
        dealer_id,
        trigger_ref,
    )
    return _parked(row) if row else None
