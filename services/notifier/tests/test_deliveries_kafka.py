"""A contract's agreed delivery, from Kafka through to the customer's reminders before it:
DeliveryScheduled plans them (agreed again for another time, the pending ones are
replaced), ContractAmended moving the delivery date and ContractCancelled withdraw them.
The whole notifier on real Kafka and PostgreSQL with a ManualClock (see conftest)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.events.sales import (
    ContractAmended,
    ContractCancelled,
    DeliveryScheduled,
)
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
CUSTOMER = uuid.uuid4()


def agreed(contract_id: str, at: datetime) -> DeliveryScheduled:
    return example_for(DeliveryScheduled).model_copy(
        update={
            "dealer_id": "D001",
            "customer_id": CUSTOMER,
            "contract_id": contract_id,
            "occurred_at": START,
            "scheduled_for": at,
            "location": "Handover bay 1",
        }
    )


async def pending(notifier: Any, contract_id: str) -> dict[str, dict[str, Any]]:
    response = await notifier.client.get(
        "/v1/reminders", params={"dealer_id": "D001", "customer_id": str(CUSTOMER)}
    )
    assert response.status_code == 200, response.text
    return {
        r["business_key"]: r
        for r in response.json()["items"]
        if r["business_key"].startswith(f"contract:{contract_id}:") and r["status"] == "scheduled"
    }


async def until(notifier: Any, contract_id: str, count: int, what: str) -> dict[str, Any]:
    async def probe() -> tuple[dict[str, Any]] | None:
        found = await pending(notifier, contract_id)
        return (found,) if len(found) == count else None  # a tuple: {} is an answer too

    (result,) = await notifier.eventually(probe, what)
    return dict(result)


async def test_delivery_reminders_follow_the_agreed_time(notifier: Any) -> None:
    first = START + timedelta(days=2, hours=6)  # Wednesday 16:00 in Shanghai
    await notifier.produce(agreed("C-1", first))
    planned = await until(notifier, "C-1", 2, "the delivery reminders")
    assert {r["kind"] for r in planned.values()} == {"delivery"}
    assert {r["params"]["location"] for r in planned.values()} == {"Handover bay 1"}
    sends = sorted(datetime.fromisoformat(r["send_at"]) for r in planned.values())
    assert sends == [first - timedelta(hours=24), first - timedelta(hours=2)]

    # agreed again a day later: the pending reminders are those of the new time only
    later = first + timedelta(days=1)
    await notifier.produce(agreed("C-1", later))

    async def moved() -> dict[str, Any] | None:
        found = await pending(notifier, "C-1")
        sends = sorted(datetime.fromisoformat(r["send_at"]) for r in found.values())
        return found if sends == [later - timedelta(hours=24), later - timedelta(hours=2)] else None

    await notifier.eventually(moved, "the reminders of the new time")

    # an amendment that moves the delivery date withdraws them; one that does not, keeps
    price_only = example_for(ContractAmended).model_copy(
        update={"dealer_id": "D001", "contract_id": "C-1", "changed_fields": ["price"]}
    )
    await notifier.produce(price_only)
    await notifier.produce(agreed("C-2", first))
    await until(notifier, "C-2", 2, "the marker contract's reminders")  # price_only is in
    assert len(await pending(notifier, "C-1")) == 2
    date_moved = price_only.model_copy(update={"changed_fields": ["planned_delivery_on"]})
    await notifier.produce(date_moved)
    await until(notifier, "C-1", 0, "the reminders withdrawn by the amendment")

    # a cancelled contract's reminders go too
    cancelled = example_for(ContractCancelled).model_copy(
        update={"dealer_id": "D001", "contract_id": "C-2"}
    )
    await notifier.produce(cancelled)
    await until(notifier, "C-2", 0, "the cancelled contract's reminders withdrawn")
