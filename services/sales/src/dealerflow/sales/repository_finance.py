"""All SQL of finance's steps on a contract: confirming a payment."""

from __future__ import annotations

import uuid
from datetime import datetime

from dealerflow.runtime.db import DbConnection


async def confirm_payment(
    conn: DbConnection,
    dealer_id: str,
    payment_id: uuid.UUID,
    *,
    confirmed_by: str,
    confirmed_at: datetime,
) -> bool:
    """Mark an unconfirmed payment confirmed; False when it was confirmed already."""
    return bool(
        await conn.fetchval(
            """
            UPDATE payments SET confirmed = true, confirmed_by = $3, confirmed_at = $4
            WHERE dealer_id = $1 AND id = $2 AND NOT confirmed
            RETURNING true
            """,
            dealer_id,
            payment_id,
            confirmed_by,
            confirmed_at,
        )
    )
