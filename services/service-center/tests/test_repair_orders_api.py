"""Repair orders through the HTTP API on a real PostgreSQL (events read from the outbox)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from dealerflow.contracts.events.service import (
    QualityCheckFailed,
    RepairApproved,
    RepairItemDeclined,
    RepairOrderOpened,
    RepairQuoted,
    VehicleHandedOver,
)
from dealerflow.contracts.identity import customer_id_for
from dealerflow.runtime.clock import ManualClock

pytestmark = pytest.mark.integration

Body = Callable[..., dict[str, Any]]
Step = Callable[..., Any]

COMPLETE = {"technician_ids": ["tech-sun"], "work_summary": "oil and filter", "labour_hours": "1.0"}
PASS = {"inspector_id": "qc-qian", "passed": True}


async def open_ro(api: httpx.AsyncClient, body: dict[str, Any], **headers: str) -> httpx.Response:
    return await api.post("/v1/repair-orders", json=body, headers=headers)


async def test_check_in_classifies_and_publishes(
    api: httpx.AsyncClient, ro_body: Body, outbox: Any
) -> None:
    response = await open_ro(
        api, ro_body(concerns=["保养", "Brake noise!"], walk_around_findings=["scratch rear door"])
    )
    assert response.status_code == 201, response.text
    ro = response.json()
    customer_id = customer_id_for("default", "+8613900139000")
    assert ro["customer_id"] == str(customer_id)
    assert ro["work_type"] == "repair"  # a fault outranks the maintenance
    assert ro["status"] == "open"
    [(key, envelope)] = await outbox.records()
    assert key == str(customer_id).encode()
    event = envelope.event
    assert isinstance(event, RepairOrderOpened)
    assert event.repair_order_id == ro["repair_order_id"]
    assert event.concern_codes == ["保养", "brakenoise"]
    assert event.mileage_km == 20000
    assert event.advisor_id == "advisor-zhao"
    assert event.contact.phone == "+8613900139000"
    assert envelope.meta.subject == ro["repair_order_id"]


async def test_warranty_and_explicit_work_type(api: httpx.AsyncClient, ro_body: Body) -> None:
    fault = await open_ro(api, ro_body(concerns=["engine stalls"], warranty_start_on="2024-01-10"))
    assert fault.json()["work_type"] == "warranty"
    assert fault.json()["under_warranty"] is True
    chosen = await open_ro(api, ro_body(concerns=["engine stalls"], work_type="bodywork"))
    assert chosen.json()["work_type"] == "bodywork"
    no_contact = ro_body(customer={"name": "x", "consent": {"service": True, "marketing": False}})
    assert (await open_ro(api, no_contact)).status_code == 422
    by_email = ro_body(
        customer={
            "name": "Li",
            "email": "li@example.com",
            "consent": {"service": True, "marketing": False},
        }
    )
    assert (await open_ro(api, by_email)).status_code == 201
    bad_vin = await open_ro(api, ro_body(vin="LSVAU2180N218329O"))
    assert bad_vin.status_code == 422


async def test_quick_job_to_handover_with_next_maintenance(
    api: httpx.AsyncClient, ro_body: Body, outbox: Any, workflow: Step, clock: ManualClock
) -> None:
    ro_id = (await open_ro(api, ro_body())).json()["repair_order_id"]
    assert (await workflow(ro_id, "complete", **COMPLETE)).status_code == 200
    # Handover before the quality check: refused with the reason, nothing published.
    early = await workflow(ro_id, "handover")
    assert early.status_code == 409
    assert early.json()["missing"] == ["quality_check_not_passed"]
    assert "VehicleHandedOver" not in await outbox.types()
    assert (await workflow(ro_id, "quality-check", **PASS)).json()["status"] == "ready"
    clock.advance(timedelta(hours=2))
    handed = await workflow(ro_id, "handover", mileage_km=20003)
    assert handed.status_code == 200, handed.text
    assert handed.json()["status"] == "handed_over"
    assert await outbox.types() == [
        "RepairOrderOpened",
        "RepairCompleted",
        "QualityCheckPassed",
        "VehicleHandedOver",
        "ServiceTierChanged",  # the customer's first after-sales tier
    ]
    event = (await outbox.events())[-2]
    assert isinstance(event, VehicleHandedOver)
    assert event.handed_over_at == clock.now()
    assert event.mileage_km == 20003
    assert event.work_type == "maintenance"
    assert event.advisor_id == "advisor-zhao"
    assert event.work_summary == "oil and filter"
    assert event.amount_paid is None
    # maintenance visit: 12 months or 10,000 km from today
    assert event.next_maintenance_due_on == date(2026, 3, 3)
    assert event.next_maintenance_due_km == 30003
    assert event.contact.name == "张伟"
    again = await workflow(ro_id, "handover")
    assert again.status_code == 409
    assert "already handed over" in again.json()["detail"]


@pytest.mark.parametrize(
    ("steps", "step", "body", "reason"),
    [
        ([], "quality-check", PASS, "needs completed work"),
        ([], "approve", {"approved_item_ids": ["L1"], "method": "signature"}, "no quote"),
        (["complete"], "complete", COMPLETE, "already completed"),
        (["complete", "pass"], "quality-check", PASS, "already passed"),
        (
            ["complete", "pass"],
            "quote",
            {
                "lines": [
                    {"item_id": "L1", "kind": "labour", "description": "x", "labour_hours": "1"}
                ]
            },
            "cannot quote",
        ),
    ],
)
async def test_illegal_steps_are_409_with_the_reason(
    api: httpx.AsyncClient,
    ro_body: Body,
    outbox: Any,
    workflow: Step,
    steps: list[str],
    step: str,
    body: dict[str, Any],
    reason: str,
) -> None:
    ro_id = (await open_ro(api, ro_body())).json()["repair_order_id"]
    for earlier in steps:
        if earlier == "complete":
            await workflow(ro_id, "complete", **COMPLETE)
        else:
            await workflow(ro_id, "quality-check", **PASS)
    before = await outbox.types()
    response = await workflow(ro_id, step, **body)
    assert response.status_code == 409, response.text
    assert reason in response.json()["detail"]
    assert response.json()["type"].endswith("illegal-transition")
    assert await outbox.types() == before


async def test_quote_approval_settlement_and_declined_items(
    api: httpx.AsyncClient, ro_body: Body, outbox: Any, workflow: Step, clock: ManualClock
) -> None:
    ro_id = (await open_ro(api, ro_body(concerns=["刹车异响"]))).json()["repair_order_id"]
    diagnosed = await workflow(ro_id, "diagnosis", technician_id="tech-sun", findings=["pads worn"])
    assert diagnosed.json()["diagnosis"]["findings"] == ["pads worn"]
    lines = [
        {
            "item_id": "L1",
            "kind": "labour",
            "description": "Replace front pads",
            "labour_hours": "1.5",
        },
        {
            "item_id": "P1",
            "kind": "part",
            "description": "Front pads",
            "part_number": "BP-100",
            "quantity": 2,
            "unit_price": "200.00",
        },
        {
            "item_id": "P2",
            "kind": "part",
            "description": "Wiper blades",
            "part_number": "WB-7",
            "unit_price": "80.00",
        },
    ]
    quoted = await workflow(ro_id, "quote", lines=lines)
    assert quoted.status_code == 200, quoted.text
    assert quoted.json()["quote"]["total"] == {"amount": "930.00", "currency": "CNY"}
    early = await workflow(ro_id, "complete", **COMPLETE)
    assert early.status_code == 409
    assert "approves the quote" in early.json()["detail"]
    partial = await workflow(ro_id, "approve", approved_item_ids=["L1", "P1"], method="signature")
    assert partial.status_code == 422
    assert "P2" in partial.text

    decided = await workflow(
        ro_id, "approve", approved_item_ids=["L1", "P1"], declined_item_ids=["P2"], method="wechat"
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["approved_total"]["amount"] == "850.00"
    assert decided.json()["declined_items"][0]["follow_up_on"] == "2025-04-02"
    events = await outbox.events()
    assert isinstance(events[2], RepairQuoted)
    approved, declined = events[3], events[4]
    assert isinstance(approved, RepairApproved)
    assert approved.approved_item_ids == ["L1", "P1"]
    assert isinstance(declined, RepairItemDeclined)
    assert declined.item.item_id == "P2"
    assert declined.follow_up_on == date(2025, 4, 2)
    assert declined.advisor_id == "advisor-zhao"

    sneaky = await workflow(ro_id, "complete", **COMPLETE, completed_item_ids=["L1", "P2"])
    assert sneaky.status_code == 409
    assert sneaky.json()["unapproved_item_ids"] == ["P2"]
    assert (await workflow(ro_id, "complete", **COMPLETE)).json()["completed_item_ids"] == [
        "L1",
        "P1",
    ]
    await workflow(ro_id, "quality-check", **PASS)
    unpaid = await workflow(ro_id, "handover")
    assert unpaid.status_code == 409
    assert unpaid.json()["missing"] == ["not_settled", "invoice_not_issued"]
    assert unpaid.json()["amount_due"]["amount"] == "850.00"
    paid = await workflow(
        ro_id,
        "handover",
        amount_paid={"amount": "850.00", "currency": "CNY"},
        invoice_number="SV-1",
    )
    assert paid.status_code == 200, paid.text
    handed = (await outbox.events())[-2]
    assert isinstance(handed, VehicleHandedOver)
    assert handed.amount_paid is not None
    assert str(handed.amount_paid.amount) == "850.00"
    # A repair with no maintenance on record here: next due unknown.
    assert handed.next_maintenance_due_on is None


async def test_failed_checks_send_back_to_rework_and_repeat_failures_are_recorded(
    api: httpx.AsyncClient, ro_body: Body, outbox: Any, workflow: Step
) -> None:
    ro_id = (await open_ro(api, ro_body())).json()["repair_order_id"]
    fail = {"inspector_id": "qc-qian", "passed": False, "reasons": ["oil cap loose"]}
    await workflow(ro_id, "complete", **COMPLETE)
    first = await workflow(ro_id, "quality-check", **fail)
    assert first.json()["status"] == "rework"
    assert (await workflow(ro_id, "quality-check", **PASS)).status_code == 409
    assert (await workflow(ro_id, "handover")).json()["missing"] == ["quality_check_not_passed"]
    await workflow(ro_id, "complete", **COMPLETE)
    await workflow(ro_id, "quality-check", **fail)
    await workflow(ro_id, "complete", **COMPLETE)
    no_reason = await workflow(ro_id, "quality-check", inspector_id="qc-qian", passed=False)
    assert no_reason.status_code == 422
    passed = await workflow(ro_id, "quality-check", **PASS)
    checks = passed.json()["quality_checks"]
    assert [(c["attempt"], c["passed"], c["repeat_failure"]) for c in checks] == [
        (1, False, False),
        (2, False, True),
        (3, True, False),
    ]
    failures = [e for e in await outbox.events() if isinstance(e, QualityCheckFailed)]
    assert [f.repeat_failure for f in failures] == [False, True]
    assert (await workflow(ro_id, "handover")).status_code == 200


async def test_next_maintenance_after_a_repair_counts_from_the_last_maintenance(
    api: httpx.AsyncClient, ro_body: Body, outbox: Any, workflow: Step, clock: ManualClock
) -> None:
    service = (await open_ro(api, ro_body())).json()["repair_order_id"]
    await workflow(service, "complete", **COMPLETE)
    await workflow(service, "quality-check", **PASS)
    await workflow(service, "handover")
    clock.advance(timedelta(days=60))
    repair = (await open_ro(api, ro_body(mileage_km=23000, concerns=["engine stalls"]))).json()
    await workflow(repair["repair_order_id"], "complete", **COMPLETE)
    await workflow(repair["repair_order_id"], "quality-check", **PASS)
    handed = await workflow(repair["repair_order_id"], "handover")
    assert handed.json()["next_maintenance_due_km"] == 30000
    # 3,000 km in 60 days = 50 km/day: 10,000 km take 200 days, before 12 months.
    assert handed.json()["next_maintenance_due_on"] == str(date(2025, 3, 3) + timedelta(days=200))


async def test_idempotent_open_other_dealers_and_pagination(
    api: httpx.AsyncClient, ro_body: Body, outbox: Any, clock: ManualClock
) -> None:
    body = ro_body()
    first = await open_ro(api, body, **{"Idempotency-Key": "ro-1"})
    second = await open_ro(api, body, **{"Idempotency-Key": "ro-1"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["repair_order_id"] == second.json()["repair_order_id"]
    client_id = str(uuid.uuid4())
    assert (await open_ro(api, ro_body(repair_order_id=client_id))).status_code == 201
    assert (await open_ro(api, ro_body(repair_order_id=client_id))).status_code == 200
    assert await outbox.types() == ["RepairOrderOpened"] * 2

    ro_id = first.json()["repair_order_id"]
    assert (
        await api.get(f"/v1/repair-orders/{ro_id}", params={"dealer_id": "D002"})
    ).status_code == 404
    step = await api.post(
        f"/v1/repair-orders/{ro_id}/complete", json={"dealer_id": "D002", **COMPLETE}
    )
    assert step.status_code == 404
    assert (await api.get("/v1/repair-orders", params={"dealer_id": "D002"})).json()["items"] == []

    for _ in range(3):
        clock.advance(timedelta(minutes=5))
        await open_ro(api, ro_body(vin="LFV2A21K6A3000001"))
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"dealer_id": "D001", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await api.get("/v1/repair-orders", params=params)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5
    assert len({r["repair_order_id"] for r in seen}) == 5
    assert [r["opened_at"] for r in seen] == sorted((r["opened_at"] for r in seen), reverse=True)
    by_vin = await api.get(
        "/v1/repair-orders", params={"dealer_id": "D001", "vin": "lfv2a21k6a3000001"}
    )
    assert len(by_vin.json()["items"]) == 3
    open_only = await api.get("/v1/repair-orders", params={"dealer_id": "D001", "status": "open"})
    assert len(open_only.json()["items"]) == 5


# --- per-dealer rules in one running service ----------------------------------------------

#: D001 configured nothing (DOMAIN.md defaults); D002 services every 7,500 km or 6 months,
#: charges 200 an hour and carries its OEM's 5-year / 150,000 km warranty.
DEALERS = {
    "D002": {
        "policy": {
            "service": {
                "maintenance_interval_km": 7_500,
                "maintenance_interval_months": 6,
                "labour_rate_per_hour": "200.00",
                "warranty_months": 60,
                "warranty_km": 150_000,
            }
        }
    }
}


@pytest.mark.parametrize("dealers", [DEALERS])
async def test_each_dealer_has_its_own_maintenance_interval(
    api: httpx.AsyncClient, ro_body: Body, outbox: Any, workflow: Step
) -> None:
    for dealer in ("D001", "D002"):
        ro_id = (await open_ro(api, ro_body(dealer_id=dealer))).json()["repair_order_id"]
        await workflow(ro_id, "complete", dealer_id=dealer, **COMPLETE)
        await workflow(ro_id, "quality-check", dealer_id=dealer, **PASS)
        handed = await workflow(ro_id, "handover", dealer_id=dealer, mileage_km=20_000)
        assert handed.status_code == 200, handed.text
    due = {
        e.dealer_id: (e.next_maintenance_due_on, e.next_maintenance_due_km)
        for e in await outbox.events()
        if isinstance(e, VehicleHandedOver)
    }
    # handed over on 2025-03-03 at 20,000 km
    assert due == {"D001": (date(2026, 3, 3), 30_000), "D002": (date(2025, 9, 3), 27_500)}


@pytest.mark.parametrize("dealers", [DEALERS])
async def test_each_dealer_has_its_own_labour_rate_and_warranty(
    api: httpx.AsyncClient, ro_body: Body, workflow: Step
) -> None:
    labour = [{"item_id": "L1", "kind": "labour", "description": "pads", "labour_hours": "1.5"}]
    quoted: dict[str, str] = {}
    work_types: dict[str, str] = {}
    for dealer in ("D001", "D002"):
        # a warranty started 4 years and 2 months ago: past the statutory 3 years
        opened = await open_ro(
            api,
            ro_body(dealer_id=dealer, concerns=["engine stalls"], warranty_start_on="2021-01-10"),
        )
        work_types[dealer] = opened.json()["work_type"]
        ro_id = opened.json()["repair_order_id"]
        quote = await workflow(ro_id, "quote", dealer_id=dealer, lines=labour)
        assert quote.status_code == 200, quote.text
        quoted[dealer] = quote.json()["quote"]["total"]["amount"]
    assert quoted == {"D001": "450.00", "D002": "300.00"}  # 1.5 h x 300 / x 200
    assert work_types == {"D001": "repair", "D002": "warranty"}
