"""SQL of the care-calendar preview: the rows the current transaction wrote (inserted or
updated: their ``xmin`` is the transaction's id), read before it is rolled back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from dealerflow.runtime.db import DbConnection

_MINE = "xmin = pg_current_xact_id()::xid"


@dataclass(frozen=True, slots=True)
class WrittenTask:
    business_key: str
    kind: str
    status: str
    assignee: str | None
    assignee_role: str | None
    due_at: datetime
    title: str


@dataclass(frozen=True, slots=True)
class WrittenReminder:
    business_key: str
    kind: str
    status: str
    channel: str
    purpose: str
    send_at: datetime


@dataclass(frozen=True, slots=True)
class WrittenMessage:
    """A notification row: a message to staff (or a customer) queued at once."""

    business_key: str
    kind: str
    audience: str
    channel: str
    status: str
    policy: str | None


@dataclass(frozen=True, slots=True)
class WrittenTimer:
    key: str
    kind: str
    status: str
    due_at: datetime
    payload: dict[str, object]


@dataclass(frozen=True, slots=True)
class Written:
    tasks: list[WrittenTask]
    reminders: list[WrittenReminder]
    messages: list[WrittenMessage]
    timers: list[WrittenTimer]


async def written_in_transaction(conn: DbConnection) -> Written:
    """Every task, reminder, notification and timer row this transaction wrote."""
    tasks = await conn.fetch(
        f"SELECT business_key, kind, status, assignee, assignee_role, due_at, title "
        f"FROM tasks WHERE {_MINE} ORDER BY due_at, business_key"
    )
    reminders = await conn.fetch(
        f"SELECT business_key, kind, status, channel, purpose, send_at "
        f"FROM reminders WHERE {_MINE} ORDER BY send_at, business_key"
    )
    messages = await conn.fetch(
        f"SELECT business_key, kind, audience, channel, status, policy "
        f"FROM notifications WHERE {_MINE} ORDER BY created_at, business_key"
    )
    timers = await conn.fetch(
        f"SELECT key, kind, status, due_at, payload::text AS payload "
        f"FROM timers WHERE {_MINE} ORDER BY due_at, key"
    )
    return Written(
        tasks=[WrittenTask(**dict(r)) for r in tasks],
        reminders=[WrittenReminder(**dict(r)) for r in reminders],
        messages=[WrittenMessage(**dict(r)) for r in messages],
        timers=[
            WrittenTimer(**{**dict(r), "payload": json.loads(r["payload"] or "{}")}) for r in timers
        ],
    )
