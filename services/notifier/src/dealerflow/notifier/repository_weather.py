"""SQL of bad-weather tips (`usecases_weather`): when each owner last got one. Scoped by
``dealer_id``; the owners themselves come from `repository_greetings.owners`."""

from __future__ import annotations

import uuid
from datetime import datetime

from dealerflow.contracts.care_enums import ReminderKind
from dealerflow.runtime.db import DbConnection


async def last_weather_tips(
    conn: DbConnection, dealer_id: str, customer_ids: list[uuid.UUID]
) -> dict[uuid.UUID, datetime]:
    """When each of these customers' newest weather tip was planned (one pending or sent:
    a cancelled, suppressed or failed one did not reach them); customers without one are
    left out."""
    rows = await conn.fetch(
        """
        SELECT customer_id, max(created_at) AS last_at FROM reminders
        WHERE dealer_id = $1 AND customer_id = ANY($2::uuid[]) AND kind = $3
          AND status IN ('scheduled', 'sent')
        GROUP BY customer_id
        """,
        dealer_id,
        customer_ids,
        ReminderKind.WEATHER_TIP.value,
    )
    return {row["customer_id"]: row["last_at"] for row in rows}
