"""SQL of the repair history kept for repeat-repair detection. Scoped by dealer."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from dealerflow.complaints.domain import PreviousRepair
from dealerflow.complaints.records import RepairVisit
from dealerflow.runtime.db import DbConnection


async def record_opened(
    conn: DbConnection,
    *,
    dealer_id: str,
    repair_order_id: str,
    vin: str,
    concerns: Sequence[str],
    opened_at: datetime,
    customer_id: uuid.UUID,
    advisor_id: str,
    work_type: str,
) -> None:
    """Remember a repair order's customer, vehicle, advisor, work and concerns (a repeat
    keeps the first)."""
    await conn.execute(
        """
        INSERT INTO repair_visits (dealer_id, repair_order_id, vin, concerns, opened_at,
            customer_id, advisor_id, work_type)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (dealer_id, repair_order_id) DO UPDATE
            SET concerns = EXCLUDED.concerns, opened_at = EXCLUDED.opened_at,
                customer_id = EXCLUDED.customer_id, advisor_id = EXCLUDED.advisor_id,
                work_type = EXCLUDED.work_type
            WHERE repair_visits.opened_at IS NULL
        """,
        dealer_id,
        repair_order_id,
        vin,
        list(concerns),
        opened_at,
        customer_id,
        advisor_id,
        work_type,
    )


async def record_handed_over(
    conn: DbConnection,
    *,
    dealer_id: str,
    repair_order_id: str,
    vin: str,
    at: datetime,
    customer_id: uuid.UUID,
) -> None:
    """Mark a repair order done (handed over); one seen only now is kept without concerns."""
    await conn.execute(
        """
        INSERT INTO repair_visits (dealer_id, repair_order_id, vin, completed_at, customer_id)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (dealer_id, repair_order_id) DO UPDATE
            SET completed_at = EXCLUDED.completed_at,
                customer_id = coalesce(repair_visits.customer_id, EXCLUDED.customer_id)
        """,
        dealer_id,
        repair_order_id,
        vin,
        at,
        customer_id,
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


async def repairs_of_customer(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID, vins: Sequence[str]
) -> list[RepairVisit]:
    """The repair orders of the customer, or of one of ``vins`` (rows kept before the
    customer was recorded), at the dealer, oldest first."""
    rows = await conn.fetch(
        """
        SELECT repair_order_id, vin, concerns, advisor_id, work_type, opened_at, completed_at
        FROM repair_visits
        WHERE dealer_id = $1 AND (customer_id = $2 OR vin = ANY($3::text[]))
        ORDER BY coalesce(opened_at, completed_at), repair_order_id
        """,
        dealer_id,
        customer_id,
        list(vins),
    )
    return [
        RepairVisit(
            repair_order_id=r["repair_order_id"],
            vin=r["vin"],
            concerns=tuple(r["concerns"]),
            advisor_id=r["advisor_id"],
            work_type=r["work_type"],
            opened_at=r["opened_at"],
            completed_at=r["completed_at"],
        )
        for r in rows
    ]
