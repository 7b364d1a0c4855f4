"""Staff acting while the timer poller fires the same complaint's clock: whichever
commits first wins, the other sees its effect; nothing is lost, nothing fires twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

pytestmark = pytest.mark.integration


async def test_acknowledging_while_the_deadline_fires_stays_consistent(harness: Any) -> None:
    ids = [(await harness.open_complaint(severity="critical"))["id"] for _ in range(12)]
    harness.clock.advance(timedelta(minutes=31))  # every acknowledge clock is due

    async def acknowledge(cid: str) -> int:
        response = await harness.client.post(
            f"/v1/complaints/{cid}/acknowledge",
            json={"dealer_id": "sh-pudong-01", "channel": "phone"},
        )
        return int(response.status_code)

    results = await asyncio.gather(harness.fire_due(), *(acknowledge(c) for c in ids))
    assert results[1:] == [200] * len(ids)
    await harness.fire_due()  # whatever the racing poller retried

    rows = await harness.db(
        "SELECT c.id, c.escalation_level, k.status, k.breaches FROM complaints c "
        "JOIN complaint_clocks k ON k.complaint_id = c.id AND k.kind = 'acknowledge'"
    )
    assert len(rows) == len(ids)
    for row in rows:
        assert row["status"] == "met"
        assert row["breaches"] in (0, 1)
        assert row["escalation_level"] == row["breaches"]  # at most one rung, never twice
    assert await harness.pending_timers("complaint:") != []  # resolve/inform still run
    for cid in ids:
        assert await harness.pending_timers(f"complaint:{cid}:clock:acknowledge:") == []
    # locks are taken in the poller's order (timers, then the complaint): no deadlocks
    errors = await harness.db("SELECT last_error FROM timers WHERE last_error IS NOT NULL")
    assert errors == []
    failed = await harness.db("SELECT key, last_error FROM timers WHERE status = 'failed'")
    assert failed == []
