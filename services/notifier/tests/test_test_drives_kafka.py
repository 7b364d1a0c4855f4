"""A booked test drive, from Kafka through to the customer's reminder before the slot
(the dealer's lead time, ``sales.test_drive_reminder_before``). The whole notifier on real
Kafka and PostgreSQL with a ManualClock (see conftest); TestDriveCancelled withdraws it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.events.sales import TestDriveCancelled, TestDriveScheduled
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def booked(test_drive_id: str, starts: datetime, dealer_id: str = "D001") -> TestDriveScheduled:
    return example_for(TestDriveScheduled).model_copy(
        update={
            "dealer_id": dealer_id,
            "customer_id": uuid.uuid4(),
            "test_drive_id": test_drive_id,
            "occurred_at": START,
            "scheduled_start": starts,
            "scheduled_end": starts + timedelta(minutes=45),
        }
    )


async def reminders_of(notifier: Any, drive: TestDriveScheduled) -> dict[str, dict[str, Any]]:
    response = await notifier.client.get(
        "/v1/reminders",
        params={"dealer_id": drive.dealer_id, "customer_id": str(drive.customer_id)},
    )
    assert response.status_code == 200, response.text
    mine = f"test_drive:{drive.test_drive_id}:"
    return {
        r["business_key"]: r for r in response.json()["items"] if r["business_key"].startswith(mine)
    }


async def until_planned(notifier: Any, drive: TestDriveScheduled) -> dict[str, dict[str, Any]]:
    async def probe() -> dict[str, dict[str, Any]] | None:
        return await reminders_of(notifier, drive) or None

    found: dict[str, dict[str, Any]] = await notifier.eventually(probe, "the reminder")
    return found


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


async def test_the_customer_is_reminded_before_the_slot_at_the_dealers_lead_time(
    notifier: Any,
) -> None:
    notifier.configure("D002", {"policy": {"sales": {"test_drive_reminder_before": "PT3H"}}})
    starts = START + timedelta(days=1, hours=5)  # Tuesday 15:00 in Shanghai
    default = booked("TD-100", starts)
    own = booked("TD-200", starts, dealer_id="D002")
    await notifier.produce(default)
    await notifier.produce(own)

    found = await until_planned(notifier, default)
    key = f"test_drive:TD-100:reminder-2h@{stamp(starts)}"
    assert list(found) == [key]
    assert found[key]["status"] == "scheduled"
    assert found[key]["kind"] == "test_drive"
    send_at = datetime.fromisoformat(found[key]["send_at"].replace("Z", "+00:00"))
    assert send_at == starts - timedelta(hours=2)
    assert found[key]["params"]["appointment_time"] == "2025-03-04 15:00"

    theirs = await until_planned(notifier, own)
    assert list(theirs) == [f"test_drive:TD-200:reminder-3h@{stamp(starts)}"]

    # a redelivered booking plans nothing new
    await notifier.produce(default)
    assert list(await reminders_of(notifier, default)) == [key]


async def test_a_cancelled_drive_withdraws_the_reminder(notifier: Any) -> None:
    starts = START + timedelta(days=2)
    drive = booked("TD-300", starts)
    await notifier.produce(drive)
    key = f"test_drive:TD-300:reminder-2h@{stamp(starts)}"
    assert list(await until_planned(notifier, drive)) == [key]
    cancelled = TestDriveCancelled(
        dealer_id=drive.dealer_id,
        customer_id=drive.customer_id,
        occurred_at=START,
        test_drive_id=drive.test_drive_id,
        vehicle_id=drive.vehicle_id,
        scheduled_start=starts,
        cancelled_at=START,
    )
    await notifier.produce(cancelled)

    async def withdrawn() -> bool:
        return (await reminders_of(notifier, drive))[key]["status"] == "cancelled"

    await notifier.eventually(withdrawn, "the reminder cancelled")
