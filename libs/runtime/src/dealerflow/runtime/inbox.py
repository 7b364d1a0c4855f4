"""The idempotent-consumer inbox: one row per (consumer, event id) already handled.

Claims run inside the caller's transaction, so the row commits (or rolls back) together
with the handler's effects; a redelivered event finds its row and changes nothing.
The table ``inbox(consumer, event_id, received_at)`` comes from the runtime migrations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dealerflow.runtime.db import DbConnection

_CLAIM_ONE = """
INSERT INTO inbox (consumer, event_id, received_at)
VALUES ($1, $2, now())
ON CONFLICT (consumer, event_id) DO NOTHING
RETURNING event_id
"""

# One round trip for a whole batch: unnest the ids, keep the ones that were new.
_CLAIM_MANY = """
INSERT INTO inbox (consumer, event_id, received_at)
SELECT $1, ids.event_id, now() FROM unnest($2::text[]) AS ids(event_id)
ON CONFLICT (consumer, event_id) DO NOTHING
RETURNING event_id
"""

_RELEASE_MANY = """
DELETE FROM inbox WHERE consumer = $1 AND event_id = ANY($2::text[])
"""


async def claim(conn: DbConnection, consumer: str, event_id: str) -> bool:
    """Record that ``consumer`` handles ``event_id``; False if it already did (a duplicate)."""
    return await conn.fetchval(_CLAIM_ONE, consumer, event_id) is not None


async def claim_many(conn: DbConnection, consumer: str, event_ids: Sequence[str]) -> set[str]:
    """Claim many event ids in one statement; returns the ids that were NOT seen before.

    Ids repeated within ``event_ids`` are claimed once (and returned once).
    """
    if not event_ids:
        return set()
    unique = list(dict.fromkeys(event_ids))
    rows = await conn.fetch(_CLAIM_MANY, consumer, unique)
    return {row["event_id"] for row in rows}


async def release(conn: DbConnection, consumer: str, event_ids: Iterable[str]) -> None:
    """Forget claims made in this transaction (used for events sent to the dead-letter topic,
    so that a replay from the DLQ is processed rather than dropped as a duplicate)."""
    ids = list(event_ids)
    if ids:
        await conn.execute(_RELEASE_MANY, consumer, ids)
