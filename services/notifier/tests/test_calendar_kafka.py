"""The care calendar on real Kafka and PostgreSQL (see conftest): a dealer that turned a
rule off (``policy.care.disabled``) gets nothing of it, the others do."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.examples import example_for
from dealerflow.devinfra.tokens import auth_header

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def delivery(dealer_id: str, customer_id: uuid.UUID, delivery_id: str) -> VehicleDelivered:
    return example_for(VehicleDelivered).model_copy(
        update={
            "dealer_id": dealer_id,
            "customer_id": customer_id,
            "delivery_id": delivery_id,
            "occurred_at": START,
            "delivered_at": START,
            "consultant_id": "c-li",
        }
    )


async def task_kinds(notifier: Any, dealer_id: str, customer_id: uuid.UUID) -> set[str] | None:
    response = await notifier.client.get(
        "/v1/tasks", params={"dealer_id": dealer_id, "customer_id": str(customer_id)}
    )
    assert response.status_code == 200, response.text
    return {t["kind"] for t in response.json()["items"]} or None


async def test_a_disabled_delivery_callback_plans_no_callback_task(notifier: Any) -> None:
    notifier.configure("D003", {"policy": {"care": {"disabled": ["delivery-callback"]}}})
    off, on = uuid.uuid4(), uuid.uuid4()
    await notifier.produce(delivery("D003", off, "DLV-OFF"))
    await notifier.produce(delivery("D001", on, "DLV-ON"))  # a marker after it

    async def marker() -> set[str] | None:
        return await task_kinds(notifier, "D001", on)

    assert "delivery_callback" in await notifier.eventually(marker, "the marker's callback")

    async def care() -> set[str] | None:
        return await task_kinds(notifier, "D003", off)

    kinds = await notifier.eventually(care, "D003's owner care")
    assert "delivery_callback" not in kinds
    assert "satisfaction_callback" in kinds  # only the rule turned off is missing


async def test_the_calendar_shows_the_dealers_numbers_and_enabled_flags(notifier: Any) -> None:
    notifier.configure(
        "D004",
        {
            "policy": {
                "care": {"disabled": ["delivery-survey", "no-such-rule"]},
                "owner_care": {"callback_after_delivery": "PT48H"},
            }
        },
    )
    relations = auth_header(roles=["customer_relations"], dealers=["D004"], sub="cr-1")
    response = await notifier.client.get(
        "/v1/care-calendar", params={"dealer_id": "D004"}, headers=relations
    )
    assert response.status_code == 200, response.text
    body = response.json()
    rules = {r["key"]: r for r in body["rules"]}
    assert body["unknown_disabled"] == ["no-such-rule"]
    assert rules["delivery-survey"]["enabled"] is False
    callback = rules["delivery-callback"]
    assert callback["enabled"] is True
    assert callback["policy_keys"] == {
        "owner_care.callback_after_delivery": "2 d",
        "tiers.vip_manager_courtesy_calls": "yes",
    }
    assert callback["triggers"] == ["VehicleDelivered"]
    assert callback["makes"] == "delivery_callback"

    consultant = auth_header(roles=["consultant"], dealers=["D004"], sub="c-1")
    response = await notifier.client.get(
        "/v1/care-calendar", params={"dealer_id": "D004"}, headers=consultant
    )
    assert response.status_code == 403, response.text
    response = await notifier.client.get(
        "/v1/care-calendar", params={"dealer_id": "D001"}, headers=relations
    )
    assert response.status_code == 403, response.text  # another dealer
