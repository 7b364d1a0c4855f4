"""SQL of staff working their tasks (`usecases_task_actions`): a new assignee, a snooze,
the unreachable count. Every statement is scoped by ``dealer_id`` and changes an open
task only (None when the task is not open)."""

from __future__ import annotations

import uuid
from datetime import datetime

from dealerflow.notifier.records import TaskRow
from dealerflow.notifier.repository import _TASK_COLUMNS, _task
from dealerflow.runtime.db import DbConnection


async def set_assignee(
    conn: DbConnection, dealer_id: str, task_id: uuid.UUID, assignee: str, now: datetime
) -> TaskRow | None:
    """Give an open task to ``assignee`` (a claim or a reassignment)."""
    row = await conn.fetchrow(
        f"""
        UPDATE tasks SET assignee = $3, updated_at = $4
        WHERE dealer_id = $1 AND id = $2 AND status IN ('scheduled', 'due')
        RETURNING {_TASK_COLUMNS}
        """,
        dealer_id,
        task_id,
        assignee,
        now,
    )
    return _task(row)


async def snooze(
    conn: DbConnection,
    dealer_id: str,
    task_id: uuid.UUID,
    *,
    until: datetime,
    reason: str,
    snoozed_by: str,
    now: datetime,
) -> TaskRow | None:
    """Move an open task's due time to ``until`` (status scheduled again), keeping the
    planned due time (``planned_due_at``) it had before any snooze."""
    row = await conn.fetchrow(
        f"""
        UPDATE tasks SET due_at = $3, status = 'scheduled',
                         planned_due_at = COALESCE(planned_due_at, due_at),
                         snooze_reason = $4, snoozed_by = $5, snoozed_at = $6, updated_at = $6
        WHERE dealer_id = $1 AND id = $2 AND status IN ('scheduled', 'due')
        RETURNING {_TASK_COLUMNS}
        """,
        dealer_id,
        task_id,
        until,
        reason,
        snoozed_by,
        now,
    )
    return _task(row)


async def set_unreachable_attempts(
    conn: DbConnection, dealer_id: str, task_id: uuid.UUID, count: int
) -> TaskRow | None:
    """Record how many unreachable outcomes the task's attempts have so far."""
    row = await conn.fetchrow(
        f"""
        UPDATE tasks SET unreachable_attempts = $3
        WHERE dealer_id = $1 AND id = $2
        RETURNING {_TASK_COLUMNS}
        """,
        dealer_id,
        task_id,
        count,
    )
    return _task(row)
