"""A vehicle's history by VIN, and declined work offered again at its next visit, through
the HTTP API on real PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from dealerflow.devinfra.tokens import auth_header
from dealerflow.runtime.clock import ManualClock

pytestmark = pytest.mark.integration

Body = Callable[..., dict[str, Any]]
Step = Callable[..., Any]

VIN = "LSVAU2180N2183294"
COMPLETE = {"technician_ids": ["tech-sun"], "work_summary": "pads", "labour_hours": "1.5"}
LINES = [
    {"item_id": "L1", "kind": "labour", "description": "Replace front pads", "labour_hours": "1.5"},
    {
        "item_id": "P2",
        "kind": "part",
        "description": "Wiper blades",
        "part_number": "WB-7",
        "unit_price": "80.00",
    },
]


async def test_history_and_declined_work_offered_again(
    api: httpx.AsyncClient, ro_body: Body, workflow: Step, clock: ManualClock
) -> None:
    first = (await api.post("/v1/repair-orders", json=ro_body())).json()  # a maintenance
    ro_id = first["repair_order_id"]
    await workflow(ro_id, "diagnosis", technician_id="tech-sun", findings=["pads worn"])
    await workflow(ro_id, "quote", lines=LINES)
    decided = await workflow(
        ro_id, "approve", approved_item_ids=["L1"], declined_item_ids=["P2"], method="wechat"
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["offered_again"] == []  # declined here, not on an earlier visit
    await workflow(ro_id, "complete", **COMPLETE)
    await workflow(ro_id, "quality-check", inspector_id="qc-qian", passed=True)
    handed = await workflow(
        ro_id,
        "handover",
        mileage_km=20010,
        amount_paid={"amount": "450.00", "currency": "CNY"},
        invoice_number="SV-7",
    )
    assert handed.status_code == 200, handed.text

    # the car comes back: the advisor sees the wipers declined last time
    clock.advance(timedelta(days=120))
    second = await api.post("/v1/repair-orders", json=ro_body(mileage_km=25000))
    assert second.status_code == 201, second.text
    offered = second.json()["offered_again"]
    assert [(o["repair_order_id"], o["item_id"]) for o in offered] == [(ro_id, "P2")]
    assert offered[0]["description"] == "Wiper blades"

    reader = auth_header(roles=["customer-relations"], dealers=["D001"])
    history = await api.get(
        f"/v1/vehicles/{VIN}/history", params={"dealer_id": "D001"}, headers=reader
    )
    assert history.status_code == 200, history.text
    body = history.json()
    assert [o["repair_order_id"] for o in body["repair_orders"]] == [
        second.json()["repair_order_id"],
        ro_id,
    ]
    assert [d["item_id"] for d in body["declined_open"]] == ["P2"]
    due = body["next_maintenance"]
    assert due["after_repair_order_id"] == ro_id
    assert due["due_km"] == handed.json()["next_maintenance_due_km"] == 30010
    assert (body["tier"], body["retention"]) == ("B", "active")  # two visits this year

    # no visit for over 12 months since the second: at risk, no visit in the year: tier D
    clock.advance(timedelta(days=400))
    later = await api.get(
        f"/v1/vehicles/{VIN}/history", params={"dealer_id": "D001"}, headers=reader
    )
    assert (later.json()["tier"], later.json()["retention"]) == ("D", "at_risk")

    other = await api.get(
        f"/v1/vehicles/{VIN}/history",
        params={"dealer_id": "D002"},
        headers=auth_header(roles=["advisor"], dealers=["D002"]),
    )
    assert (other.json()["repair_orders"], other.json()["declined_open"]) == ([], [])
    assert other.json()["next_maintenance"] is None
    assert (other.json()["tier"], other.json()["retention"]) == ("D", None)
