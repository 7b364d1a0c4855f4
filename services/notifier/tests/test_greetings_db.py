"""Start-up planning of holiday greetings on PostgreSQL: every dealer with an owner gets
the timer of its next greeting once (a second start-up plans nothing new)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from dealerflow.notifier import repository_tiers
from dealerflow.notifier.usecases_greetings import plan_known_dealers_greetings
from dealerflow.runtime.db import transaction

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)


async def test_start_up_plans_the_next_greeting_of_dealers_with_owners(db: Any) -> None:
    db.configure(
        "D001",
        {
            "policy": {
                "owner_care": {
                    "greetings": [
                        {"name": "元宵节", "name_en": "Lantern Festival", "on": "2025-03-05"}
                    ]
                }
            }
        },
    )
    async with transaction(db.pool) as conn:
        await repository_tiers.record_fact(
            conn,
            "D001",
            uuid.uuid4(),
            kind=repository_tiers.PURCHASE,
            source_id="DLV-1",
            counts_from=START,
            recorded_at=START,
        )
        assert await plan_known_dealers_greetings(db.use_case(conn)) == ["D001"]
        assert await plan_known_dealers_greetings(db.use_case(conn)) == []
        due = await conn.fetchval(
            "SELECT due_at FROM timers WHERE key = 'D001:greetings:2025-03-05'"
        )
    assert due == datetime(2025, 3, 4, 2, 0, tzinfo=UTC)
