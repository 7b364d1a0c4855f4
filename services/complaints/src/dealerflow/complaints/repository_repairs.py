"""SQL of the repair history kept for repeat-repair detection. Scoped by dealer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dealerflow.complaints.domain import PreviousRepair
from dealerflow.runtime.db import DbConnection


async def record_opened(
    conn: DbConnection,
    *,
    dealer_id: str,
    repair_order_id: str,
    vin: str,
    concerns: Sequence[str],
    opened_at: datetime,
) -> None:
    """Remember a repair order's vehicle and concerns (a repeat keeps the first)."""
    await conn.execute(
        """
        INSERT INTO repair_visits (dealer_id, repair_order_id, vin, concerns, opened_at)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (dealer_id, repair_order_id) DO UPDATE
            SET concerns = EXCLUDED.concerns, opened_at = EXCLUDED.opened_at
            WHERE repair_visits.opened_at IS NULL
        """,
        dealer_id,
        repair_order_id,
        vin,
        list(concerns),
        opened_at,
    )


async def record_handed_over(
    conn: DbConnection, *, dealer_id: str, repair_order_id: str, vin: str, at: datetime
) -> None:
    """Mark a repair order done (handed over); one seen only now is kept without concerns."""
    await conn.execute(
        """
        INSERT INTO repair_visits (dealer_id, repair_order_id, vin, completed_at)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (dealer_id, repair_order_id) DO UPDATE SET completed_at = EXCLUDED.completed_at
        """,
        dealer_id,
        repair_order_id,
        vin,
        at,
    )


async def completed_repairs(
    conn: DbConnection, dealer_id: str, vin: str, *, since: datetime, before: datetime
) -> list[PreviousRepair]:
    """The vehicle's repairs handed over in [since, before), one entry per concern."""
    rows = await conn.fetch(
        """
        SELECT repair_order_id, vin, unnest(concerns) AS concern, completed_at
        FROM repair_visits
        WHERE dealer_id = $1 AND vin = $2 AND completed_at >= $3 AND completed_at < $4
        """,
        dealer_id,
        vin,
        since,
        before,
    )
    return [
        PreviousRepair(r["repair_order_id"], r["vin"], r["concern"], r["completed_at"])
        for r in rows
    ]
