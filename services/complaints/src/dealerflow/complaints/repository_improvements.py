"""SQL of improvement actions (improvement_actions). Scoped by dealer."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dealerflow.complaints.domain_improvements import ActionStatus, ImprovementAction
from dealerflow.runtime.db import DbConnection

_COLUMNS = (
    "id, dealer_id, cause, description, owner_staff_id, due_on, status, complaint_ids, "
    "created_at, created_by, completed_at, completed_by, completion_note"
)


@dataclass(frozen=True)
class ActionFilter:
    """Which of a dealer's improvement actions a list shows (None: any)."""

    dealer_id: str
    status: ActionStatus | None = None
    cause_key: str | None = None


async def insert_action(conn: DbConnection, a: ImprovementAction) -> None:
    """Store a new improvement action."""
    await conn.execute(
        f"""
        INSERT INTO improvement_actions ({_COLUMNS}, cause_key)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        """,
        a.id,
        a.dealer_id,
        a.cause,
        a.description,
        a.owner_staff_id,
        a.due_on,
        a.status.value,
        list(a.complaint_ids),
        a.created_at,
        a.created_by,
        a.completed_at,
        a.completed_by,
        a.completion_note,
        a.cause_key,
    )


async def save_completion(conn: DbConnection, a: ImprovementAction) -> None:
    """Write back the status and completion of an action."""
    await conn.execute(
        """
        UPDATE improvement_actions
        SET status = $3, completed_at = $4, completed_by = $5, completion_note = $6
        WHERE dealer_id = $1 AND id = $2
        """,
        a.dealer_id,
        a.id,
        a.status.value,
        a.completed_at,
        a.completed_by,
        a.completion_note,
    )


async def get_action(
    conn: DbConnection, dealer_id: str, action_id: uuid.UUID, *, for_update: bool = False
) -> ImprovementAction | None:
    """One action of the dealer (locked for update when asked)."""
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM improvement_actions WHERE dealer_id = $1 AND id = $2{lock}",
        dealer_id,
        action_id,
    )
    return _action(row) if row is not None else None


async def list_actions(
    conn: DbConnection,
    where: ActionFilter,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[ImprovementAction]:
    """The dealer's actions matching ``where``, newest first, after a keyset position."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM improvement_actions
        WHERE dealer_id = $1 AND ($2::text IS NULL OR status = $2)
            AND ($3::text IS NULL OR cause_key = $3)
            AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5::uuid))
        ORDER BY created_at DESC, id DESC
        LIMIT $6
        """,
        where.dealer_id,
        where.status.value if where.status else None,
        where.cause_key,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [_action(r) for r in rows]


async def known_complaints(
    conn: DbConnection, dealer_id: str, complaint_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of ``complaint_ids`` the dealer has."""
    rows = await conn.fetch(
        "SELECT id FROM complaints WHERE dealer_id = $1 AND id = ANY($2::uuid[])",
        dealer_id,
        list(complaint_ids),
    )
    return {r["id"] for r in rows}


def _action(r: Any) -> ImprovementAction:
    return ImprovementAction(
        id=r["id"],
        dealer_id=r["dealer_id"],
        cause=r["cause"],
        description=r["description"],
        owner_staff_id=r["owner_staff_id"],
        due_on=r["due_on"],
        status=ActionStatus(r["status"]),
        complaint_ids=tuple(r["complaint_ids"]),
        created_at=r["created_at"],
        created_by=r["created_by"],
        completed_at=r["completed_at"],
        completed_by=r["completed_by"],
        completion_note=r["completion_note"],
    )
