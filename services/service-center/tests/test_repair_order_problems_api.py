"""The problem bodies of the repair order API (RFC 9457), field by field, and retried steps."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

Body = Callable[..., dict[str, Any]]
Step = Callable[..., Any]

COMPLETE = {"technician_ids": ["tech-sun"], "work_summary": "oil and filter", "labour_hours": "1.0"}
PASS = {"inspector_id": "qc-qian", "passed": True}
P = "https://dealerflow.dev/problems/"


def problem(response: httpx.Response) -> dict[str, Any]:
    """The body without what differs per request (instance, request id)."""
    assert response.headers["content-type"].startswith("application/problem+json")
    body = dict(response.json())
    body.pop("instance", None)
    body.pop("request_id", None)
    return body


async def open_ro(api: httpx.AsyncClient, body: dict[str, Any], **headers: str) -> str:
    response = await api.post("/v1/repair-orders", json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    ro_id: str = response.json()["repair_order_id"]
    return ro_id


async def test_not_found_and_illegal_step(
    api: httpx.AsyncClient, ro_body: Body, workflow: Step
) -> None:
    missing = uuid.uuid4()
    assert problem(await api.get(f"/v1/repair-orders/{missing}?dealer_id=D001")) == {
        "type": P + "not-found",
        "title": "Repair order not found",
        "status": 404,
        "detail": f"No repair order with id {missing}",
    }
    ro_id = await open_ro(api, ro_body())
    # the RO's status has a name of its own: "status" is the problem's HTTP status
    assert problem(await workflow(ro_id, "quality-check", **PASS)) == {
        "type": P + "illegal-transition",
        "title": "Illegal repair order transition",
        "status": 409,
        "detail": "a quality check needs completed work (the repair order is open)",
        "repair_order_status": "open",
        "step": "quality_check",
    }
    refused = await workflow(ro_id, "approve", approved_item_ids=["L1"], method="signature")
    assert problem(refused)["detail"] == "there is no quote to decide on"
    assert problem(refused)["step"] == "decide"


async def test_check_in_problems(api: httpx.AsyncClient, ro_body: Body) -> None:
    bad_phone = ro_body(
        customer={"name": "x", "phone": "12345", "consent": {"service": True, "marketing": False}}
    )
    body = problem(await api.post("/v1/repair-orders", json=bad_phone))
    assert body["type"] == P + "invalid-phone"
    assert body["title"] == "Invalid phone number"
    assert body["status"] == 422
    assert body["errors"] == [body["detail"]]

    ro_id = str(uuid.uuid4())
    await open_ro(api, ro_body(repair_order_id=ro_id), **{"Idempotency-Key": "a"})
    taken = await api.post(
        "/v1/repair-orders", json=ro_body(repair_order_id=ro_id), headers={"Idempotency-Key": "b"}
    )
    assert problem(taken) == {
        "type": P + "repair-order-id-taken",
        "title": "Repair order id taken",
        "status": 409,
        "detail": f"repair order {ro_id} already exists (sent with another Idempotency-Key)",
    }
    reused = await api.post(
        "/v1/repair-orders", json=ro_body(mileage_km=1), headers={"Idempotency-Key": "a"}
    )
    assert reused.status_code == 422
    assert problem(reused)["type"] == P + "idempotency-key-reused"


QUOTE = [
    {"item_id": "L1", "kind": "labour", "description": "Pads", "labour_hours": "1.5"},
    {
        "item_id": "P1",
        "kind": "part",
        "description": "Wipers",
        "part_number": "WB-7",
        "unit_price": "80.00",
    },
]


async def test_quote_decision_and_work_problems(
    api: httpx.AsyncClient, ro_body: Body, workflow: Step
) -> None:
    ro_id = await open_ro(api, ro_body())
    bad = [{"item_id": "L1", "kind": "labour", "description": "x"}]
    assert problem(await workflow(ro_id, "quote", lines=bad)) == {
        "type": P + "invalid-repair-quote",
        "title": "Quote refused",
        "status": 422,
        "detail": "L1: labour needs positive standard hours",
        "errors": ["L1: labour needs positive standard hours"],
    }
    assert (await workflow(ro_id, "quote", lines=QUOTE)).status_code == 200
    unknown = await workflow(ro_id, "approve", approved_item_ids=["X9"], method="signature")
    assert problem(unknown) == {
        "type": P + "invalid-decision",
        "title": "Decision refused",
        "status": 422,
        "detail": "not on the quote: X9",
        "errors": ["not on the quote: X9"],
    }
    partial = await workflow(ro_id, "approve", approved_item_ids=["L1"], method="signature")
    detail = "approve or decline every quoted line; undecided: P1"
    assert problem(partial) == {
        "type": P + "invalid-decision",
        "title": "Decision incomplete",
        "status": 422,
        "detail": detail,
        "errors": [detail],
    }
    decided = await workflow(
        ro_id, "approve", approved_item_ids=["L1"], declined_item_ids=["P1"], method="signature"
    )
    assert decided.status_code == 200, decided.text
    sneaky = await workflow(ro_id, "complete", **COMPLETE, completed_item_ids=["P1"])
    assert problem(sneaky) == {
        "type": P + "unapproved-work",
        "title": "Work without approval",
        "status": 409,
        "detail": "the customer has not approved: P1",
        "unapproved_item_ids": ["P1"],
    }

    quick = await open_ro(api, ro_body())
    no_quote = await workflow(quick, "complete", **COMPLETE, completed_item_ids=["L1"])
    assert problem(no_quote) == {
        "type": P + "validation-error",
        "title": "No quote",
        "status": 422,
        "detail": "this repair order has no quoted lines to complete",
        "errors": ["this repair order has no quoted lines to complete"],
    }


async def test_quality_check_and_handover_problems(
    api: httpx.AsyncClient, ro_body: Body, workflow: Step
) -> None:
    ro_id = await open_ro(api, ro_body())
    await workflow(ro_id, "complete", **COMPLETE)
    no_reason = await workflow(ro_id, "quality-check", inspector_id="qc", passed=False)
    assert problem(no_reason) == {
        "type": P + "invalid-quality-check",
        "title": "Quality check refused",
        "status": 422,
        "detail": "a failed quality check needs its reasons",
        "errors": ["a failed quality check needs its reasons"],
    }
    assert problem(await workflow(ro_id, "handover")) == {
        "type": P + "handover-not-ready",
        "title": "Vehicle not ready for handover",
        "status": 409,
        "detail": "missing: quality_check_not_passed",
        "missing": ["quality_check_not_passed"],
        "incomplete_item_ids": [],
        "unapproved_item_ids": [],
        "amount_due": {"amount": "0.00", "currency": "CNY"},
    }
    await workflow(ro_id, "quality-check", **PASS)
    usd = await workflow(ro_id, "handover", amount_paid={"amount": "1.00", "currency": "USD"})
    assert problem(usd) == {
        "type": P + "validation-error",
        "title": "Wrong currency",
        "status": 422,
        "detail": "the repair order is in CNY",
        "errors": ["the repair order is in CNY"],
    }
    back = await workflow(ro_id, "handover", mileage_km=19999)
    assert problem(back) == {
        "type": P + "validation-error",
        "title": "Odometer went back",
        "status": 422,
        "detail": "check-in mileage was 20000 km",
        "errors": ["check-in mileage was 20000 km"],
    }


async def test_a_retried_step_is_done_once(
    api: httpx.AsyncClient, ro_body: Body, outbox: Any
) -> None:
    ro_id = await open_ro(api, ro_body())

    async def diagnose(key: str, findings: list[str]) -> httpx.Response:
        return await api.post(
            f"/v1/repair-orders/{ro_id}/diagnosis",
            json={"dealer_id": "D001", "technician_id": "tech-sun", "findings": findings},
            headers={"Idempotency-Key": key},
        )

    first = await diagnose("d-1", ["pads worn"])
    retry = await diagnose("d-1", ["pads worn"])
    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.json() == first.json()
    assert await outbox.types() == ["RepairOrderOpened", "DiagnosisCompleted"]
    assert (await diagnose("d-1", ["other"])).status_code == 422  # same key, other body
    assert (await diagnose("d-2", ["discs scored"])).json()["diagnosis"]["findings"] == [
        "discs scored"
    ]
    assert await outbox.types() == ["RepairOrderOpened"] + ["DiagnosisCompleted"] * 2

    complete = {"dealer_id": "D001", **COMPLETE}
    url = f"/v1/repair-orders/{ro_id}/complete"
    done = await api.post(url, json=complete, headers={"Idempotency-Key": "c-1"})
    again = await api.post(url, json=complete, headers={"Idempotency-Key": "c-1"})
    assert (done.status_code, again.status_code) == (200, 200)  # not "already completed"
    assert (await api.post(url, json=complete)).status_code == 409  # without a key: a new step
