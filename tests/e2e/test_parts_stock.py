"""Parts stock across services: the parts desk stocks a part, the customer's approval
reserves it (PartsReserved), the workshop is issued it, and the reservation that leaves
it at the reorder point brings PartStockLow and the parts manager's reorder task in the
notifier."""

from __future__ import annotations

import uuid
from typing import Any

from dealerflow.devinfra.client import DealerflowClient, events_of, eventually

PART = f"OF-{uuid.uuid4().hex[:8]}"
LINES = [
    {"item_id": "L1", "kind": "labour", "description": "Oil change", "labour_hours": "0.5"},
    {
        "item_id": "P1",
        "kind": "part",
        "description": "Oil filter",
        "part_number": PART,
        "quantity": 2,
        "unit_price": "68.00",
    },
]


async def _approved_order(client: DealerflowClient, dealer_id: str, phone: str) -> str:
    order = await client.call(
        "service-center",
        "POST",
        "/v1/repair-orders",
        json_body={
            "dealer_id": dealer_id,
            "customer": {
                "name": "李娜",
                "phone": phone,
                "consent": {"service": True, "marketing": False},
            },
            "vin": "LSVAU2180N2183294",
            "model": "Aurora X5",
            "advisor_id": "advisor-zhao",
            "mileage_km": 20000,
            "concerns": ["20000 km 保养"],
        },
    )
    base = f"/v1/repair-orders/{order['repair_order_id']}"
    steps: list[tuple[str, dict[str, Any]]] = [
        ("diagnosis", {"technician_id": "tech-sun", "findings": ["oil due"]}),
        ("quote", {"lines": LINES}),
        ("approve", {"approved_item_ids": ["L1", "P1"], "method": "signature"}),
    ]
    for step, body in steps:
        await client.call(
            "service-center",
            "POST",
            f"{base}/{step}",
            json_body={"dealer_id": dealer_id, **body},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
    return str(order["repair_order_id"])


async def test_reserve_issue_low_stock_and_the_reorder_task(
    stack: Any, client: DealerflowClient, dealer_id: str
) -> None:
    await client.stock_part(dealer_id, PART, counted=7, reorder_point=3)

    # first approval: 7 -> 5 available, above the reorder point; issued to the workshop
    first = await _approved_order(client, dealer_id, "+8613700137001")
    issued = await client.call(
        "service-center",
        "POST",
        f"/v1/repair-orders/{first}/parts/issue",
        json_body={"dealer_id": dealer_id},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert [r["status"] for r in issued["reservations"]] == ["issued"]

    # second approval: 5 -> 3 available, at the reorder point: PartStockLow
    second = await _approved_order(client, dealer_id, "+8613700137002")
    stock = await client.call(
        "service-center", "GET", f"/v1/parts/{PART}", params={"dealer_id": dealer_id}
    )
    assert (stock["on_hand"], stock["reserved"], stock["available"], stock["low"]) == (
        5,
        2,
        3,
        True,
    )

    topic = stack.topics.name("service")
    reserved = await events_of(stack.kafka_bootstrap, topic, dealer_id, "PartsReserved")
    assert {e.event.repair_order_id for e in reserved} >= {first, second}  # type: ignore[attr-defined]
    low = await events_of(stack.kafka_bootstrap, topic, dealer_id, "PartStockLow")
    mine = [e.event for e in low if e.event.part_number == PART]  # type: ignore[attr-defined]
    assert [e.repair_order_id for e in mine] == [second]  # type: ignore[attr-defined]

    async def reorder_task() -> dict[str, Any] | None:
        for task in await client.tasks(dealer_id):
            if task["kind"] == "parts_reorder" and task["related"]["id"] == PART:
                return task
        return None

    task = await eventually(reorder_task, what="the parts manager's reorder task")
    assert task["assignee"] == f"parts-manager:{dealer_id}"
