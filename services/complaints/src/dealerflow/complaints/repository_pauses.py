"""SQL of the pauses of complaints' clocks (complaint_pauses). Every query is scoped by
dealer_id."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from dealerflow.complaints.records import PauseRecord
from dealerflow.runtime.db import DbConnection

_COLUMNS = (
    "id, complaint_id, dealer_id, paused_at, paused_by, reason, clocks, resumed_at, "
    "resumed_by, ended_by"
)


async def open_pause(
    conn: DbConnection,
    *,
    dealer_id: str,
    complaint_id: uuid.UUID,
    at: datetime,
    by: str | None,
    reason: str,
    clocks: Sequence[str],
) -> None:
    """Record that the complaint's ``clocks`` ("<kind>:<reopen_count>") paused at ``at``."""
    await conn.execute(
        """
        INSERT INTO complaint_pauses (complaint_id, dealer_id, paused_at, paused_by, reason,
            clocks)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        complaint_id,
        dealer_id,
        at,
        by,
        reason,
        list(clocks),
    )


async def end_pause(
    conn: DbConnection,
    *,
    dealer_id: str,
    complaint_id: uuid.UUID,
    at: datetime,
    by: str | None,
    ended_by: str,
) -> bool:
    """End the complaint's open pause (``ended_by``: "resume" or "resolve"); False when
    none was open."""
    ended = await conn.fetchval(
        """
        UPDATE complaint_pauses SET resumed_at = $3, resumed_by = $4, ended_by = $5
        WHERE dealer_id = $1 AND complaint_id = $2 AND resumed_at IS NULL
        RETURNING true
        """,
        dealer_id,
        complaint_id,
        at,
        by,
        ended_by,
    )
    return bool(ended)


async def pauses_of(
    conn: DbConnection, dealer_id: str, complaint_id: uuid.UUID
) -> list[PauseRecord]:
    """Every pause of the dealer's complaint, oldest first."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM complaint_pauses WHERE dealer_id = $1 AND complaint_id = $2 "
        "ORDER BY id",
        dealer_id,
        complaint_id,
    )
    return [PauseRecord(**dict(r)) for r in rows]
