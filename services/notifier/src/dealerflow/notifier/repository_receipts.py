"""SQL of delivery receipts (asyncpg): the notifications a provider's receipt names and
what the receipt records on them. The lookup runs for every dealer (a provider's push
names no dealer, one push may carry several dealers' messages); every update is scoped by
the row's ``dealer_id``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from dealerflow.notifier.records import NotificationRow
from dealerflow.runtime.db import DbConnection

_COLUMNS = ", ".join(NotificationRow.__slots__)


async def notifications_by_provider_id(
    conn: DbConnection, channel: str, provider_message_ids: Sequence[str]
) -> list[NotificationRow]:
    """The notifications sent on ``channel`` under any of ``provider_message_ids``,
    locked (a provider repeating a receipt concurrently waits for the first)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM notifications"
        " WHERE channel = $1 AND provider_message_id = ANY($2::text[])"
        " ORDER BY created_at, id FOR UPDATE",
        channel,
        list(provider_message_ids),
    )
    return [NotificationRow(**dict(r)) for r in rows]


async def mark_delivered(
    conn: DbConnection, dealer_id: str, notification_id: uuid.UUID, at: datetime
) -> None:
    """Record when a sent notification reached its recipient (first receipt wins)."""
    await conn.execute(
        "UPDATE notifications SET delivered_at = $3"
        " WHERE dealer_id = $1 AND id = $2 AND status = 'sent' AND delivered_at IS NULL",
        dealer_id,
        notification_id,
        at,
    )


async def mark_undelivered(
    conn: DbConnection, dealer_id: str, notification_id: uuid.UUID, error: str
) -> None:
    """Turn a sent notification the provider could not deliver into a failed one."""
    await conn.execute(
        "UPDATE notifications SET status = 'failed', error = $3"
        " WHERE dealer_id = $1 AND id = $2 AND status = 'sent' AND delivered_at IS NULL",
        dealer_id,
        notification_id,
        error,
    )
