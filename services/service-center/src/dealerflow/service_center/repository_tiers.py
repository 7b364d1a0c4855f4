"""SQL of the after-sales tiers: a customer's visits (repair orders opened) and the tier
published per customer (``customer_tiers``), read in keyset batches by the daily scan."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from dealerflow.contracts.enums import ServiceTier
from dealerflow.runtime.db import DbConnection


@dataclass(frozen=True)
class CustomerVisits:
    """A customer with repair orders at the dealer: their visits since a time (opening
    times of their repair orders, every vehicle) and the tier published before."""

    customer_id: uuid.UUID
    visits: tuple[datetime, ...]
    published: ServiceTier | None


async def customer_visits(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID, since: datetime
) -> CustomerVisits:
    """The customer's repair orders opened after ``since`` and their published tier."""
    row = await conn.fetchrow(
        """
        SELECT
            ARRAY(SELECT opened_at FROM repair_orders
                  WHERE dealer_id = $1 AND customer_id = $2 AND opened_at > $3
                  ORDER BY opened_at) AS visits,
            (SELECT tier FROM customer_tiers
             WHERE dealer_id = $1 AND customer_id = $2) AS published
        """,
        dealer_id,
        customer_id,
        since,
    )
    assert row is not None  # a SELECT without FROM returns one row
    return CustomerVisits(
        customer_id=customer_id,
        visits=tuple(row["visits"]),
        published=ServiceTier(row["published"]) if row["published"] else None,
    )


async def customers_after(
    conn: DbConnection,
    dealer_id: str,
    after: uuid.UUID | None,
    since: datetime,
    limit: int,
) -> list[CustomerVisits]:
    """The next ``limit`` customers of the dealer with repair orders, by customer id after
    ``after`` (keyset; None: from the first), with their visits since ``since`` and the
    tier published before."""
    rows = await conn.fetch(
        """
        SELECT r.customer_id,
               coalesce(array_agg(r.opened_at ORDER BY r.opened_at)
                        FILTER (WHERE r.opened_at > $3), '{}') AS visits,
               t.tier AS published
        FROM repair_orders r
        LEFT JOIN customer_tiers t
               ON t.dealer_id = r.dealer_id AND t.customer_id = r.customer_id
        WHERE r.dealer_id = $1 AND ($2::uuid IS NULL OR r.customer_id > $2)
        GROUP BY r.customer_id, t.tier
        ORDER BY r.customer_id
        LIMIT $4
        """,
        dealer_id,
        after,
        since,
        limit,
    )
    return [
        CustomerVisits(
            customer_id=row["customer_id"],
            visits=tuple(row["visits"]),
            published=ServiceTier(row["published"]) if row["published"] else None,
        )
        for row in rows
    ]


async def save_tier(
    conn: DbConnection,
    dealer_id: str,
    customer_id: uuid.UUID,
    tier: ServiceTier,
    visits: int,
    changed_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO customer_tiers (dealer_id, customer_id, tier, visits_last_12_months,"
        " changed_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (dealer_id, customer_id) DO"
        " UPDATE SET tier = EXCLUDED.tier, visits_last_12_months ="
        " EXCLUDED.visits_last_12_months, changed_at = EXCLUDED.changed_at",
        dealer_id,
        customer_id,
        tier.value,
        visits,
        changed_at,
    )
