"""The consent store through the whole notifier on real Kafka and PostgreSQL: staff record
an opt-out after a reminder was planned, and the message is suppressed when its timer
fires (NotificationSuppressed ``opted_out``); the change is published as ConsentChanged
once and shown with its history; another system's ConsentChanged joins the same store and
applies the same way."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.care_enums import ConsentSource
from dealerflow.contracts.enums import ConsentPurpose, MaintenanceReason
from dealerflow.contracts.events.notifier import ConsentChanged
from dealerflow.contracts.events.service import MaintenanceDue
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
EVENING = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai: quiet hours
MORNING = datetime(2025, 3, 4, 2, 0, tzinfo=UTC)  # Tuesday 10:00: the message is due
DEALER = "D001"


def _due(customer_id: uuid.UUID) -> MaintenanceDue:
    return example_for(MaintenanceDue).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer_id,
            "occurred_at": EVENING,
            "vin": f"LSVAU2180N{customer_id.hex[:7].upper()}",
            "due_on": date(2025, 3, 17),
            "due_km": 30000,
            "reason": MaintenanceReason.PERIODIC,
        }
    )


async def _planned(notifier: Any, customer: uuid.UUID) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        response = await notifier.client.get(
            "/v1/reminders", params={"dealer_id": DEALER, "customer_id": str(customer)}
        )
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        return items[0] if items else None

    found: dict[str, Any] = await notifier.eventually(probe, "the reminder planned")
    return found


async def _suppressed(notifier: Any, customer: uuid.UUID) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]] | None:
        found = [
            n
            for n in await notifier.notifications(customer_id=str(customer))
            if n["status"] == "suppressed"
        ]
        return found or None

    found: list[dict[str, Any]] = await notifier.eventually(probe, "the suppressed message")
    return found


async def _events(notifier: Any, type_name: str, customer: uuid.UUID) -> list[Any]:
    return [
        r["event"]
        for r in await notifier.published(type_name, within_s=0.5)
        if r["event"].customer_id == customer
    ]


async def test_a_staff_opt_out_stops_the_planned_message(notifier: Any) -> None:
    notifier.clock.set(EVENING)
    customer = uuid.uuid4()
    await notifier.produce(_due(customer))
    reminder = await _planned(notifier, customer)
    assert reminder["status"] == "scheduled"

    url = f"/v1/customers/{customer}/consents"
    body = {"purpose": "service", "granted": False, "source": "customer_request"}
    headers = {"Idempotency-Key": "opt-out-1"}
    first = await notifier.client.post(
        url, params={"dealer_id": DEALER}, json=body, headers=headers
    )
    assert first.status_code == 201, first.text
    again = await notifier.client.post(
        url, params={"dealer_id": DEALER}, json=body, headers=headers
    )
    assert again.status_code == 201, again.text
    change = first.json()
    assert again.json() == change  # a retry gets the first change back
    assert (change["purpose"], change["channel"], change["granted"]) == ("service", None, False)
    assert change["source"] == "customer_request"
    assert change["recorded_by"]  # the caller (the token's subject)

    notifier.clock.set(MORNING)
    [note] = await _suppressed(notifier, customer)
    assert note["policy"] == "opted_out"
    [suppressed] = await notifier.eventually(
        lambda: _events(notifier, "NotificationSuppressed", customer), "NotificationSuppressed"
    )
    assert suppressed.policy.value == "opted_out"
    assert suppressed.reminder_id == reminder["id"]

    [published] = await notifier.eventually(
        lambda: _events(notifier, "ConsentChanged", customer), "ConsentChanged"
    )
    assert (published.consent_id, published.granted, published.channel) == (
        change["consent_id"],
        False,
        None,
    )
    assert published.source is ConsentSource.CUSTOMER_REQUEST

    current = await notifier.client.get(url, params={"dealer_id": DEALER})
    assert current.status_code == 200, current.text
    assert [c["consent_id"] for c in current.json()["current"]] == [change["consent_id"]]
    # read back from the notifier topic, our own event is kept once
    history = await notifier.client.get(f"{url}/history", params={"dealer_id": DEALER})
    assert history.status_code == 200, history.text
    assert [c["consent_id"] for c in history.json()["items"]] == [change["consent_id"]]


async def test_another_systems_consent_change_applies_the_same_way(notifier: Any) -> None:
    notifier.clock.set(EVENING)
    customer = uuid.uuid4()
    await notifier.produce(_due(customer))
    await _planned(notifier, customer)
    outside = example_for(ConsentChanged).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "occurred_at": EVENING,
            "consent_id": f"crm-{customer.hex[:8]}",
            "purpose": ConsentPurpose.SERVICE,
            "channel": None,
            "granted": False,
            "source": ConsentSource.FORM,
            "changed_at": EVENING + timedelta(minutes=1),
        }
    )
    await notifier.produce(outside)
    await notifier.produce(outside)  # redelivered: kept once

    async def stored() -> list[dict[str, Any]] | None:
        response = await notifier.client.get(
            f"/v1/customers/{customer}/consents/history", params={"dealer_id": DEALER}
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items or None

    [kept] = await notifier.eventually(stored, "the outside change in the store")
    assert (kept["consent_id"], kept["source"], kept["recorded_by"]) == (
        outside.consent_id,
        "form",
        None,
    )
    notifier.clock.set(MORNING)
    [note] = await _suppressed(notifier, customer)
    assert note["policy"] == "opted_out"
    # the two copies the test produced, none republished by the notifier
    assert len(await _events(notifier, "ConsentChanged", customer)) == 2
