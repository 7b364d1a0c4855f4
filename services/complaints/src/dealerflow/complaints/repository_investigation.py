"""SQL of the customers' confirmations of resolutions (`usecases_investigation`). Scoped
by dealer."""

from __future__ import annotations

import uuid
from datetime import datetime

from dealerflow.complaints.records import ConfirmationRecord
from dealerflow.runtime.db import DbConnection


async def add_confirmation(
    conn: DbConnection,
    *,
    dealer_id: str,
    complaint_id: uuid.UUID,
    reopen_count: int,
    confirmed: bool,
    channel: str | None,
    note: str | None,
    recorded_by: str | None,
    at: datetime,
) -> None:
    """Record one answer of the customer to the complaint's resolution."""
    await conn.execute(
        """
        INSERT INTO complaint_confirmations (complaint_id, dealer_id, reopen_count, confirmed,
            channel, note, recorded_by, at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        """,
        complaint_id,
        dealer_id,
        reopen_count,
        confirmed,
        channel,
        note,
        recorded_by,
        at,
    )


async def confirmations_of(
    conn: DbConnection, dealer_id: str, complaint_id: uuid.UUID
) -> list[ConfirmationRecord]:
    """The complaint's confirmations, oldest first."""
    rows = await conn.fetch(
        """
        SELECT reopen_count, confirmed, channel, note, recorded_by, at
        FROM complaint_confirmations WHERE dealer_id = $1 AND complaint_id = $2 ORDER BY id
        """,
        dealer_id,
        complaint_id,
    )
    return [
        ConfirmationRecord(
            reopen_count=r["reopen_count"],
            confirmed=r["confirmed"],
            channel=r["channel"],
            note=r["note"],
            recorded_by=r["recorded_by"],
            at=r["at"],
        )
        for r in rows
    ]
