"""SQL of the customers' tiers (customer_tiers), kept from the notifier's
CustomerTierChanged. Scoped by dealer."""

from __future__ import annotations

import uuid
from datetime import datetime

from dealerflow.runtime.db import DbConnection


async def record_tier(
    conn: DbConnection, *, dealer_id: str, customer_id: uuid.UUID, tier: str, changed_at: datetime
) -> bool:
    """Keep the customer's tier unless a later change is stored already (events may come
    late or twice); False when nothing changed."""
    written = await conn.fetchval(
        """
        INSERT INTO customer_tiers (dealer_id, customer_id, tier, changed_at)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (dealer_id, customer_id) DO UPDATE
            SET tier = EXCLUDED.tier, changed_at = EXCLUDED.changed_at
            WHERE customer_tiers.changed_at < EXCLUDED.changed_at
        RETURNING true
        """,
        dealer_id,
        customer_id,
        tier,
        changed_at,
    )
    return bool(written)


async def tier_of(conn: DbConnection, dealer_id: str, customer_id: uuid.UUID) -> str | None:
    """The customer's tier at the dealer, None when none was ever published."""
    tier: str | None = await conn.fetchval(
        "SELECT tier FROM customer_tiers WHERE dealer_id = $1 AND customer_id = $2",
        dealer_id,
        customer_id,
    )
    return tier
