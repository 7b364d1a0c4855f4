"""POST /v1/care-calendar/preview on real PostgreSQL (HTTP only, see conftest `api`): the
notifier's real handlers run on the event in a transaction that is rolled back; the
answer lists what they would schedule and nothing is left in the database."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from dealerflow.contracts.envelope import encode_structured
from dealerflow.contracts.events.sales import QuoteIssued, VehicleDelivered
from dealerflow.contracts.examples import example_for
from dealerflow.devinfra.service_testing import running_service
from dealerflow.devinfra.tokens import auth_header

from .conftest import START, configured

pytestmark = pytest.mark.integration

CUSTOMER = uuid.UUID("00000000-0000-0000-0000-0000000000c1")


def delivered(dealer_id: str) -> VehicleDelivered:
    return example_for(VehicleDelivered).model_copy(
        update={
            "dealer_id": dealer_id,
            "customer_id": CUSTOMER,
            "delivery_id": "DLV-P",
            "occurred_at": START,
            "delivered_at": START,
            "consultant_id": "c-zhao",
        }
    )


async def preview(api: httpx.AsyncClient, dealer_id: str, event: Any, **kw: Any) -> httpx.Response:
    return await api.post(
        "/v1/care-calendar/preview", params={"dealer_id": dealer_id}, json=event, **kw
    )


async def left_behind(db: Any) -> dict[str, int]:
    counts = {}
    for table in ("tasks", "reminders", "notifications", "timers", "outbox", "customer_contacts"):
        counts[table] = await db.pool.fetchval(f"SELECT count(*) FROM {table}")
    return counts


async def test_preview_of_a_delivery_shows_the_callbacks_and_leaves_nothing(
    api: httpx.AsyncClient, db: Any
) -> None:
    event = {"type": "VehicleDelivered", "data": delivered("D001").model_dump(mode="json")}
    response = await preview(api, "D001", event)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["handled"] is True
    assert body["event_type"] == "dealerflow.sales.VehicleDelivered.v1"
    tasks = {t["kind"]: t for t in body["tasks"]}
    callback, satisfaction = tasks["delivery_callback"], tasks["satisfaction_callback"]
    assert callback["due_at"] == (START + timedelta(hours=24)).isoformat().replace("+00:00", "Z")
    assert callback["assignee"] == "c-zhao"
    assert satisfaction["due_at"].startswith((START + timedelta(days=7)).date().isoformat())
    assert satisfaction["assignee_role"] == "customer_relations"
    assert {r["kind"] for r in body["reminders"]} >= {"insurance_renewal"}
    assert {r["purpose"] for r in body["reminders"]} == {"service"}
    assert {t["kind"] for t in body["timers"]} >= {"notifier.task_due"}
    published = [p["type"].split(".")[2] for p in body["published"]]
    assert published.count("TaskScheduled") >= 2
    assert "ReminderScheduled" in published
    assert "delivery-callback" in body["rules"]
    assert body["disabled_rules"] == []
    assert set((await left_behind(db)).values()) == {0}


async def test_preview_with_a_disabled_rule_says_so_and_plans_no_callback(
    api: httpx.AsyncClient, db: Any
) -> None:
    db.configure("D003", {"policy": {"care": {"disabled": ["delivery-callback"]}}})
    structured = encode_structured(delivered("D003"), source="/outside-dms", event_id="ev-p1")
    relations = auth_header(roles=["customer_relations"], dealers=["D003"], sub="cr-1")
    response = await preview(api, "D003", json.loads(structured.value), headers=relations)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["disabled_rules"] == ["delivery-callback"]
    kinds = {t["kind"] for t in body["tasks"]}
    assert "delivery_callback" not in kinds
    assert "satisfaction_callback" in kinds
    assert set((await left_behind(db)).values()) == {0}


async def test_preview_refuses_invalid_events_other_dealers_and_other_roles(
    api: httpx.AsyncClient,
) -> None:
    broken = {"type": "VehicleDelivered", "data": {"dealer_id": "D001"}}
    response = await preview(api, "D001", broken)
    assert response.status_code == 422, response.text
    assert "invalid VehicleDelivered payload" in response.json()["detail"]
    unknown = await preview(api, "D001", {"type": "NoSuchThing", "data": {}})
    assert unknown.status_code == 422, unknown.text
    assert "unknown event type" in unknown.json()["detail"]

    event = {"type": "VehicleDelivered", "data": delivered("D002").model_dump(mode="json")}
    other = await preview(api, "D001", event)  # the event is another dealer's
    assert other.status_code == 403, other.text
    token = auth_header(roles=["gm"], dealers=["D001"], sub="gm-1")
    assert (await preview(api, "D002", event, headers=token)).status_code == 403
    consultant = auth_header(roles=["consultant"], dealers=["D002"], sub="c-1")
    assert (await preview(api, "D002", event, headers=consultant)).status_code == 403


async def test_preview_of_an_event_the_notifier_ignores(api: httpx.AsyncClient) -> None:
    quote = example_for(QuoteIssued).model_copy(update={"dealer_id": "D001"})
    response = await preview(
        api, "D001", {"type": "QuoteIssued", "data": quote.model_dump(mode="json")}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["handled"], body["tasks"], body["reminders"], body["rules"]) == (False, [], [], [])


async def test_preview_of_an_event_of_an_unconfigured_dealer_is_refused(db: Any) -> None:
    refusing = db.settings.model_copy(update={"unknown_dealers": "refuse"})
    async with running_service(
        configured(db.dealers), refusing, clock=db.clock, run_background=False
    ) as service:
        event = {"type": "VehicleDelivered", "data": delivered("D001").model_dump(mode="json")}
        response = await preview(service.client, "D001", event)
    assert response.status_code == 422, response.text
    assert "D001" in response.json()["detail"]
