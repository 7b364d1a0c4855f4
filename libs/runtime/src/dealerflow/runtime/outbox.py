"""Transactional outbox: Kafka records written in the business transaction.

A use case writes its state change and the records announcing it with the same
connection, inside one transaction (:func:`enqueue`). If the transaction rolls back,
neither exists; if it commits, the :class:`~dealerflow.runtime.relay.OutboxRelay` publishes
the records, woken by the NOTIFY that PostgreSQL delivers only at commit, and deletes
each row once Kafka has acknowledged it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dealerflow.runtime.db import DbConnection

__all__ = [
    "OutboxMessage",
    "decode_headers",
    "encode_headers",
    "enqueue",
    "notify_channel",
]

# One statement, one round trip for any number of messages. WITH ORDINALITY + ORDER BY
# keep the ids in the caller's order, which is the order the relay publishes in. The
# NOTIFY's payload is the first (lowest) id the transaction wrote, kept in a
# transaction-local setting so that every enqueue of one transaction sends the same
# payload (PostgreSQL folds them into one notification): the relay reads new rows above
# the highest id it has read, and a transaction that commits after higher ids were read
# tells it so. A rolled-back savepoint takes its setting and its NOTIFY with it.
_ENQUEUE = """
WITH inserted AS (
    INSERT INTO outbox (topic, key, value, headers)
    SELECT m.topic, m.key, m.value, m.headers::jsonb
    FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::text[])
         WITH ORDINALITY AS m(topic, key, value, headers, n)
    ORDER BY m.n
    RETURNING id
)
SELECT pg_notify(
    left(current_schema() || '_outbox', 63),
    coalesce(
        nullif(current_setting('dealerflow.outbox_first_id', true), ''),
        set_config('dealerflow.outbox_first_id', (SELECT min(id) FROM inserted)::text, true)
    )
)
"""


@dataclass(frozen=True)
class OutboxMessage:
    """A Kafka record to publish once the surrounding transaction commits."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def notify_channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel on which :func:`enqueue` wakes the relay of ``schema``."""
    return f"{schema}_outbox"[:63]


def encode_headers(headers: Sequence[tuple[str, bytes]]) -> str:
    """Headers as JSON text: ``[[name, "utf-8 text"] | [name, {"b64": "..."}], ...]``.

    Text stays readable for operators querying the table; other bytes survive intact,
    NUL included (``jsonb`` refuses ``\\u0000``: a dead letter of a record with a NUL
    in a header would otherwise fail its whole batch). A name with a NUL is
    ``{"b64": "..."}`` too; a null value is written as an empty one.
    """
    pairs: list[list[Any]] = []
    for name, raw in headers:
        # a null value (Kafka allows it on a consumed record, kept by a dead letter's
        # copy of its headers) is written empty: refusing it would fail the whole batch
        value = b"" if raw is None else raw
        if "\x00" in name:  # both as base64 (decode_headers' all-text path then skips it)
            pairs.append([_b64(name.encode()), _b64(value)])
        elif b"\x00" in value:
            pairs.append([name, _b64(value)])
        else:
            try:
                pairs.append([name, value.decode("utf-8")])
            except UnicodeDecodeError:
                pairs.append([name, _b64(value)])
    return json.dumps(pairs, ensure_ascii=False, separators=(",", ":"))


def _b64(raw: bytes) -> dict[str, str]:
    return {"b64": base64.b64encode(raw).decode("ascii")}


def decode_headers(raw: str | list[Any]) -> list[tuple[str, bytes]]:
    """Inverse of :func:`encode_headers` (accepts the JSON text or the decoded list)."""
    pairs = json.loads(raw) if isinstance(raw, str) else raw
    # the relay decodes every row: keep the common all-text case a single comprehension
    try:
        return [(name, value.encode()) for name, value in pairs]
    except AttributeError:
        return [(_text_name(name), _bytes(v)) for name, v in pairs]


def _bytes(value: Any) -> bytes:
    return base64.b64decode(value["b64"]) if isinstance(value, dict) else str(value).encode()


def _text_name(name: Any) -> str:
    return _bytes(name).decode("utf-8") if isinstance(name, dict) else str(name)


async def enqueue(conn: DbConnection, messages: Sequence[OutboxMessage]) -> None:
    """Insert ``messages`` into the outbox on ``conn`` and notify the relay.

    Call it inside the caller's transaction (``async with conn.transaction():``) so the
    records commit or roll back with the business change. The NOTIFY is delivered only
    at commit, so the relay never wakes for a transaction that rolled back. Messages are
    published in the order given (per key, Kafka keeps that order).
    """
    if not messages:
        return
    await conn.execute(
        _ENQUEUE,
        [m.topic for m in messages],
        [m.key for m in messages],
        [m.value for m in messages],
        [encode_headers(m.headers) for m in messages],
    )
