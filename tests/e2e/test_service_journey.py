"""Issue 12, done when, across the running services: an appointment booked under
contention (exactly the slot's capacity wins), checked in from the booking; a declined
line becomes the advisor's follow-up task and is offered again at the next booking; the
approved part is reserved (it falls to its reorder point: PartStockLow and the parts
manager's reorder task) and issued; detailing is refused without the customer's
authorisation; the handover publishes the customer's first after-sales tier; and the
accelerated clock brings MaintenanceDue (the owner's reminder) and, with no visit since,
CustomerAtRisk (the advisor's retention call).

To keep the wait in minutes, the dealer's own configuration shortens the calendar: the
next maintenance is due 1 month after a maintenance visit (reminded 25 days ahead) and a
customer is at risk after 1 month without a visit (the rules are the same with the
DOMAIN.md 12 months; 1 s real = 2 h here, so the month takes about 6 minutes).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dealerflow.contracts.identity import customer_id_for
from dealerflow.devinfra.client import (
    ApiError,
    DealerflowClient,
    events_of,
    eventually,
    service_booking,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
CAPACITY = 6  # the default workshop: 6 bays, 6 technicians
PART = f"BP-{uuid.uuid4().hex[:8]}"
CALENDAR = {
    "policy": {
        "service": {"maintenance_interval_months": 1, "at_risk_after_months": 1},
        "owner_care": {"first_maintenance_remind_before": "P25D"},
    }
}
LINES = [
    {"item_id": "L1", "kind": "labour", "description": "Oil change", "labour_hours": "1"},
    {
        "item_id": "P1",
        "kind": "part",
        "description": "Oil filter",
        "part_number": PART,
        "quantity": 2,
        "unit_price": "68.00",
    },
    {"item_id": "L2", "kind": "labour", "description": "Brake pads", "labour_hours": "2"},
]


@pytest.mark.timeout(900)
async def test_service_journey_from_a_contended_booking_to_the_retention_call(
    stack: Any, client: DealerflowClient, dealer_id: str
) -> None:
    topic = stack.topics.name("service")
    changed = await client.configure_dealer(dealer_id, CALENDAR)
    await eventually(
        lambda: stack.configuration_seen(
            dealer_id, changed["configuration_version"], ("service-center", "notifier")
        ),
        what="the dealer's calendar in service-center and the notifier",
    )
    await client.stock_part(dealer_id, PART, counted=5, reorder_point=3)

    # -- bookings race for one slot: exactly its capacity wins ----------------------------
    day = (stack.now().astimezone(SHANGHAI) + timedelta(days=4)).date()
    start = datetime.combine(day, time(9, 30), SHANGHAI).astimezone(UTC)
    bodies = [
        service_booking(dealer_id, f"LSVAU2180N21834{i:02d}", start, f"+86135001351{i:02d}")
        for i in range(CAPACITY + 3)
    ]
    results = await asyncio.gather(*(client.book_service(b) for b in bodies))
    assert sorted(code for code, _ in results) == [201] * CAPACITY + [409] * 3
    won = [i for i, (code, _) in enumerate(results) if code == 201]
    mine, theirs = won[0], won[1]  # two customers whose bookings won (the race decides)
    vin, phone = bodies[mine]["vin"], bodies[mine]["customer"]["phone"]
    appointment = results[mine][1]["service_appointment_id"]
    customer = str(customer_id_for("default", phone))

    async def reminder(kind: str) -> list[dict[str, Any]] | None:
        found = [r for r in await client.reminders(dealer_id, customer) if r["kind"] == kind]
        return found or None

    [planned] = await eventually(
        lambda: reminder("service_appointment"), what="the service appointment reminder"
    )
    assert planned["send_at"].startswith((start - timedelta(hours=24)).strftime("%Y-%m-%dT%H"))

    # -- check-in from the booking ----------------------------------------------------------
    order = await client.call(
        "service-center",
        "POST",
        "/v1/repair-orders",
        json_body={
            "dealer_id": dealer_id,
            "service_appointment_id": appointment,
            "mileage_km": 30000,
            "advisor_id": "advisor-zhao",
        },
    )
    assert (order["vin"], order["service_appointment_id"]) == (vin, appointment)
    ro_id = order["repair_order_id"]

    async def step(ro: str, name: str, **fields: Any) -> Any:
        return await client.call(
            "service-center",
            "POST",
            f"/v1/repair-orders/{ro}/{name}",
            json_body={"dealer_id": dealer_id, **fields},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )

    await step(ro_id, "diagnosis", technician_id="tech-sun", findings=["pads at 3 mm"])
    await step(ro_id, "quote", lines=LINES)
    approved = await step(
        ro_id, "approve", approved_item_ids=["L1", "P1"], declined_item_ids=["L2"], method="wechat"
    )

    # the declined line: the advisor's follow-up task (RepairItemDeclined)
    async def follow_up() -> list[dict[str, Any]] | None:
        tasks = await client.tasks(dealer_id, customer_id=customer)
        return [t for t in tasks if t["kind"] == "declined_repair_follow_up"] or None

    [task] = await eventually(follow_up, what="the declined-repair follow-up task")
    assert task["assignee"] == "advisor-zhao"
    declined = await events_of(stack.kafka_bootstrap, topic, dealer_id, "RepairItemDeclined")
    assert [e.event.repair_order_id for e in declined] == [ro_id]  # type: ignore[attr-defined]

    # the approved part is reserved: 5 -> 3 available, at its reorder point
    stock = await client.call(
        "service-center", "GET", f"/v1/parts/{PART}", params={"dealer_id": dealer_id}
    )
    assert (stock["on_hand"], stock["reserved"], stock["available"], stock["low"]) == (
        5,
        2,
        3,
        True,
    )
    low = await events_of(stack.kafka_bootstrap, topic, dealer_id, "PartStockLow")
    assert [e.event.repair_order_id for e in low] == [ro_id]  # type: ignore[attr-defined]

    async def reorder_task() -> dict[str, Any] | None:
        tasks = await client.tasks(dealer_id)
        found = [t for t in tasks if t["kind"] == "parts_reorder" and t["related"]["id"] == PART]
        return found[0] if found else None

    reorder = await eventually(reorder_task, what="the parts manager's reorder task")
    assert reorder["assignee"] == f"parts-manager:{dealer_id}"
    issued = await step(ro_id, "parts/issue")
    assert [r["status"] for r in issued["reservations"]] == ["issued"]

    # -- detailing without the customer's authorisation is refused --------------------------
    detailing = await client.call(
        "service-center",
        "POST",
        "/v1/repair-orders",
        json_body={
            "dealer_id": dealer_id,
            "customer": bodies[theirs]["customer"],
            "vin": bodies[theirs]["vin"],
            "advisor_id": "advisor-zhao",
            "mileage_km": 12000,
            "work_type": "accessory_detailing",
            "concerns": ["车漆镀晶"],
        },
    )
    coat = detailing["repair_order_id"]
    await step(coat, "diagnosis", technician_id="tech-sun", findings=["paint ok"])
    coating = {"item_id": "C1", "kind": "labour", "description": "Ceramic", "labour_hours": "3"}
    await step(coat, "quote", lines=[coating])
    with pytest.raises(ApiError) as refused:
        await step(coat, "approve", approved_item_ids=["C1"], method="signature")
    assert refused.value.status == 409

    # -- work, quality check, handover: the customer's first after-sales tier ---------------
    work = {"technician_ids": ["tech-sun"], "work_summary": "oil, filter", "labour_hours": "1.0"}
    await step(ro_id, "complete", **work)
    await step(ro_id, "quality-check", inspector_id="qc-qian", passed=True)
    handed = await step(
        ro_id,
        "handover",
        mileage_km=30010,
        amount_paid=approved["approved_total"],
        invoice_number="SV-J1",
    )
    assert handed["status"] == "handed_over"
    due_on = handed["next_maintenance_due_on"]
    assert due_on is not None

    async def tier() -> Any:
        found = await events_of(stack.kafka_bootstrap, topic, dealer_id, "ServiceTierChanged")
        return [e.event for e in found if str(e.event.customer_id) == customer] or None

    [first_tier] = await eventually(tier, what="the customer's first after-sales tier")
    assert (first_tier.tier, first_tier.previous_tier) == ("C", None)  # type: ignore[attr-defined]

    # -- the next booking offers the declined work again ------------------------------------
    code, next_booking = await client.book_service(
        service_booking(dealer_id, vin, start + timedelta(days=10), phone)
    )
    assert code == 201
    assert [i["item_id"] for i in next_booking["offered_again"]] == ["L2"]

    # -- the clock runs: MaintenanceDue and the owner's reminder ----------------------------
    remind_at = datetime.combine(
        datetime.fromisoformat(due_on).date() - timedelta(days=25), time(9), SHANGHAI
    )

    async def maintenance_due() -> Any:
        found = await events_of(stack.kafka_bootstrap, topic, dealer_id, "MaintenanceDue")
        return [e.event for e in found if e.event.vin == vin] or None  # type: ignore[attr-defined]

    [due] = await eventually(
        maintenance_due,
        timeout_s=stack.real_seconds_until(remind_at) + 60,
        interval_s=2,
        what="MaintenanceDue on its reminder day",
    )
    assert due.declined_items_open == 1  # type: ignore[attr-defined]
    await eventually(lambda: reminder("maintenance_due"), what="the owner's maintenance reminder")

    # -- a month with no visit: CustomerAtRisk and the advisor's retention call -------------
    handed_at = datetime.fromisoformat(handed["handed_over_at"])
    at_risk_from = handed_at + timedelta(days=32)  # a whole month on, and that day's scan

    async def at_risk() -> Any:
        found = await events_of(stack.kafka_bootstrap, topic, dealer_id, "CustomerAtRisk")
        return [e.event for e in found if e.event.vin == vin] or None  # type: ignore[attr-defined]

    [risk] = await eventually(
        at_risk,
        timeout_s=stack.real_seconds_until(at_risk_from) + 60,
        interval_s=2,
        what="CustomerAtRisk a month after the visit",
    )
    assert (risk.level, risk.advisor_id) == ("at_risk", "advisor-zhao")  # type: ignore[attr-defined]

    async def retention_call() -> list[dict[str, Any]] | None:
        tasks = await client.tasks(dealer_id, customer_id=customer)
        return [t for t in tasks if t["kind"] == "retention_call"] or None

    [call] = await eventually(retention_call, what="the advisor's retention call")
    assert call["assignee"] == "advisor-zhao"
