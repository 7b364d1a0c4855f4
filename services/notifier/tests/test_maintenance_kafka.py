"""MaintenanceDue from service-center's maintenance calendar, through Kafka to the owner's
reminder message (once per due), and a check-in of the vehicle (RepairOrderOpened)
withdrawing it before it is sent; a customer of after-sales tier D also gets the
advisors' call task, an A customer the message only. The whole notifier on real Kafka
and PostgreSQL with a ManualClock (see conftest)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from dealerflow.contracts.enums import MaintenanceReason, ServiceTier
from dealerflow.contracts.events.service import (
    MaintenanceDue,
    RepairOrderOpened,
    ServiceTierChanged,
)
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
VIN = "LSVAU2180N2183294"
EVENING = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai: quiet hours


def due(customer_id: uuid.UUID, vin: str = VIN) -> MaintenanceDue:
    return example_for(MaintenanceDue).model_copy(
        update={
            "dealer_id": "D001",
            "customer_id": customer_id,
            "occurred_at": START,
            "vin": vin,
            "due_on": date(2025, 3, 17),
            "due_km": 30000,
            "reason": MaintenanceReason.PERIODIC,
        }
    )


async def reminders_of(notifier: Any, event: MaintenanceDue) -> dict[str, dict[str, Any]]:
    response = await notifier.client.get(
        "/v1/reminders",
        params={"dealer_id": event.dealer_id, "customer_id": str(event.customer_id)},
    )
    assert response.status_code == 200, response.text
    mine = f"vehicle:{event.vin}:maintenance-due:"
    return {
        r["business_key"]: r for r in response.json()["items"] if r["business_key"].startswith(mine)
    }


async def until_planned(notifier: Any, event: MaintenanceDue) -> dict[str, dict[str, Any]]:
    async def probe() -> dict[str, dict[str, Any]] | None:
        return await reminders_of(notifier, event) or None

    found: dict[str, dict[str, Any]] = await notifier.eventually(probe, "the reminder")
    return found


async def test_maintenance_due_reminds_the_owner_once(notifier: Any) -> None:
    notifier.clock.set(EVENING)
    event = due(uuid.uuid4())
    await notifier.produce(event)
    found = await until_planned(notifier, event)
    key = f"vehicle:{VIN}:maintenance-due:2025-03-17"
    assert list(found) == [key]
    assert (found[key]["kind"], found[key]["status"]) == ("maintenance_due", "scheduled")
    assert found[key]["params"] == {"due_date": "2025-03-17", "due_km": "30000"}
    send_at = datetime.fromisoformat(found[key]["send_at"].replace("Z", "+00:00"))
    assert send_at > EVENING  # after the quiet hours
    await notifier.produce(event)  # redelivered: nothing new
    assert list(await reminders_of(notifier, event)) == [key]

    # the first maintenance after a sale is reminded the same way
    first = due(event.customer_id, vin="LSVAU2180N2999999").model_copy(
        update={"reason": MaintenanceReason.FIRST_MAINTENANCE}
    )
    await notifier.produce(first)
    assert list(await until_planned(notifier, first)) == [
        "vehicle:LSVAU2180N2999999:maintenance-due:2025-03-17"
    ]


async def test_a_check_in_withdraws_the_pending_reminder(notifier: Any) -> None:
    notifier.clock.set(EVENING)  # the message waits for the morning: the car comes first
    event = due(uuid.uuid4(), vin="LFV2A21K6D4123456")
    await notifier.produce(event)
    [key] = list(await until_planned(notifier, event))
    opened = example_for(RepairOrderOpened).model_copy(
        update={
            "dealer_id": "D001",
            "customer_id": event.customer_id,
            "occurred_at": START,
            "vin": event.vin,
        }
    )
    await notifier.produce(opened)

    async def withdrawn() -> bool:
        return bool((await reminders_of(notifier, event))[key]["status"] == "cancelled")

    await notifier.eventually(withdrawn, "the reminder cancelled")


async def _with_service_tier(notifier: Any, customer: uuid.UUID, tier: ServiceTier) -> None:
    changed = example_for(ServiceTierChanged).model_copy(
        update={"dealer_id": "D001", "customer_id": customer, "tier": tier, "changed_at": START}
    )
    await notifier.produce(changed)

    async def kept() -> bool:
        response = await notifier.client.get(
            f"/v1/customers/{customer}/tier", params={"dealer_id": "D001"}
        )
        return bool(response.json()["service_tier"] == tier.value)

    await notifier.eventually(kept, f"after-sales tier {tier.value}")


async def test_a_tier_d_customer_also_gets_the_advisors_call(notifier: Any) -> None:
    lapsed, loyal = uuid.uuid4(), uuid.uuid4()
    await _with_service_tier(notifier, lapsed, ServiceTier.D)
    await _with_service_tier(notifier, loyal, ServiceTier.A)
    lapsed_due, loyal_due = (
        due(lapsed, vin="LSVAU2180N2100001"),
        due(loyal, vin="LSVAU2180N2100002"),
    )
    for event in (lapsed_due, loyal_due):
        await notifier.produce(event)
    [key] = list(await until_planned(notifier, lapsed_due))
    await until_planned(notifier, loyal_due)

    async def calls(customer: uuid.UUID) -> list[dict[str, Any]]:
        found = await notifier.tasks(customer_id=str(customer))
        return [t for t in found if t["kind"] == "retention_call"]

    [call] = await notifier.eventually(lambda: calls(lapsed), "the advisors' call task")
    assert call["business_key"] == f"{key}:call"
    assert call["assignee"] == "advisor:D001"
    assert await calls(loyal) == []  # tier A: the message only

    opened = example_for(RepairOrderOpened).model_copy(
        update={"dealer_id": "D001", "customer_id": lapsed, "vin": lapsed_due.vin}
    )
    await notifier.produce(opened)  # the car came in: the call is no longer needed

    async def cancelled() -> bool:
        return bool([t["status"] for t in await calls(lapsed)] == ["cancelled"])

    await notifier.eventually(cancelled, "the call task cancelled by the check-in")
