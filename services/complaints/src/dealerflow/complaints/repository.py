"""All SQL of the complaints service (asyncpg). Every query is scoped by dealer_id."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from dealerflow.complaints.domain import ComplaintStatus
from dealerflow.complaints.records import ClockRecord, ComplaintRecord, HistoryRecord
from dealerflow.contracts.care_enums import SlaClock
from dealerflow.policy import SlaSpec
from dealerflow.runtime.db import DbConnection

_COMPLAINT_COLUMNS = (
    "id, dealer_id, customer_id, status, channel, category, severity, summary, details, "
    "handler_id, department, vin, origin_kind, origin_ref, origin::text AS origin, "
    "contact::text AS contact, opened_at, escalation_level, "
    "reopen_count, paused_at, pause_reason, acknowledged_at, informed_at, first_resolved_at, "
    "resolved_at, closed_at, reopened_at, resolution::text AS resolution"
)
_CLOCK_COLUMNS = (
    "complaint_id, dealer_id, kind, reopen_count, status, sla::text AS sla, pausable, attempt, "
    "started_at, due_at, first_due_at, paused_at, remaining, timer_key, breaches, "
    "last_breached_at, escalation_level, stopped_at, stopped_by"
)
# Columns a use case may change with `update_complaint`.
_UPDATABLE = frozenset(
    {
        "status",
        "handler_id",
        "department",
        "escalation_level",
        "reopen_count",
        "paused_at",
        "pause_reason",
        "acknowledged_at",
        "informed_at",
        "first_resolved_at",
        "resolved_at",
        "closed_at",
        "reopened_at",
        "resolution",
        "contact",
    }
)
_JSON_COLUMNS = frozenset({"resolution", "contact"})


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _complaint(row: asyncpg.Record) -> ComplaintRecord:
    data = dict(row)
    data["status"] = ComplaintStatus(data["status"])
    data["origin"] = json.loads(data["origin"])
    data["contact"] = json.loads(data["contact"])
    data["resolution"] = json.loads(data["resolution"]) if data["resolution"] else None
    return ComplaintRecord(**data)


def _clock(row: asyncpg.Record) -> ClockRecord:
    data = dict(row)
    data["kind"] = SlaClock(data["kind"])
    data["sla"] = SlaSpec.model_validate_json(data["sla"])
    return ClockRecord(**data)


# -- complaints ------------------------------------------------------------------------------


async def insert_complaint(conn: DbConnection, c: ComplaintRecord) -> bool:
    """Insert a new complaint; False when its id or origin exists already (the caller then
    looks up which)."""
    created = await conn.fetchval(
        """
        INSERT INTO complaints (id, dealer_id, customer_id, status, channel, category, severity,
            summary, details, handler_id, department, vin, origin_kind, origin_ref, origin,
            contact, opened_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb,
            $16::jsonb, $17)
        ON CONFLICT DO NOTHING
        RETURNING true
        """,
        c.id,
        c.dealer_id,
        c.customer_id,
        c.status.value,
        c.channel,
        c.category,
        c.severity,
        c.summary,
        c.details,
        c.handler_id,
        c.department,
        c.vin,
        c.origin_kind,
        c.origin_ref,
        _dumps(c.origin),
        _dumps(c.contact),
        c.opened_at,
    )
    return bool(created)


async def get_complaint(
    conn: DbConnection, dealer_id: str, complaint_id: uuid.UUID, *, for_update: bool = False
) -> ComplaintRecord | None:
    """The dealer's complaint (locked for the transaction with ``for_update``)."""
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_COMPLAINT_COLUMNS} FROM complaints WHERE dealer_id = $1 AND id = $2{lock}",
        dealer_id,
        complaint_id,
    )
    return _complaint(row) if row else None


async def lock_complaint_timers(
    conn: DbConnection, dealer_id: str, complaint_id: uuid.UUID
) -> None:
    """Lock the complaint's pending timers (the runtime's timers table), waiting for a timer
    poller that is firing one of them right now.

    Actions call this BEFORE locking the complaint row: the poller holds a timer and then
    locks the complaint, so taking the locks in the same order never deadlocks (and the
    poller skips timers locked here, firing none of them once the action cancelled it).
    """
    prefix = f"complaint:{complaint_id}:"
    await conn.execute(
        "SELECT 1 FROM timers WHERE status = 'pending' AND dealer_id = $1 "
        "AND starts_with(key, $2) FOR UPDATE",
        dealer_id,
        prefix,
    )


async def find_by_origin(
    conn: DbConnection, dealer_id: str, origin_ref: str
) -> ComplaintRecord | None:
    """The dealer's complaint opened by the trigger ``origin_ref``."""
    row = await conn.fetchrow(
        f"SELECT {_COMPLAINT_COLUMNS} FROM complaints WHERE dealer_id = $1 AND origin_ref = $2",
        dealer_id,
        origin_ref,
    )
    return _complaint(row) if row else None


async def update_complaint(
    conn: DbConnection, dealer_id: str, complaint_id: uuid.UUID, **changes: Any
) -> None:
    """Set ``changes`` (column -> value) on the dealer's complaint."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    sets, args = [], [dealer_id, complaint_id]
    for column, value in changes.items():
        args.append(_dumps(value) if column in _JSON_COLUMNS and value is not None else value)
        cast = "::jsonb" if column in _JSON_COLUMNS else ""
        sets.append(f"{column} = ${len(args)}{cast}")
    await conn.execute(
        f"UPDATE complaints SET {', '.join(sets)}, updated_at = now() "
        "WHERE dealer_id = $1 AND id = $2",
        *args,
    )


@dataclass(frozen=True)
class ComplaintFilter:
    """Filters of the complaint list (all optional except the dealer)."""

    dealer_id: str
    status: str | None = None
    severity: str | None = None
    category: str | None = None
    channel: str | None = None
    customer_id: uuid.UUID | None = None
    handler_id: str | None = None
    origin_kind: str | None = None


async def list_complaints(
    conn: DbConnection,
    where: ComplaintFilter,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[ComplaintRecord]:
    """The dealer's complaints, newest first, matching ``where``, after a keyset position."""
    clauses: list[str] = ["dealer_id = $1"]
    args: list[Any] = [where.dealer_id]
    for column in ("status", "severity", "category", "channel", "customer_id", "handler_id"):
        value = getattr(where, column)
        if value is not None:
            args.append(value)
            clauses.append(f"{column} = ${len(args)}")
    if where.origin_kind is not None:
        args.append(where.origin_kind)
        clauses.append(f"origin_kind = ${len(args)}")
    if after is not None:
        args.extend(after)
        clauses.append(f"(opened_at, id) < (${len(args) - 1}, ${len(args)})")
    args.append(limit)
    rows = await conn.fetch(
        f"SELECT {_COMPLAINT_COLUMNS} FROM complaints WHERE {' AND '.join(clauses)} "
        f"ORDER BY opened_at DESC, id DESC LIMIT ${len(args)}",
        *args,
    )
    return [_complaint(r) for r in rows]


# -- clocks ----------------------------------------------------------------------------------


async def insert_clocks(conn: DbConnection, clocks: Sequence[ClockRecord]) -> None:
    """Store freshly armed clocks."""
    await conn.executemany(
        """
        INSERT INTO complaint_clocks (complaint_id, dealer_id, kind, reopen_count, status, sla,
            pausable, attempt, started_at, due_at, first_due_at, timer_key)
        VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12)
        """,
        [
            (
                c.complaint_id,
                c.dealer_id,
                c.kind.value,
                c.reopen_count,
                c.status,
                c.sla.model_dump_json(),
                c.pausable,
                c.attempt,
                c.started_at,
                c.due_at,
                c.first_due_at,
                c.timer_key,
            )
            for c in clocks
        ],
    )


async def clocks_of(
    conn: DbConnection, dealer_id: str, complaint_id: uuid.UUID
) -> list[ClockRecord]:
    """Every clock of the dealer's complaint (each arming), in a stable order."""
    rows = await conn.fetch(
        f"SELECT {_CLOCK_COLUMNS} FROM complaint_clocks WHERE dealer_id = $1 AND complaint_id = $2"
        " ORDER BY reopen_count, array_position("
        "ARRAY['acknowledge','first_update','resolve','inform'], kind)",
        dealer_id,
        complaint_id,
    )
    return [_clock(r) for r in rows]


async def save_clock(conn: DbConnection, c: ClockRecord) -> None:
    """Write back a clock's changing fields."""
    await conn.execute(
        """
        UPDATE complaint_clocks SET status = $5, attempt = $6, started_at = $7, due_at = $8,
            paused_at = $9, remaining = $10, timer_key = $11, breaches = $12,
            last_breached_at = $13, escalation_level = $14, stopped_at = $15, stopped_by = $16
        WHERE dealer_id = $1 AND complaint_id = $2 AND kind = $3 AND reopen_count = $4
        """,
        c.dealer_id,
        c.complaint_id,
        c.kind.value,
        c.reopen_count,
        c.status,
        c.attempt,
        c.started_at,
        c.due_at,
        c.paused_at,
        c.remaining,
        c.timer_key,
        c.breaches,
        c.last_breached_at,
        c.escalation_level,
        c.stopped_at,
        c.stopped_by,
    )


# -- history ---------------------------------------------------------------------------------


async def add_history(
    conn: DbConnection,
    *,
    dealer_id: str,
    complaint_id: uuid.UUID,
    action: str,
    actor: str | None,
    at: datetime,
    details: dict[str, Any] | None = None,
    trigger_ref: str | None = None,
) -> bool:
    """Record an action; False when ``trigger_ref`` was recorded before (nothing written)."""
    written = await conn.fetchval(
        """
        INSERT INTO complaint_history (complaint_id, dealer_id, action, actor, at, details,
            trigger_ref)
        VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
        ON CONFLICT (dealer_id, trigger_ref) WHERE trigger_ref IS NOT NULL DO NOTHING
        RETURNING true
        """,
        complaint_id,
        dealer_id,
        action,
        actor,
        at,
        _dumps(details or {}),
        trigger_ref,
    )
    return bool(written)


async def history_of(
    conn: DbConnection, dealer_id: str, complaint_id: uuid.UUID
) -> list[HistoryRecord]:
    """The dealer's complaint's history, oldest first."""
    rows = await conn.fetch(
        "SELECT action, actor, at, details::text AS details, trigger_ref FROM complaint_history "
        "WHERE dealer_id = $1 AND complaint_id = $2 ORDER BY id",
        dealer_id,
        complaint_id,
    )
    return [
        HistoryRecord(r["action"], r["actor"], r["at"], json.loads(r["details"]), r["trigger_ref"])
        for r in rows
    ]
