"""SQL of tasks and contact snapshots (asyncpg); messages are in
`repository_messages`. Every statement is scoped by ``dealer_id``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.notifier.records import NewTask, TaskRow
from dealerflow.runtime.db import DbConnection

_TASK_COLUMNS = ", ".join(TaskRow.__slots__)


def _task(row: asyncpg.Record | None) -> TaskRow | None:
    return None if row is None else TaskRow(**dict(row))


def _tasks(rows: Sequence[asyncpg.Record]) -> list[TaskRow]:
    return [TaskRow(**dict(r)) for r in rows]


def to_json(value: Any) -> str | None:
    """JSON text for a jsonb parameter (None stays NULL)."""
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


# -- tasks ----------------------------------------------------------------------------------


async def insert_tasks(conn: DbConnection, tasks: Sequence[NewTask]) -> list[TaskRow]:
    """Insert tasks with one statement; returns those created (in the order given): not
    a task whose business key the dealer already has, nor a repeat of a key in ``tasks``
    (the first one wins)."""
    if not tasks:
        return []
    rows = await conn.fetch(
        f"""
        INSERT INTO tasks (id, dealer_id, customer_id, business_key, kind, title, assignee,
                           assignee_role, due_at, script, related_kind, related_id,
                           source_event_id, created_at, updated_at, planned_due_at)
        SELECT t.id, t.dealer_id, t.customer_id, t.business_key, t.kind, t.title, t.assignee,
               t.assignee_role, t.due_at, t.script, t.related_kind, t.related_id,
               t.source_event_id, t.created_at, t.created_at, t.due_at
        FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[],
                    $7::text[], $8::text[], $9::timestamptz[], $10::text[], $11::text[],
                    $12::text[], $13::text[], $14::timestamptz[])
             WITH ORDINALITY AS t(id, dealer_id, customer_id, business_key, kind, title,
                                  assignee, assignee_role, due_at, script, related_kind,
                                  related_id, source_event_id, created_at, n)
        ORDER BY t.n
        ON CONFLICT (dealer_id, business_key) DO NOTHING
        RETURNING {_TASK_COLUMNS}
        """,
        [t.id for t in tasks],
        [t.dealer_id for t in tasks],
        [t.customer_id for t in tasks],
        [t.business_key for t in tasks],
        [t.kind for t in tasks],
        [t.title for t in tasks],
        [t.assignee for t in tasks],
        [t.assignee_role for t in tasks],
        [t.due_at for t in tasks],
        [t.script for t in tasks],
        [t.related_kind for t in tasks],
        [t.related_id for t in tasks],
        [t.source_event_id for t in tasks],
        [t.created_at for t in tasks],
    )
    order = {t.id: n for n, t in enumerate(tasks)}
    return sorted(_tasks(rows), key=lambda row: order[row.id])


async def get_task(
    conn: DbConnection, dealer_id: str, task_id: uuid.UUID, *, for_update: bool = False
) -> TaskRow | None:
    """The dealer's task ``task_id`` (None for another dealer's task)."""
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_TASK_COLUMNS} FROM tasks WHERE dealer_id = $1 AND id = $2{lock}",
        dealer_id,
        task_id,
    )
    return _task(row)


async def get_task_by_key(
    conn: DbConnection, dealer_id: str, business_key: str, *, for_update: bool = False
) -> TaskRow | None:
    """The dealer's task with ``business_key``."""
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_TASK_COLUMNS} FROM tasks WHERE dealer_id = $1 AND business_key = $2{lock}",
        dealer_id,
        business_key,
    )
    return _task(row)


async def mark_tasks_due(
    conn: DbConnection, due: Sequence[tuple[str, uuid.UUID]], now: datetime
) -> list[TaskRow]:
    """scheduled -> due for every ``(dealer_id, task_id)`` in one statement; the tasks
    that were still scheduled, in the order given (each once)."""
    if not due:
        return []
    rows = await conn.fetch(
        f"""
        UPDATE tasks t SET status = 'due', updated_at = $3
        FROM unnest($1::text[], $2::uuid[]) AS d(dealer_id, id)
        WHERE t.dealer_id = d.dealer_id AND t.id = d.id AND t.status = 'scheduled'
        RETURNING {", ".join("t." + column for column in TaskRow.__slots__)}
        """,
        [dealer_id for dealer_id, _ in due],
        [task_id for _, task_id in due],
        now,
    )
    by_key = {(r["dealer_id"], r["id"]): r for r in rows}
    ordered = (by_key.pop(key, None) for key in due)  # pop: a task listed twice comes once
    return _tasks([r for r in ordered if r is not None])


async def complete_task(
    conn: DbConnection,
    dealer_id: str,
    task_id: uuid.UUID,
    *,
    outcome: str,
    note: str | None,
    completed_by: str,
    completed_at: datetime,
) -> TaskRow | None:
    """Record the outcome of an open task (None when it is not open)."""
    row = await conn.fetchrow(
        f"""
        UPDATE tasks SET status = 'done', outcome = $3, note = $4, completed_by = $5,
                         completed_at = $6, updated_at = $6
        WHERE dealer_id = $1 AND id = $2 AND status IN ('scheduled', 'due')
        RETURNING {_TASK_COLUMNS}
        """,
        dealer_id,
        task_id,
        outcome,
        note,
        completed_by,
        completed_at,
    )
    return _task(row)


# the open tasks of a selection: $1 dealer, $2/$3 related (kind, id), $4 key prefix, $5 keys
# to leave out (see TaskSelection)
_OPEN_SELECTED = """
    dealer_id = $1 AND status IN ('scheduled', 'due')
    AND ($2::text IS NULL OR (related_kind = $2 AND related_id = $3))
    AND ($4::text IS NULL OR starts_with(business_key, $4))
    AND NOT (business_key = ANY($5::text[]))
"""


@dataclass(frozen=True, slots=True)
class TaskSelection:
    """Which of a dealer's open tasks: those about ``related`` (kind, id) and/or whose
    business key starts with ``key_prefix``, except the keys in ``except_keys``."""

    dealer_id: str
    related: tuple[str, str] | None = None
    key_prefix: str | None = None
    except_keys: Sequence[str] = ()

    def __post_init__(self) -> None:
        if self.related is None and self.key_prefix is None:
            raise ValueError("a task selection needs related or key_prefix")

    def args(self) -> tuple[Any, ...]:
        related = self.related or (None, None)
        return (self.dealer_id, *related, self.key_prefix, list(self.except_keys))


async def open_tasks(conn: DbConnection, selected: TaskSelection) -> list[TaskRow]:
    """The selected open tasks, unlocked."""
    rows = await conn.fetch(
        f"SELECT {_TASK_COLUMNS} FROM tasks WHERE {_OPEN_SELECTED}", *selected.args()
    )
    return _tasks(rows)


async def cancel_open_tasks(
    conn: DbConnection, selected: TaskSelection, now: datetime
) -> list[TaskRow]:
    """Cancel the selected open tasks; returns the cancelled ones."""
    rows = await conn.fetch(
        f"""
        UPDATE tasks SET status = 'cancelled', cancelled_at = $6, updated_at = $6
        WHERE {_OPEN_SELECTED}
        RETURNING {_TASK_COLUMNS}
        """,
        *selected.args(),
        now,
    )
    return _tasks(rows)


async def reassign_open_tasks(
    conn: DbConnection, selected: TaskSelection, assignee_role: str, assignee: str, now: datetime
) -> list[TaskRow]:
    """Give the selected open tasks of ``assignee_role`` to ``assignee``."""
    rows = await conn.fetch(
        f"""
        UPDATE tasks SET assignee = $7, updated_at = $8
        WHERE {_OPEN_SELECTED} AND assignee_role = $6
        RETURNING {_TASK_COLUMNS}
        """,
        *selected.args(),
        assignee_role,
        assignee,
        now,
    )
    return _tasks(rows)


async def attempt_outcomes(
    conn: DbConnection, dealer_id: str, root_key: str
) -> list[tuple[datetime, str]]:
    """(completed_at, outcome) of a task and its retry attempts ("<root>:attempt-<n>")."""
    rows = await conn.fetch(
        """
        SELECT completed_at, outcome FROM tasks
        WHERE dealer_id = $1 AND status = 'done'
          AND (business_key = $2 OR starts_with(business_key, $2 || ':attempt-'))
        """,
        dealer_id,
        root_key,
    )
    return [(r["completed_at"], r["outcome"]) for r in rows]


@dataclass(frozen=True, slots=True)
class TaskFilter:
    """Filters of the task list (all optional except the dealer)."""

    dealer_id: str
    assignee: str | None = None
    customer_id: uuid.UUID | None = None
    statuses: Sequence[str] | None = None
    due_from: datetime | None = None
    due_to: datetime | None = None


async def list_tasks(
    conn: DbConnection, where: TaskFilter, *, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[TaskRow]:
    """Tasks ordered by (due_at, id), those after the keyset ``after``; ``due_to`` is
    exclusive."""
    rows = await conn.fetch(
        f"""
        SELECT {_TASK_COLUMNS} FROM tasks
        WHERE dealer_id = $1
          AND ($2::text IS NULL OR assignee = $2)
          AND ($3::uuid IS NULL OR customer_id = $3)
          AND ($4::text[] IS NULL OR status = ANY($4))
          AND ($5::timestamptz IS NULL OR due_at >= $5)
          AND ($6::timestamptz IS NULL OR due_at < $6)
          AND ($7::timestamptz IS NULL OR (due_at, id) > ($7, $8::uuid))
        ORDER BY due_at, id
        LIMIT $9
        """,
        where.dealer_id,
        where.assignee,
        where.customer_id,
        list(where.statuses) if where.statuses else None,
        where.due_from,
        where.due_to,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return _tasks(rows)


# -- lead grades ------------------------------------------------------------------------------


async def record_lead_grade(
    conn: DbConnection, dealer_id: str, lead_id: str, grade: str, graded_at: datetime
) -> bool:
    """Remember the lead's grade unless a later one is known; False for an older grade
    (an event redelivered or republished after a newer one)."""
    newest = await conn.fetchval(
        """
        INSERT INTO lead_grades (dealer_id, lead_id, grade, graded_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (dealer_id, lead_id) DO UPDATE
            SET grade = excluded.grade, graded_at = excluded.graded_at
            WHERE lead_grades.graded_at <= excluded.graded_at
        RETURNING true
        """,
        dealer_id,
        lead_id,
        grade,
        graded_at,
    )
    return bool(newest)


# -- contacts ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactSeen:
    """A customer's contact snapshot as an event carried it, at the event's time."""

    dealer_id: str
    customer_id: uuid.UUID
    contact: ContactSnapshot
    as_of: datetime


async def upsert_contacts(conn: DbConnection, seen: Sequence[ContactSeen]) -> None:
    """Keep the newest contact snapshot of each customer (an older event never wins; of
    snapshots as old as each other, the later in ``seen``), with one statement."""
    newest: dict[tuple[str, uuid.UUID], ContactSeen] = {}
    for s in seen:  # one row per customer: ON CONFLICT DO UPDATE may touch a row once
        known = newest.get((s.dealer_id, s.customer_id))
        if known is None or known.as_of <= s.as_of:
            newest[(s.dealer_id, s.customer_id)] = s
    if not newest:
        return
    kept = list(newest.values())
    await conn.execute(
        """
        INSERT INTO customer_contacts (dealer_id, customer_id, contact, as_of)
        SELECT c.dealer_id, c.customer_id, c.contact::jsonb, c.as_of
        FROM unnest($1::text[], $2::uuid[], $3::text[], $4::timestamptz[])
             AS c(dealer_id, customer_id, contact, as_of)
        ON CONFLICT (dealer_id, customer_id) DO UPDATE
            SET contact = excluded.contact, as_of = excluded.as_of
            WHERE customer_contacts.as_of <= excluded.as_of
        """,
        [s.dealer_id for s in kept],
        [s.customer_id for s in kept],
        [s.contact.model_dump_json() for s in kept],
        [s.as_of for s in kept],
    )


async def upsert_contact(
    conn: DbConnection,
    dealer_id: str,
    customer_id: uuid.UUID,
    contact: ContactSnapshot,
    as_of: datetime,
) -> None:
    """Keep the newest contact snapshot of a customer (`upsert_contacts` of one)."""
    await upsert_contacts(conn, [ContactSeen(dealer_id, customer_id, contact, as_of)])


async def get_contact(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> ContactSnapshot | None:
    """The newest contact snapshot of a customer, if any event carried one."""
    raw = await conn.fetchval(
        "SELECT contact::text FROM customer_contacts WHERE dealer_id = $1 AND customer_id = $2",
        dealer_id,
        customer_id,
    )
    return contact_of(raw)


def contact_of(raw: str | None) -> ContactSnapshot | None:
    """A stored contact snapshot (jsonb as text) as the contract's model."""
    return None if raw is None else ContactSnapshot.model_validate_json(raw)
