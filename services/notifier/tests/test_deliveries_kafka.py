"""A contract's agreed delivery, from Kafka through to the customer's reminders before it:
DeliveryScheduled plans them (agreed again for another time, the pending ones are
replaced), ContractAmended moving the delivery date and ContractCancelled withdraw them.
VehicleDelivered gives the delivering consultant the plate-registration task when the
dealer offers the assistance; the contract's cancellation cancels it while open.
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
    VehicleDelivered,
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


def delivered(dealer_id: str, contract_id: str, delivery_id: str) -> VehicleDelivered:
    return example_for(VehicleDelivered).model_copy(
        update={
            "dealer_id": dealer_id,
            "customer_id": CUSTOMER,
            "contract_id": contract_id,
            "delivery_id": delivery_id,
            "occurred_at": START,
            "delivered_at": START,
            "consultant_id": "c-wang",
        }
    )


async def plate_tasks(notifier: Any, dealer_id: str, contract_id: str) -> list[dict[str, Any]]:
    response = await notifier.client.get(
        "/v1/tasks", params={"dealer_id": dealer_id, "customer_id": str(CUSTOMER)}
    )
    assert response.status_code == 200, response.text
    return [
        t
        for t in response.json()["items"]
        if t["kind"] == "plate_registration" and t["related"]["id"] == contract_id
    ]


async def test_plate_registration_task_after_delivery_cancelled_with_the_contract(
    notifier: Any,
) -> None:
    await notifier.produce(delivered("D001", "C-7", "DLV-7"))

    async def planned() -> list[dict[str, Any]] | None:
        return await plate_tasks(notifier, "D001", "C-7") or None

    [task] = await notifier.eventually(planned, "the plate-registration task")
    assert task["assignee"] == "c-wang"
    assert task["related"] == {"kind": "contract", "id": "C-7"}
    assert task["status"] == "scheduled"
    assert datetime.fromisoformat(task["due_at"]) == START + timedelta(days=3)

    async def announced() -> list[dict[str, Any]] | None:
        events = await notifier.published("TaskScheduled")
        return [e for e in events if e["event"].task_id == task["id"]] or None

    [scheduled] = await notifier.eventually(announced, "TaskScheduled of the task")
    assert scheduled["event"].kind.value == "plate_registration"

    # an outside DMS cancelling the contract after its delivery: the open task goes
    cancelled = example_for(ContractCancelled).model_copy(
        update={"dealer_id": "D001", "contract_id": "C-7"}
    )
    await notifier.produce(cancelled)

    async def gone() -> list[dict[str, Any]] | None:
        tasks = await plate_tasks(notifier, "D001", "C-7")
        return tasks if [t["status"] for t in tasks] == ["cancelled"] else None

    await notifier.eventually(gone, "the plate-registration task cancelled")


async def test_no_plate_registration_task_when_the_dealer_does_not_offer_it(
    notifier: Any,
) -> None:
    notifier.configure("D003", {"policy": {"sales": {"plate_registration_assistance": False}}})
    await notifier.produce(delivered("D003", "C-8", "DLV-8"))
    await notifier.produce(delivered("D001", "C-9", "DLV-9"))  # a marker after it

    async def marker() -> list[dict[str, Any]] | None:
        return await plate_tasks(notifier, "D001", "C-9") or None

    await notifier.eventually(marker, "the marker delivery's task")

    async def callback() -> list[dict[str, Any]] | None:
        response = await notifier.client.get(
            "/v1/tasks", params={"dealer_id": "D003", "customer_id": str(CUSTOMER)}
        )
        return response.json()["items"] or None

    kinds = {t["kind"] for t in await notifier.eventually(callback, "D003's owner care")}
    assert "delivery_callback" in kinds
    assert "plate_registration" not in kinds
