"""SQL of the repair history kept for repeat-repair detection. Scoped by dealer."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dealerflow.complaints.domain import PreviousRepair
from dealerflow.complaints.records import RepairVisit
from dealerflow.contracts.events.service import RepairOrderOpened, VehicleHandedOver
from dealerflow.runtime.batches import columns
from dealerflow.runtime.db import DbConnection


@dataclass(frozen=True)
class RepeatWindow:
    """Where to look for earlier repairs: the vehicle's at the dealer handed over in
    [since, before)."""

    dealer_id: str
    vin: str
    since: datetime
    before: datetime


async def record_opened(
    conn: DbConnection, repairs: Sequence[RepairOrderOpened], concerns: Sequence[Sequence[str]]
) -> None:
    """Remember repair orders' customer, vehicle, advisor, work and ``concerns`` (one
    list each) with one statement (a repeat keeps the first); each repair order at most
    once (`runtime.batches.rounds`)."""
    if not repairs:
        return
    await conn.execute(
        """
        INSERT INTO repair_visits (dealer_id, repair_order_id, vin, concerns, opened_at,
            customer_id, advisor_id, work_type)
        SELECT r.dealer_id, r.repair_order_id, r.vin,
            ARRAY(SELECT jsonb_array_elements_text(r.concerns::jsonb)),
            r.opened_at, r.customer_id, r.advisor_id, r.work_type
        FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::uuid[],
            $6::text[], $7::text[], $8::text[])
            AS r (dealer_id, repair_order_id, vin, opened_at, customer_id, advisor_id,
                work_type, concerns)
        ON CONFLICT (dealer_id, repair_order_id) DO UPDATE
            SET concerns = EXCLUDED.concerns, opened_at = EXCLUDED.opened_at,
                customer_id = EXCLUDED.customer_id, advisor_id = EXCLUDED.advisor_id,
                work_type = EXCLUDED.work_type
            WHERE repair_visits.opened_at IS NULL
        """,
        *columns(
            repairs,
            "dealer_id repair_order_id vin opened_at customer_id advisor_id work_type",
            work_type=lambda work_type: work_type.value,
        ),
        [json.dumps(list(c)) for c in concerns],  # JSON: an array of arrays must be square
    )


async def record_handed_over(conn: DbConnection, repairs: Sequence[VehicleHandedOver]) -> None:
    """Mark repair orders done (handed over) with one statement; one seen only now is
    kept without concerns; each repair order at most once (`runtime.batches.rounds`)."""
    if not repairs:
        return
    await conn.execute(
        """
        INSERT INTO repair_visits (dealer_id, repair_order_id, vin, completed_at, customer_id)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::uuid[])
        ON CONFLICT (dealer_id, repair_order_id) DO UPDATE
            SET completed_at = EXCLUDED.completed_at,
                customer_id = coalesce(repair_visits.customer_id, EXCLUDED.customer_id)
        """,
        *columns(repairs, "dealer_id repair_order_id vin handed_over_at customer_id"),
    )


async def completed_repairs(
    conn: DbConnection, windows: Sequence[RepeatWindow]
) -> list[list[PreviousRepair]]:
    """For each window, the vehicle's repairs handed over in it, one entry per concern
    (one query for all)."""
    if not windows:
        return []
    rows = await conn.fetch(
        """
        SELECT w.n, r.repair_order_id, r.vin, unnest(r.concerns) AS concern, r.completed_at
        FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[])
            WITH ORDINALITY AS w (dealer_id, vin, since, before, n)
        JOIN repair_visits r ON r.dealer_id = w.dealer_id AND r.vin = w.vin
            AND r.completed_at >= w.since AND r.completed_at < w.before
        ORDER BY w.n, r.completed_at, r.repair_order_id
        """,
        *columns(windows, "dealer_id vin since before"),
    )
    found: list[list[PreviousRepair]] = [[] for _ in windows]
    for r in rows:
        found[r["n"] - 1].append(
            PreviousRepair(r["repair_order_id"], r["vin"], r["concern"], r["completed_at"])
        )
    return found


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
