"""LeadMerged from Kafka: the merged lead's first contact is superseded by the survivor's,
its other open work (appointment reminders) moves to the surviving lead and customer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.events.leads import AppointmentScheduled, LeadCreated, LeadMerged
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"
SURVIVOR = example_for(LeadCreated).customer_id
OTHER = uuid.uuid4()


def created(lead_id: str, customer_id: uuid.UUID) -> LeadCreated:
    return example_for(LeadCreated).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer_id,
            "lead_id": lead_id,
            "occurred_at": START,
            "created_at": START,
            "consultant_id": "c-li-na",
        }
    )


async def reminders_of(notifier: Any, customer_id: uuid.UUID) -> list[dict[str, Any]]:
    response = await notifier.client.get(
        "/v1/reminders", params={"dealer_id": DEALER, "customer_id": str(customer_id)}
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_merged_work_moves_to_the_survivor(notifier: Any) -> None:
    await notifier.produce(created("L-A", SURVIVOR))
    await notifier.produce(created("L-B", OTHER))
    booked = example_for(AppointmentScheduled).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": OTHER,
            "appointment_id": "APT-B",
            "lead_id": "L-B",
            "occurred_at": START,
            "scheduled_for": START + timedelta(days=2),
        }
    )
    await notifier.produce(booked)

    async def first_contacts() -> dict[str, dict[str, Any]] | None:
        found = {
            t["related"]["id"]: t
            for t in await notifier.tasks()
            if t["kind"] == "lead_first_contact"
        }
        return found if set(found) == {"L-A", "L-B"} else None

    await notifier.eventually(first_contacts, "both first-contact tasks")
    await notifier.eventually(
        lambda: _scheduled(notifier, OTHER, 2), "the merged customer's appointment reminders"
    )

    merged = LeadMerged(
        dealer_id=DEALER,
        customer_id=SURVIVOR,
        occurred_at=START + timedelta(minutes=5),
        lead_id="L-A",
        merged_lead_ids=["L-B"],
        merged_customer_ids=[OTHER],
        merged_at=START + timedelta(minutes=5),
    )
    await notifier.produce(merged)

    async def moved() -> list[dict[str, Any]] | None:
        return await _scheduled(notifier, SURVIVOR, 2)

    reminders = await notifier.eventually(moved, "the reminders moved to the survivor")
    assert {r["business_key"].split(":")[1] for r in reminders} == {"APT-B"}
    assert await _scheduled(notifier, OTHER, 0) == []
    tasks = {
        t["related"]["id"]: t for t in await notifier.tasks() if t["kind"] == "lead_first_contact"
    }
    assert tasks["L-A"]["status"] == "scheduled"
    assert tasks["L-B"]["status"] == "cancelled"  # the survivor's own first contact governs

    await notifier.produce(merged)  # an outside producer's second copy changes nothing
    await notifier.produce(created("L-C", SURVIVOR))  # a marker: once it is in, so is the copy
    await notifier.eventually(
        lambda: _first_contact_of(notifier, "L-C"), "the marker lead's first contact"
    )
    assert len(await _scheduled(notifier, SURVIVOR, 2) or []) == 2


async def _scheduled(notifier: Any, customer: uuid.UUID, count: int) -> list[dict[str, Any]] | None:
    found = [r for r in await reminders_of(notifier, customer) if r["status"] == "scheduled"]
    return found if len(found) == count else None


async def _first_contact_of(notifier: Any, lead_id: str) -> list[dict[str, Any]] | None:
    found = [
        t
        for t in await notifier.tasks()
        if t["kind"] == "lead_first_contact" and t["related"]["id"] == lead_id
    ]
    return found or None
