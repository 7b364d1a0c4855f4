"""SQL of holiday greetings: the owners the notifier knows (customers with a
VehicleDelivered, kept as ``purchase`` facts in ``tier_facts``) and the dealers that have
any. Scoped by ``dealer_id`` (the dealers query by the transaction's dealer scope)."""

from __future__ import annotations

import uuid

from dealerflow.runtime.db import DbConnection


async def owners(
    conn: DbConnection, dealer_id: str, *, after: uuid.UUID | None, limit: int
) -> list[uuid.UUID]:
    """The dealer's owners by customer id, a keyset batch after ``after``."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT customer_id FROM tier_facts
        WHERE dealer_id = $1 AND kind = 'purchase' AND ($2::uuid IS NULL OR customer_id > $2)
        ORDER BY customer_id
        LIMIT $3
        """,
        dealer_id,
        after,
        limit,
    )
    return [row["customer_id"] for row in rows]


async def dealers_with_owners(conn: DbConnection) -> list[str]:
    """Every dealer with at least one owner (the rows the transaction's scope sees)."""
    rows = await conn.fetch(
        "SELECT DISTINCT dealer_id FROM tier_facts WHERE kind = 'purchase' ORDER BY dealer_id"
    )
    return [row["dealer_id"] for row in rows]
