"""SQL of customer reminders and notifications (asyncpg). Every statement is scoped by
``dealer_id``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from dealerflow.notifier.records import NewReminder, NotificationRow, ReminderRow
from dealerflow.notifier.repository import contact_of, to_json
from dealerflow.runtime.db import DbConnection

_REMINDER_COLUMNS = ", ".join(
    f"{c}::text AS {c}" if c in ("params", "contact") else c for c in ReminderRow.__slots__
)
_NOTIFICATION_COLUMNS = ", ".join(NotificationRow.__slots__)


def _reminder(row: asyncpg.Record | None) -> ReminderRow | None:
    if row is None:
        return None
    data = dict(row)
    data["params"] = json.loads(data["params"])
    data["contact"] = contact_of(data["contact"])
    return ReminderRow(**data)


# -- reminders ------------------------------------------------------------------------------


async def insert_reminders(
    conn: DbConnection, reminders: Sequence[NewReminder]
) -> list[ReminderRow]:
    """Insert reminders with one statement; returns those created (in the order given):
    not one whose business key the dealer already has, nor a repeat of a key in
    ``reminders`` (the first one wins)."""
    if not reminders:
        return []
    rows = await conn.fetch(
        f"""
        INSERT INTO reminders (id, dealer_id, customer_id, business_key, kind, purpose, channel,
                               send_at, params, contact, related_kind, related_id,
                               source_event_id, created_at, updated_at)
        SELECT r.id, r.dealer_id, r.customer_id, r.business_key, r.kind, r.purpose, r.channel,
               r.send_at, r.params::jsonb, r.contact::jsonb, r.related_kind, r.related_id,
               r.source_event_id, r.created_at, r.created_at
        FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[],
                    $7::text[], $8::timestamptz[], $9::text[], $10::text[], $11::text[],
                    $12::text[], $13::text[], $14::timestamptz[])
             WITH ORDINALITY AS r(id, dealer_id, customer_id, business_key, kind, purpose,
                                  channel, send_at, params, contact, related_kind,
                                  related_id, source_event_id, created_at, n)
        ORDER BY r.n
        ON CONFLICT (dealer_id, business_key) DO NOTHING
        RETURNING {_REMINDER_COLUMNS}
        """,
        [r.id for r in reminders],
        [r.dealer_id for r in reminders],
        [r.customer_id for r in reminders],
        [r.business_key for r in reminders],
        [r.kind for r in reminders],
        [r.purpose for r in reminders],
        [r.channel for r in reminders],
        [r.send_at for r in reminders],
        [to_json(dict(r.params)) for r in reminders],
        [r.contact.model_dump_json() if r.contact is not None else None for r in reminders],
        [r.related_kind for r in reminders],
        [r.related_id for r in reminders],
        [r.source_event_id for r in reminders],
        [r.created_at for r in reminders],
    )
    order = {r.id: n for n, r in enumerate(reminders)}
    created = [row for row in (_reminder(r) for r in rows) if row is not None]
    return sorted(created, key=lambda row: order[row.id])


async def get_reminder(
    conn: DbConnection, dealer_id: str, reminder_id: uuid.UUID, *, for_update: bool = False
) -> ReminderRow | None:
    """The dealer's reminder ``reminder_id``."""
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_REMINDER_COLUMNS} FROM reminders WHERE dealer_id = $1 AND id = $2{lock}",
        dealer_id,
        reminder_id,
    )
    return _reminder(row)


async def update_reminder(
    conn: DbConnection,
    dealer_id: str,
    reminder_id: uuid.UUID,
    *,
    status: str,
    now: datetime,
    send_at: datetime | None = None,
    attempts: int | None = None,
) -> None:
    """Set a reminder's status (and its next send time / attempt count)."""
    await conn.execute(
        """
        UPDATE reminders SET status = $3, updated_at = $4,
            send_at = coalesce($5, send_at), attempts = coalesce($6, attempts)
        WHERE dealer_id = $1 AND id = $2
        """,
        dealer_id,
        reminder_id,
        status,
        now,
        send_at,
        attempts,
    )


async def list_reminders(
    conn: DbConnection,
    dealer_id: str,
    customer_id: uuid.UUID | None,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[ReminderRow]:
    """Reminders ordered by (send_at, id) after the keyset ``after``."""
    rows = await conn.fetch(
        f"""
        SELECT {_REMINDER_COLUMNS} FROM reminders
        WHERE dealer_id = $1 AND ($2::uuid IS NULL OR customer_id = $2)
          AND ($3::timestamptz IS NULL OR (send_at, id) > ($3, $4::uuid))
        ORDER BY send_at, id
        LIMIT $5
        """,
        dealer_id,
        customer_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [r for r in (_reminder(row) for row in rows) if r is not None]


async def scheduled_reminders(
    conn: DbConnection, dealer_id: str, key_prefix: str
) -> list[ReminderRow]:
    """The dealer's reminders not sent yet (``scheduled``, also one waiting for a retry)
    whose business key starts with ``key_prefix``; not locked."""
    rows = await conn.fetch(
        f"SELECT {_REMINDER_COLUMNS} FROM reminders"
        " WHERE dealer_id = $1 AND status = 'scheduled' AND starts_with(business_key, $2)"
        " ORDER BY send_at, id",
        dealer_id,
        key_prefix,
    )
    return [r for r in (_reminder(row) for row in rows) if r is not None]


async def scheduled_reminders_about(
    conn: DbConnection, dealer_id: str, related_kind: str, related_id: str, kind: str
) -> list[ReminderRow]:
    """The dealer's reminders of ``kind`` not sent yet about the record
    (``related_kind``, ``related_id``); not locked."""
    rows = await conn.fetch(
        f"SELECT {_REMINDER_COLUMNS} FROM reminders"
        " WHERE dealer_id = $1 AND status = 'scheduled' AND related_kind = $2"
        " AND related_id = $3 AND kind = $4 ORDER BY send_at, id",
        dealer_id,
        related_kind,
        related_id,
        kind,
    )
    return [r for r in (_reminder(row) for row in rows) if r is not None]


async def cancel_scheduled_reminders(
    conn: DbConnection, dealer_id: str, business_keys: list[str], now: datetime
) -> int:
    """Cancel those of the reminders ``business_keys`` still not sent; how many."""
    status = await conn.execute(
        "UPDATE reminders SET status = 'cancelled', updated_at = $3"
        " WHERE dealer_id = $1 AND business_key = ANY($2::text[]) AND status = 'scheduled'",
        dealer_id,
        business_keys,
        now,
    )
    return int(status.rsplit(" ", 1)[-1])


# -- notifications --------------------------------------------------------------------------


async def insert_notification(conn: DbConnection, n: NotificationRow) -> None:
    """Record a message (any audience, any outcome)."""
    await conn.execute(
        f"INSERT INTO notifications ({_NOTIFICATION_COLUMNS}) VALUES "
        f"({', '.join(f'${i}' for i in range(1, len(NotificationRow.__slots__) + 1))})",
        *(getattr(n, c) for c in NotificationRow.__slots__),
    )


async def get_notification(
    conn: DbConnection, dealer_id: str, notification_id: uuid.UUID, *, for_update: bool = False
) -> NotificationRow | None:
    """The dealer's notification ``notification_id``."""
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_NOTIFICATION_COLUMNS} FROM notifications WHERE dealer_id = $1 AND id = $2{lock}",
        dealer_id,
        notification_id,
    )
    return None if row is None else NotificationRow(**dict(row))


async def finish_notification(
    conn: DbConnection,
    dealer_id: str,
    notification_id: uuid.UUID,
    *,
    status: str,
    attempts: int,
    error: str | None,
    provider_message_id: str | None,
    sent_at: datetime | None,
) -> None:
    """Record the outcome of delivering a queued notification."""
    await conn.execute(
        """
        UPDATE notifications SET status = $3, attempts = $4, error = $5,
            provider_message_id = $6, sent_at = $7
        WHERE dealer_id = $1 AND id = $2
        """,
        dealer_id,
        notification_id,
        status,
        attempts,
        error,
        provider_message_id,
        sent_at,
    )


async def sent_keys(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID, business_key: str
) -> set[str]:
    """``{business_key}`` if a customer message with that key was already sent, else {}."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT business_key FROM notifications
        WHERE dealer_id = $1 AND customer_id = $2 AND business_key = $3 AND status = 'sent'
          AND audience = 'customer'
        """,
        dealer_id,
        customer_id,
        business_key,
    )
    return {r["business_key"] for r in rows}


async def marketing_sent_since(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID, since: datetime
) -> int:
    """Marketing messages sent to the customer since ``since``."""
    count = await conn.fetchval(
        """
        SELECT count(*) FROM notifications
        WHERE dealer_id = $1 AND customer_id = $2 AND status = 'sent'
          AND audience = 'customer' AND purpose = 'marketing' AND sent_at >= $3
        """,
        dealer_id,
        customer_id,
        since,
    )
    return int(count or 0)


async def list_notifications(
    conn: DbConnection,
    dealer_id: str,
    customer_id: uuid.UUID | None,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[NotificationRow]:
    """Notifications ordered by (created_at, id) after the keyset ``after``."""
    rows = await conn.fetch(
        f"""
        SELECT {_NOTIFICATION_COLUMNS} FROM notifications
        WHERE dealer_id = $1 AND ($2::uuid IS NULL OR customer_id = $2)
          AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4::uuid))
        ORDER BY created_at, id
        LIMIT $5
        """,
        dealer_id,
        customer_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [NotificationRow(**dict(r)) for r in rows]


async def notification_exists(conn: DbConnection, dealer_id: str, business_key: str) -> bool:
    """Whether a message with this business key was recorded (any audience or status)."""
    found = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM notifications WHERE dealer_id = $1 AND business_key = $2)",
        dealer_id,
        business_key,
    )
    return bool(found)
