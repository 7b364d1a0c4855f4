"""SQL of merging leads (``usecases_merge``): the merged lead's history moves to the
survivor, its phone number becomes an alias of the survivor."""

from __future__ import annotations

import uuid
from datetime import datetime

from dealerflow.leads.domain_merge import MERGED_PHONE_PREFIX
from dealerflow.runtime.db import DbConnection

#: The history tables whose rows move from a merged lead to the survivor.
HISTORY_TABLES = ("contact_log", "appointments", "lead_assignments", "lead_submissions")


async def move_history(
    conn: DbConnection, dealer_id: str, merged: uuid.UUID, survivor: uuid.UUID
) -> int:
    """Move the merged lead's contact log, appointments, assignments and submissions to
    the survivor; how many rows moved."""
    moved = 0
    for table in HISTORY_TABLES:
        status = await conn.execute(
            f"UPDATE {table} SET lead_id = $3 WHERE dealer_id = $1 AND lead_id = $2",
            dealer_id,
            merged,
            survivor,
        )
        moved += int(status.rsplit(" ", 1)[-1])
    return moved


async def alias_phones(
    conn: DbConnection,
    dealer_id: str,
    merged: uuid.UUID,
    phone_e164: str,
    survivor: uuid.UUID,
    at: datetime,
) -> None:
    """The merged lead's number (and the numbers merged into it before) now reach the
    survivor; an erased or earlier-merged placeholder is not a number and is skipped."""
    await conn.execute(
        "UPDATE lead_phone_aliases SET lead_id = $3 WHERE dealer_id = $1 AND lead_id = $2",
        dealer_id,
        merged,
        survivor,
    )
    if phone_e164.startswith(("+",)):
        await conn.execute(
            "INSERT INTO lead_phone_aliases (dealer_id, phone_e164, lead_id, merged_from, "
            "merged_at) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (dealer_id, phone_e164) DO UPDATE SET lead_id = EXCLUDED.lead_id",
            dealer_id,
            phone_e164,
            survivor,
            merged,
            at,
        )


async def close_merged(
    conn: DbConnection, dealer_id: str, merged: uuid.UUID, survivor: uuid.UUID, at: datetime
) -> None:
    """The merged lead: status merged, pointing at the survivor, its phone a placeholder
    (it leaves the one-open-lead-per-phone index and every phone look-up)."""
    await conn.execute(
        "UPDATE leads SET status = 'merged', merged_into = $3, closed_at = $4, "
        "updated_at = $4, phone_e164 = $5 || lead_id::text "
        "WHERE dealer_id = $1 AND lead_id = $2",
        dealer_id,
        merged,
        survivor,
        at,
        MERGED_PHONE_PREFIX,
    )
