"""Annual vehicle inspection reminders from Kafka: VehicleDelivered plans the first (year 2),
sending it plans the next (year 4); the contract's cancellation withdraws the one not sent
yet (and the insurance-renewal reminder). TestDriveCompleted with the licence's expiry
plans the licence-renewal reminder. The whole notifier on real Kafka and PostgreSQL with a
ManualClock (see conftest)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.events.sales import (
    ContractCancelled,
    TestDriveCompleted,
    TestDriveScheduled,
    VehicleDelivered,
)
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"


def delivered(contract_id: str, delivery_id: str, customer_id: uuid.UUID) -> VehicleDelivered:
    return example_for(VehicleDelivered).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer_id,
            "contract_id": contract_id,
            "delivery_id": delivery_id,
            "occurred_at": START,
            "delivered_at": START,
        }
    )


async def reminders(
    notifier: Any, customer_id: uuid.UUID, kind: str = "licence_inspection"
) -> list[dict[str, Any]]:
    response = await notifier.client.get(
        "/v1/reminders", params={"dealer_id": DEALER, "customer_id": str(customer_id)}
    )
    assert response.status_code == 200, response.text
    return [r for r in response.json()["items"] if r["kind"] == kind]


async def test_each_inspection_reminder_sent_plans_the_next(notifier: Any) -> None:
    customer = uuid.uuid4()
    await notifier.produce(delivered("C-31", "DLV-31", customer))

    async def first() -> list[dict[str, Any]] | None:
        return await reminders(notifier, customer) or None

    [planned] = await notifier.eventually(first, "the first inspection reminder")
    assert planned["business_key"] == "delivery:DLV-31:inspection-2y"
    assert planned["params"]["inspection_date"] == "2027-03-03"
    assert datetime.fromisoformat(planned["send_at"]) == datetime(2027, 2, 1, 2, 0, tzinfo=UTC)

    notifier.clock.set(datetime.fromisoformat(planned["send_at"]))

    async def sent_and_next() -> list[dict[str, Any]] | None:
        found = {r["business_key"]: r for r in await reminders(notifier, customer)}
        done = found.get("delivery:DLV-31:inspection-2y", {}).get("status") == "sent"
        return list(found.values()) if done and len(found) == 2 else None

    found = await notifier.eventually(sent_and_next, "the reminder sent, the next planned")
    following = next(r for r in found if r["status"] == "scheduled")
    assert following["business_key"] == "delivery:DLV-31:inspection-4y"
    assert following["params"]["inspection_date"] == "2029-03-03"
    [message] = [
        n
        for n in await notifier.notifications(customer_id=str(customer))
        if n["kind"] == "licence_inspection"
    ]
    assert message["status"] == "sent"
    assert "2027-03-03" in message["body"]
    assert "年检" in message["body"]  # the example contact's locale is zh-CN


async def test_the_contract_s_cancellation_withdraws_the_pending_inspection(
    notifier: Any,
) -> None:
    """And the insurance-renewal reminder with it (both about the contract)."""
    customer = uuid.uuid4()
    await notifier.produce(delivered("C-32", "DLV-32", customer))

    async def first() -> list[dict[str, Any]] | None:
        both = [*await reminders(notifier, customer), *await insurance(notifier, customer)]
        return both if len(both) == 2 else None

    for planned in await notifier.eventually(first, "the inspection and insurance reminders"):
        assert planned["related"] == {"kind": "contract", "id": "C-32"}
    cancelled = example_for(ContractCancelled).model_copy(
        update={"dealer_id": DEALER, "contract_id": "C-32"}
    )
    await notifier.produce(cancelled)

    async def withdrawn() -> list[dict[str, Any]] | None:
        found = [*await reminders(notifier, customer), *await insurance(notifier, customer)]
        return found if [r["status"] for r in found] == ["cancelled"] * 2 else None

    await notifier.eventually(withdrawn, "the inspection and insurance reminders withdrawn")
    async with notifier.pool.acquire() as conn:
        timers = await conn.fetchval(
            "SELECT count(*) FROM timers WHERE key = ANY($1::text[]) AND status = 'pending'",
            [
                f"{DEALER}:delivery:DLV-32:inspection-2y",
                f"{DEALER}:delivery:DLV-32:insurance-renewal-1y",
            ],
        )
    assert timers == 0


async def insurance(notifier: Any, customer_id: uuid.UUID) -> list[dict[str, Any]]:
    return await reminders(notifier, customer_id, "insurance_renewal")


# -- driving licence -----------------------------------------------------------------------


def drive_booked(customer_id: uuid.UUID) -> TestDriveScheduled:
    return example_for(TestDriveScheduled).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer_id,
            "test_drive_id": "td-41",
            "occurred_at": START,
            "scheduled_start": START + timedelta(hours=1),
            "scheduled_end": START + timedelta(hours=2),
        }
    )


def drive_completed(customer_id: uuid.UUID, valid_until: date | None) -> TestDriveCompleted:
    return example_for(TestDriveCompleted).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer_id,
            "test_drive_id": "td-41",
            "occurred_at": START + timedelta(hours=2),
            "licence_valid_until": valid_until,
        }
    )


async def licence_renewals(notifier: Any, customer_id: uuid.UUID) -> list[dict[str, Any]]:
    return await reminders(notifier, customer_id, "licence_renewal")


async def test_a_test_drive_s_licence_expiry_plans_the_renewal_reminder(notifier: Any) -> None:
    customer = uuid.uuid4()
    await notifier.produce(drive_booked(customer))  # the contact the reminder goes to
    await notifier.produce(drive_completed(customer, None))  # no expiry: nothing planned
    await notifier.produce(drive_completed(customer, date(2027, 4, 30)))

    async def planned() -> list[dict[str, Any]] | None:
        return await licence_renewals(notifier, customer) or None

    [reminder] = await notifier.eventually(planned, "the licence-renewal reminder")
    assert reminder["business_key"] == f"customer:{customer}:licence-renewal@2027-04-30"
    assert reminder["params"] == {"licence_valid_until": "2027-04-30"}
    # 90 days before the expiry, 10:00 in Shanghai
    assert datetime.fromisoformat(reminder["send_at"]) == datetime(2027, 1, 30, 2, 0, tzinfo=UTC)

    # a later drive with a renewed licence replaces the pending reminder
    await notifier.produce(drive_completed(customer, date(2031, 4, 30)))

    async def replaced() -> list[dict[str, Any]] | None:
        found = {r["business_key"].rsplit("@", 1)[1]: r["status"] for r in await planned() or []}
        wanted = {"2027-04-30": "cancelled", "2031-04-30": "scheduled"}
        return [found] if found == wanted else None

    await notifier.eventually(replaced, "the renewed licence's reminder")
    [later] = [r for r in await licence_renewals(notifier, customer) if r["status"] == "scheduled"]
    assert datetime.fromisoformat(later["send_at"]) == datetime(2031, 1, 30, 2, 0, tzinfo=UTC)
    notifier.clock.set(datetime.fromisoformat(later["send_at"]))

    async def sent() -> list[dict[str, Any]] | None:
        messages = await notifier.notifications(customer_id=str(customer))
        return [n for n in messages if n["kind"] == "licence_renewal" and n["status"] == "sent"]

    [message] = await notifier.eventually(sent, "the licence-renewal message")
    assert "2031-04-30" in message["body"]
    assert "驾驶证" in message["body"]
