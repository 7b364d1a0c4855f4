"""The retention call from Kafka, through the whole notifier on real Kafka and PostgreSQL:
CustomerAtRisk opens one retention_call task for the advisor (placeholder when the event
names none; a redelivery adds none); lost later in the same spell is a second call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.enums import RetentionLevel
from dealerflow.contracts.events.service import CustomerAtRisk
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


async def test_customer_at_risk_opens_one_retention_call_per_level(notifier: Any) -> None:
    at_risk = example_for(CustomerAtRisk).model_copy(
        update={"dealer_id": "D001", "occurred_at": START, "detected_at": START, "advisor_id": None}
    )
    customer = str(at_risk.customer_id)
    await notifier.produce(at_risk)
    await notifier.produce(at_risk)  # redelivered under another event id: still one task

    async def calls(count: int) -> list[dict[str, Any]] | None:
        found = [
            t for t in await notifier.tasks(customer_id=customer) if t["kind"] == "retention_call"
        ]
        return found if len(found) == count else None

    [task] = await notifier.eventually(lambda: calls(1), "the retention call")
    assert task["assignee"] == "advisor:D001"
    assert task["related"] == {"kind": "customer", "id": customer}
    assert task["status"] in ("scheduled", "due")

    later = START + timedelta(days=365)
    lost = at_risk.model_copy(
        update={
            "level": RetentionLevel.LOST,
            "occurred_at": later,
            "detected_at": later,
            "months_since_last_visit": 24,
        }
    )
    await notifier.produce(lost)
    tasks = await notifier.eventually(lambda: calls(2), "the call for the lost customer")
    assert {t["status"] for t in tasks} <= {"scheduled", "due"}
