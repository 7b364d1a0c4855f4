"""A booked service appointment, from Kafka through to the customer's reminder before it:
ServiceAppointmentBooked plans it (a reschedule, a new Booked for the same appointment,
replaces the pending one), ServiceAppointmentCancelled withdraws it. The whole notifier on
real Kafka and PostgreSQL with a ManualClock (see conftest)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.events.service import (
    ServiceAppointmentBooked,
    ServiceAppointmentCancelled,
)
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
CUSTOMER = uuid.uuid4()


def booked(appointment_id: str, at: datetime) -> ServiceAppointmentBooked:
    return example_for(ServiceAppointmentBooked).model_copy(
        update={
            "dealer_id": "D001",
            "customer_id": CUSTOMER,
            "service_appointment_id": appointment_id,
            "occurred_at": START,
            "slot_start": at,
            "slot_end": at + timedelta(hours=1),
        }
    )


async def pending(notifier: Any, appointment_id: str) -> dict[str, dict[str, Any]]:
    response = await notifier.client.get(
        "/v1/reminders", params={"dealer_id": "D001", "customer_id": str(CUSTOMER)}
    )
    assert response.status_code == 200, response.text
    prefix = f"service_appointment:{appointment_id}:"
    return {
        r["business_key"]: r
        for r in response.json()["items"]
        if r["business_key"].startswith(prefix) and r["status"] == "scheduled"
    }


async def test_the_service_appointment_reminder_follows_the_booking(notifier: Any) -> None:
    first = START + timedelta(days=2, hours=1, minutes=30)  # Wednesday 11:30 in Shanghai
    await notifier.produce(booked("SA-1", first))

    async def reminders(at: datetime) -> dict[str, Any] | None:
        found = await pending(notifier, "SA-1")
        sends = [datetime.fromisoformat(r["send_at"]) for r in found.values()]
        return found if sends == [at - timedelta(hours=24)] else None

    planned = await notifier.eventually(lambda: reminders(first), "the appointment reminder")
    assert {r["kind"] for r in planned.values()} == {"service_appointment"}

    # rescheduled a day later: the pending reminder is the new time's only
    later = first + timedelta(days=1)
    await notifier.produce(booked("SA-1", later))
    await notifier.eventually(lambda: reminders(later), "the reminder of the new time")

    cancelled = example_for(ServiceAppointmentCancelled).model_copy(
        update={"dealer_id": "D001", "customer_id": CUSTOMER, "service_appointment_id": "SA-1"}
    )
    await notifier.produce(cancelled)

    async def withdrawn() -> bool:
        return not await pending(notifier, "SA-1")

    await notifier.eventually(withdrawn, "the reminder withdrawn")
