"""Detailing and accessory work through the HTTP API on real PostgreSQL: refused on
safety, power or braking; approval and completion wait for the customer's authorisation
(standard hours and fee shown, a service contract, effects and risks explained)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

Body = Callable[..., dict[str, Any]]
Step = Callable[..., Any]

LINES = [{"item_id": "L1", "kind": "labour", "description": "Ceramic coating", "labour_hours": "3"}]
COMPLETE = {"technician_ids": ["tech-sun"], "work_summary": "coating", "labour_hours": "3.0"}
JOB = {
    "dealer_id": "D001",
    "kind": "coating",
    "standard_hours": "3.0",
    "fee": {"amount": "1800.00", "currency": "CNY"},
    "affects": ["body"],
    "risks_explained": True,
    "customer_authorised": True,
}


async def detailing_order(api: httpx.AsyncClient, ro_body: Body, workflow: Step) -> str:
    opened = await api.post(
        "/v1/repair-orders",
        json=ro_body(work_type="accessory_detailing", concerns=["车漆镀晶"]),
    )
    assert opened.status_code == 201, opened.text
    ro_id: str = opened.json()["repair_order_id"]
    await workflow(ro_id, "diagnosis", technician_id="tech-sun", findings=["paint ok"])
    quoted = await workflow(ro_id, "quote", lines=LINES)
    assert quoted.status_code == 200, quoted.text
    return ro_id


async def test_detailing_waits_for_the_customers_authorisation(
    api: httpx.AsyncClient, ro_body: Body, workflow: Step
) -> None:
    ro_id = await detailing_order(api, ro_body, workflow)
    path = f"/v1/repair-orders/{ro_id}/detailing"

    # nothing recorded: the work may not start
    early = await workflow(ro_id, "approve", approved_item_ids=["L1"], method="signature")
    assert early.status_code == 409, early.text
    assert early.json()["type"].endswith("/detailing-not-authorised")

    # a coating needs a signed service contract
    partial = await api.put(path, json=JOB)
    assert partial.status_code == 200, partial.text
    detailing = partial.json()["detailing"]
    assert detailing["may_start"] is False
    assert detailing["problems"] == ["coating work needs a signed service contract"]
    assert detailing["fee"] == {"amount": "1800.00", "currency": "CNY"}
    refused = await workflow(ro_id, "approve", approved_item_ids=["L1"], method="signature")
    assert refused.status_code == 409
    assert "service contract" in refused.json()["detail"]

    signed = await api.put(path, json={**JOB, "service_contract_id": "SC-2026-0042"})
    assert signed.json()["detailing"] == {
        **signed.json()["detailing"],
        "may_start": True,
        "problems": [],
    }
    approved = await workflow(ro_id, "approve", approved_item_ids=["L1"], method="signature")
    assert approved.status_code == 200, approved.text
    done = await workflow(ro_id, "complete", **COMPLETE)
    assert done.status_code == 200, done.text
    assert done.json()["detailing"]["recorded_by"]  # the advisor's token subject


async def test_work_on_safety_power_or_braking_is_refused(
    api: httpx.AsyncClient, ro_body: Body, workflow: Step
) -> None:
    ro_id = await detailing_order(api, ro_body, workflow)
    path = f"/v1/repair-orders/{ro_id}/detailing"
    braking = {**JOB, "kind": "electronics", "affects": ["electrical", "braking"]}
    answer = await api.put(path, json={**braking, "service_contract_id": "SC-1"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["type"].endswith("/detailing-refused")
    assert "braking" in answer.json()["detail"]
    shown = await api.get(f"/v1/repair-orders/{ro_id}", params={"dealer_id": "D001"})
    assert shown.json()["detailing"] is None  # nothing was recorded


async def test_other_work_needs_no_detailing_record(
    api: httpx.AsyncClient, ro_body: Body, workflow: Step
) -> None:
    opened = (await api.post("/v1/repair-orders", json=ro_body())).json()
    answer = await api.put(f"/v1/repair-orders/{opened['repair_order_id']}/detailing", json=JOB)
    assert answer.status_code == 409
    assert answer.json()["type"].endswith("/not-detailing-work")
