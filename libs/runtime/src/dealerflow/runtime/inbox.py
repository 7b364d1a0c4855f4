"""The idempotent-consumer inbox: one row per (consumer, event id) already handled.

Claims run inside the caller's transaction, so the row commits (or rolls back) together
with the handler's effects; a redelivered event finds its row and changes nothing.
The table ``inbox(consumer, event_id, received_at, digest)`` comes from the runtime
migrations.

A row keeps the event's digest (:func:`event_digest`: its type, source, dealer, subject
and the payload fields it was sent with). An id that comes again with the same digest is
a redelivery (dropped); with another digest it is a different event under a used id (a
producer's bug or a forgery): :func:`claim_events` reports it as a conflict, and the
consumer dead-letters it instead of dropping it silently. A row without a digest (written
before the column existed, or by a consumer keyed on content) matches any body.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dealerflow.contracts.envelope import Envelope
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

_CLAIM_DIGESTS = """
INSERT INTO inbox (consumer, event_id, digest, received_at)
SELECT $1, c.event_id, c.digest, now() FROM unnest($2::text[], $3::bytea[]) AS c(event_id, digest)
ON CONFLICT (consumer, event_id) DO NOTHING
RETURNING event_id
"""

_DIGESTS_OF = """
SELECT event_id, digest FROM inbox WHERE consumer = $1 AND event_id = ANY($2::text[])
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


def event_digest(envelope: Envelope[Any]) -> bytes:
    """SHA-256 of what makes an event the same event: its type, source, dealer and
    subject, and the payload fields it was sent with (``exclude_unset``: a field a later
    version of the model adds with a default does not change the digest of an event
    recorded before it). Its time and tracing attributes are not part of it (a producer
    retrying may stamp them anew)."""
    meta = envelope.meta
    body = [
        meta.type,
        meta.source,
        meta.dealer_id,
        meta.subject,
        envelope.event.model_dump(mode="json", exclude_unset=True),
    ]
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).digest()


@dataclass
class Claimed:
    """What :func:`claim_events` found: the ids claimed now, and the digest each id of
    the batch is recorded with (the stored one for an id seen before, None for a row
    without one; the first copy's for an id claimed now)."""

    fresh: set[str] = field(default_factory=set)
    recorded: dict[str, bytes | None] = field(default_factory=dict)

    def conflicts(self, event_id: str, digest: bytes) -> bool:
        """True when ``event_id`` is recorded with a digest other than ``digest``: not a
        redelivery but another event under a used id."""
        known = self.recorded.get(event_id)
        return known is not None and known != digest


async def claim_events(
    conn: DbConnection, consumer: str, claims: Sequence[tuple[str, bytes]]
) -> Claimed:
    """Claim ``(event id, digest)`` pairs in one statement (a second one, reading the
    stored digests, only when some id was seen before). An id repeated within ``claims``
    is claimed by its first copy, whose digest the later copies are compared with."""
    first: dict[str, bytes] = {}
    for event_id, digest in claims:
        first.setdefault(event_id, digest)
    if not first:
        return Claimed()
    ids = list(first)
    rows = await conn.fetch(_CLAIM_DIGESTS, consumer, ids, [first[i] for i in ids])
    fresh = {row["event_id"] for row in rows}
    recorded: dict[str, bytes | None] = {i: first[i] for i in fresh}
    seen = [i for i in ids if i not in fresh]
    if seen:
        for row in await conn.fetch(_DIGESTS_OF, consumer, seen):
            recorded[row["event_id"]] = None if row["digest"] is None else bytes(row["digest"])
    return Claimed(fresh, recorded)
