"""Reading, transitions, dealer scoping, pagination, analysis and the dealer's policy over HTTP
(real PostgreSQL and Kafka)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from dealerflow.contracts.events.complaints import ComplaintAssigned
from dealerflow.contracts.events.notifier import SurveyResponded
from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

DEALER = {"dealer_id": "sh-pudong-01"}


async def test_other_dealers_see_404_and_illegal_transitions_are_409(harness: Any) -> None:
    cid = (await harness.open_complaint())["id"]
    other = {"dealer_id": "bj-chaoyang-02"}
    assert (await harness.client.get(f"/v1/complaints/{cid}", params=other)).status_code == 404
    response = await harness.client.post(
        f"/v1/complaints/{cid}/acknowledge", json={**other, "channel": "phone"}
    )
    assert response.status_code == 404
    missing = await harness.client.get(f"/v1/complaints/{uuid.uuid4()}", params=DEALER)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")

    resolve = {"responsibility": "dealer", "measures": ["x"], "resolution": "y"}
    early = await harness.client.post(f"/v1/complaints/{cid}/resolve", json={**DEALER, **resolve})
    assert early.status_code == 409
    problem = early.json()
    assert problem["type"].endswith("illegal-transition")
    assert problem["status"] == 409
    assert "cannot resolve a complaint that is opened" in problem["detail"]
    assert (problem["complaint_status"], problem["action"]) == ("opened", "resolve")

    for action, body in (
        ("close", {"closed_by": "m", "customer_confirmed": True}),
        ("reopen", {"reason": "why"}),
        ("resume", {"by": "m"}),
    ):
        response = await harness.client.post(
            f"/v1/complaints/{cid}/{action}", json={**DEALER, **body}
        )
        assert response.status_code == 409, action

    ack = {"channel": "wechat"}
    assert (
        await harness.client.post(f"/v1/complaints/{cid}/acknowledge", json={**DEALER, **ack})
    ).status_code == 200
    twice = await harness.client.post(f"/v1/complaints/{cid}/acknowledge", json={**DEALER, **ack})
    assert twice.status_code == 409


async def test_an_action_retried_with_its_idempotency_key_acts_once(harness: Any) -> None:
    cid = (await harness.open_complaint())["id"]
    url = f"/v1/complaints/{cid}/acknowledge"
    body = {**DEALER, "channel": "phone"}
    key = {"Idempotency-Key": "ack-1"}
    first = await harness.client.post(url, json=body, headers=key)
    assert first.status_code == 200, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = await harness.client.post(url, json=body, headers=key)
    assert again.status_code == 200, again.text  # not the 409 of acknowledging twice
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["status"] == "acknowledged"
    reused = await harness.client.post(url, json={**body, "channel": "sms"}, headers=key)
    assert reused.status_code == 422
    assert reused.json()["type"].endswith("idempotency-key-reused")
    # the same key on another action (or complaint) is another request
    pause = await harness.client.post(
        f"/v1/complaints/{cid}/pause", json={**DEALER, "by": "m", "reason": "r"}, headers=key
    )
    assert pause.status_code == 200, pause.text
    history = [h["action"] for h in pause.json()["history"]]
    assert history == ["opened", "acknowledged", "paused"]
    unknown = await harness.client.post(
        f"/v1/complaints/{uuid.uuid4()}/acknowledge", json=body, headers=key
    )
    assert unknown.status_code == 404


async def test_assign_publishes_the_handler_change(harness: Any) -> None:
    created = await harness.open_complaint(handler_id="adv-zhou")
    cid = created["id"]
    response = await harness.client.post(
        f"/v1/complaints/{cid}/assign",
        json={**DEALER, "handler_id": "mgr-chen", "department": "after_sales"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["handler_id"] == "mgr-chen"
    await harness.complaints_events(
        lambda seen: harness.seen_of(ComplaintAssigned, cid), what="ComplaintAssigned"
    )
    assigned = harness.seen_of(ComplaintAssigned, cid)[0]
    assert (assigned.previous_handler_id, assigned.handler_id) == ("adv-zhou", "mgr-chen")
    assert assigned.reason == "manual"


async def test_list_filters_and_paginates_newest_first(harness: Any) -> None:
    ids = []
    for n in range(5):
        severity = "high" if n % 2 else "normal"
        ids.append((await harness.open_complaint(severity=severity, summary=f"c{n}"))["id"])
        harness.clock.advance(timedelta(minutes=1))
    await harness.open_complaint(dealer_id="bj-chaoyang-02")  # another dealer's

    pages, cursor = [], None
    while True:
        params = {**DEALER, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await harness.client.get("/v1/complaints", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append([item["id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [ids[4:2:-1], ids[2:0:-1], ids[0:1]]

    high = await harness.client.get("/v1/complaints", params={**DEALER, "severity": "high"})
    assert [i["id"] for i in high.json()["items"]] == [ids[3], ids[1]]
    customer = (await harness.client.get(f"/v1/complaints/{ids[0]}", params=DEALER)).json()[
        "customer_id"
    ]
    by_customer = await harness.client.get(
        "/v1/complaints", params={**DEALER, "customer_id": customer, "status": "opened"}
    )
    assert len(by_customer.json()["items"]) == 5
    none = await harness.client.get(
        "/v1/complaints", params={**DEALER, "category": "sales_service"}
    )
    assert none.json() == {"items": [], "next_cursor": None}

    assert (
        await harness.client.get("/v1/complaints", params={**DEALER, "limit": 201})
    ).status_code == 422
    assert (
        await harness.client.get("/v1/complaints", params={**DEALER, "cursor": "garbage!"})
    ).status_code == 422


async def test_stats_count_and_time_acknowledgement(harness: Any) -> None:
    first = (await harness.open_complaint(category="sales_service"))["id"]
    await harness.open_complaint(category="product_quality")
    harness.clock.advance(timedelta(minutes=40))
    response = await harness.client.post(
        f"/v1/complaints/{first}/acknowledge", json={**DEALER, "channel": "phone"}
    )
    assert response.status_code == 200
    stats = await harness.client.get("/v1/complaints/stats", params=DEALER)
    assert stats.status_code == 200, stats.text
    body = stats.json()
    assert body["total"] == 2
    assert body["by_category"] == {"sales_service": 1, "product_quality": 1}
    assert body["by_status"] == {"acknowledged": 1, "opened": 1}
    assert body["mean_time_to_acknowledge_s"] == 40 * 60
    assert body["mean_time_to_resolve_s"] is None
    assert body["by_month"] == {"2025-03": 2}
    assert body["customers_with_repeat_complaints"] == 1


async def test_dealer_policy_overrides_change_thresholds_and_slas(harness: Any) -> None:
    dealer = "sh-pudong-01"
    overrides = {
        "complaints": {
            "survey_dissatisfied_max_score": 8,
            "sla": {"normal": {"acknowledge": {"duration": "PT1H", "mode": "wall"}}},
        }
    }
    harness.configure(dealer, {"policy": overrides})

    created = await harness.open_complaint(severity="normal")
    ack = next(c for c in created["clocks"] if c["kind"] == "acknowledge")
    assert ack["sla_seconds"] == 3600
    assert ack["due_at"].startswith("2025-03-05T03:00")

    customer = uuid.uuid4()
    delivered = example_for(VehicleDelivered).model_copy(
        update={"dealer_id": dealer, "customer_id": customer}
    )
    await harness.produce(delivered)
    await harness.contact_known(dealer, customer)  # another topic: no order with the survey
    survey = example_for(SurveyResponded).model_copy(
        update={"dealer_id": dealer, "customer_id": customer, "score": 8, "survey_id": "s8"}
    )
    await harness.produce(survey)
    rows = await harness.eventually(
        lambda: harness.db("SELECT origin_ref FROM complaints WHERE customer_id = $1", customer),
        what="a complaint for a survey score of 8 under the dealer's threshold",
    )
    assert [r["origin_ref"] for r in rows] == ["survey:s8"]
