"""Parts stock through the HTTP API on real PostgreSQL: a stock count sets on hand (the
adjustments kept with the reason), the customer's approval reserves the parts of the
approved lines (PartsReserved) or flags them back-ordered, the reorder point crossed
publishes PartStockLow once; concurrent approvals never reserve more than on hand."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dealerflow.contracts.events.service import PartsReserved, PartStockLow, PartStockReplenished
from dealerflow.contracts.identity import house_customer_id
from dealerflow.devinfra.service_testing import Outbox

pytestmark = pytest.mark.integration

Body = Callable[..., dict[str, Any]]
Step = Callable[..., Any]

FILTER = {
    "dealer_id": "D001",
    "description": "机油滤清器 Oil filter",
    "category": "common",
    "unit_price": {"amount": "68.00", "currency": "CNY"},
    "reorder_point": 2,
}
LINES = [
    {"item_id": "L1", "kind": "labour", "description": "Oil change", "labour_hours": "0.5"},
    {
        "item_id": "P1",
        "kind": "part",
        "description": "Oil filter",
        "part_number": "OF-1001",
        "quantity": 1,
        "unit_price": "68.00",
    },
]


async def stocked(api: httpx.AsyncClient, on_hand: int, **fields: Any) -> None:
    assert (await api.put("/v1/parts/OF-1001", json={**FILTER, **fields})).status_code in (200, 201)
    count = await api.post(
        "/v1/stock-counts",
        json={
            "dealer_id": "D001",
            "counted": [{"part_number": "OF-1001", "counted": on_hand}],
            "reason": "opening stock",
        },
    )
    assert count.status_code == 201, count.text


async def quoted_order(
    api: httpx.AsyncClient, ro_body: Body, workflow: Step, lines: list[dict[str, Any]]
) -> str:
    opened = await api.post("/v1/repair-orders", json=ro_body())
    assert opened.status_code == 201, opened.text
    ro_id: str = opened.json()["repair_order_id"]
    await workflow(ro_id, "diagnosis", technician_id="tech-sun", findings=["oil due"])
    quoted = await workflow(ro_id, "quote", lines=lines)
    assert quoted.status_code == 200, quoted.text
    return ro_id


async def part(api: httpx.AsyncClient) -> dict[str, Any]:
    found: dict[str, Any] = (
        await api.get("/v1/parts/OF-1001", params={"dealer_id": "D001"})
    ).json()
    return found


async def test_a_count_sets_on_hand_and_keeps_the_adjustment(
    api: httpx.AsyncClient, outbox: Outbox
) -> None:
    await stocked(api, 10)
    body = {
        "dealer_id": "D001",
        "counted": [{"part_number": "OF-1001", "counted": 7}],
        "reason": "monthly count: 3 missing",
    }
    first = await api.post("/v1/stock-counts", json=body, headers={"Idempotency-Key": "c-1"})
    assert first.status_code == 201, first.text
    [adjustment] = first.json()["adjustments"]
    assert (adjustment["on_hand_before"], adjustment["counted"], adjustment["adjustment"]) == (
        10,
        7,
        -3,
    )
    assert adjustment["reason"] == "monthly count: 3 missing"
    again = await api.post("/v1/stock-counts", json=body, headers={"Idempotency-Key": "c-1"})
    assert again.json() == first.json()
    assert (await part(api))["on_hand"] == 7

    # the count that leaves it at the reorder point raises PartStockLow, once
    for counted in (2, 1):
        body["counted"] = [{"part_number": "OF-1001", "counted": counted}]
        assert (await api.post("/v1/stock-counts", json=body)).status_code == 201
    low = [e for e in await outbox.events() if isinstance(e, PartStockLow)]
    assert [(e.on_hand, e.repair_order_id) for e in low] == [(2, None)]
    assert low[0].customer_id == house_customer_id("D001")

    unknown = await api.post(
        "/v1/stock-counts",
        json={**body, "counted": [{"part_number": "NOPE", "counted": 1}]},
    )
    assert unknown.status_code == 404, unknown.text


async def test_approval_reserves_then_back_orders(
    api: httpx.AsyncClient, ro_body: Body, workflow: Step, outbox: Outbox
) -> None:
    await stocked(api, 4)
    first = await quoted_order(api, ro_body, workflow, LINES)
    approved = await workflow(first, "approve", approved_item_ids=["L1", "P1"], method="signature")
    assert approved.status_code == 200, approved.text
    parts = (await api.get(f"/v1/repair-orders/{first}/parts", params={"dealer_id": "D001"})).json()
    assert [(r["item_id"], r["status"]) for r in parts["reservations"]] == [("P1", "reserved")]
    assert parts["back_ordered"] is False
    stock = await part(api)
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (4, 1, 3)
    [reserved] = [e for e in await outbox.events() if isinstance(e, PartsReserved)]
    assert [(p.part_number, p.quantity) for p in reserved.parts] == [("OF-1001", 1)]
    assert reserved.repair_order_id == first

    # three more wanted, two available above nothing: available 3 -> back-ordered
    big = [{**LINES[1], "quantity": 4}]
    second = await quoted_order(api, ro_body, workflow, big)
    await workflow(second, "approve", approved_item_ids=["P1"], method="signature")
    parts = (
        await api.get(f"/v1/repair-orders/{second}/parts", params={"dealer_id": "D001"})
    ).json()
    assert parts["back_ordered"] is True
    assert (await part(api))["reserved"] == 1
    detail = (await api.get(f"/v1/repair-orders/{second}", params={"dealer_id": "D001"})).json()
    assert [
        (p["item_id"], p["part_number"], p["quantity"]) for p in detail["back_ordered_parts"]
    ] == [("P1", "OF-1001", 4)]
    first_detail = await api.get(f"/v1/repair-orders/{first}", params={"dealer_id": "D001"})
    assert first_detail.json()["back_ordered_parts"] == []  # reserved, nothing waits

    # one more leaves available at the reorder point: PartStockLow for that order
    third = await quoted_order(api, ro_body, workflow, LINES)
    await workflow(third, "approve", approved_item_ids=["L1", "P1"], method="signature")
    low = [e for e in await outbox.events() if isinstance(e, PartStockLow)]
    assert [(e.repair_order_id, e.on_hand) for e in low] == [(third, 4)]

    # a count below the reserved is refused
    refused = await api.post(
        "/v1/stock-counts",
        json={
            "dealer_id": "D001",
            "counted": [{"part_number": "OF-1001", "counted": 1}],
            "reason": "count",
        },
    )
    assert refused.status_code == 422, refused.text


async def test_concurrent_approvals_never_reserve_more_than_on_hand(
    api: httpx.AsyncClient, ro_body: Body, workflow: Step
) -> None:
    await stocked(api, 3, reorder_point=0)
    orders = [await quoted_order(api, ro_body, workflow, LINES) for _ in range(6)]
    answers = await asyncio.gather(
        *(
            workflow(ro, "approve", approved_item_ids=["L1", "P1"], method="signature")
            for ro in orders
        )
    )
    assert [a.status_code for a in answers] == [200] * 6
    statuses = []
    for ro in orders:
        parts = (
            await api.get(f"/v1/repair-orders/{ro}/parts", params={"dealer_id": "D001"})
        ).json()
        statuses.append(parts["reservations"][0]["status"])
    assert statuses.count("reserved") == 3
    assert statuses.count("back_ordered") == 3
    stock = await part(api)
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (3, 3, 0)


async def test_issue_then_return_moves_the_stock(
    api: httpx.AsyncClient, ro_body: Body, workflow: Step
) -> None:
    await stocked(api, 4)
    ro = await quoted_order(api, ro_body, workflow, LINES)
    await workflow(ro, "approve", approved_item_ids=["L1", "P1"], method="signature")
    path = f"/v1/repair-orders/{ro}/parts"

    issued = await api.post(
        f"{path}/issue", json={"dealer_id": "D001"}, headers={"Idempotency-Key": "i-1"}
    )
    assert issued.status_code == 200, issued.text
    assert [r["status"] for r in issued.json()["reservations"]] == ["issued"]
    again = await api.post(
        f"{path}/issue", json={"dealer_id": "D001"}, headers={"Idempotency-Key": "i-1"}
    )
    assert again.status_code == 200, again.text
    stock = await part(api)
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (3, 0, 3)

    twice = await api.post(f"{path}/issue", json={"dealer_id": "D001", "item_ids": ["P1"]})
    assert twice.status_code == 409, twice.text
    assert twice.json()["problems"] == ["line P1 is issued: it cannot be issued"]

    returned = await api.post(f"{path}/return", json={"dealer_id": "D001", "item_ids": ["P1"]})
    assert returned.status_code == 200, returned.text
    assert [r["status"] for r in returned.json()["reservations"]] == ["returned"]
    stock = await part(api)
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (4, 0, 4)


async def test_a_purchase_order_receipt_adds_stock_once(
    api: httpx.AsyncClient, outbox: Outbox
) -> None:
    await stocked(api, 1, over_stock_limit=10)
    body = {
        "dealer_id": "D001",
        "supplier": "上汽零部件 SAIC Parts",
        "lines": [
            {
                "part_number": "OF-1001",
                "quantity": 12,
                "unit_cost": {"amount": "40.00", "currency": "CNY"},
            }
        ],
    }
    placed = await api.post("/v1/purchase-orders", json=body, headers={"Idempotency-Key": "po-1"})
    assert placed.status_code == 201, placed.text
    po = placed.json()
    assert po["status"] == "open"
    retry = await api.post("/v1/purchase-orders", json=body, headers={"Idempotency-Key": "po-1"})
    assert retry.status_code == 200
    assert retry.json()["purchase_order_id"] == po["purchase_order_id"]
    unknown = await api.post(
        "/v1/purchase-orders",
        json={**body, "lines": [{**body["lines"][0], "part_number": "NOPE"}]},
    )
    assert unknown.status_code == 404, unknown.text

    path = f"/v1/purchase-orders/{po['purchase_order_id']}/receipt"
    received = await api.post(
        path, json={"dealer_id": "D001", "lines": [{"part_number": "OF-1001", "received": 11}]}
    )
    assert received.status_code == 200, received.text
    assert received.json()["status"] == "received"
    assert received.json()["lines"][0]["received"] == 11
    stock = await part(api)
    assert (stock["on_hand"], stock["available"], stock["low"], stock["over_stocked"]) == (
        12,
        12,
        False,
        True,
    )
    # the low part is back above its reorder point: the reorder task's end
    [back] = [e for e in await outbox.events() if isinstance(e, PartStockReplenished)]
    assert (back.part_number, back.on_hand, back.available) == ("OF-1001", 12, 12)
    assert back.purchase_order_id == po["purchase_order_id"]
    assert back.customer_id == house_customer_id("D001")
    again = await api.post(path, json={"dealer_id": "D001"})
    assert again.status_code == 409, again.text
    assert (await part(api))["on_hand"] == 12
    shown = await api.get(
        f"/v1/purchase-orders/{po['purchase_order_id']}", params={"dealer_id": "D001"}
    )
    assert shown.json()["received_at"] is not None


async def test_a_purchase_order_id_sent_again_with_another_key_is_a_conflict(
    api: httpx.AsyncClient,
) -> None:
    # schemathesis (tests/api) found this answered 500 (the primary key refused it)
    await stocked(api, 1, over_stock_limit=10)
    body = {
        "dealer_id": "D001",
        "purchase_order_id": "6f1c2a52-8d0e-4e55-9b7a-3c1f0e2d4a10",
        "supplier": "上汽零部件 SAIC Parts",
        "lines": [
            {
                "part_number": "OF-1001",
                "quantity": 2,
                "unit_cost": {"amount": "40.00", "currency": "CNY"},
            }
        ],
    }
    placed = await api.post("/v1/purchase-orders", json=body, headers={"Idempotency-Key": "a"})
    assert placed.status_code == 201, placed.text
    again = await api.post("/v1/purchase-orders", json=body, headers={"Idempotency-Key": "b"})
    assert again.status_code == 409, again.text
    assert again.json()["type"].endswith("/purchase-order-id-taken")
    retried = await api.post("/v1/purchase-orders", json=body, headers={"Idempotency-Key": "a"})
    assert retried.status_code == 200, retried.text
