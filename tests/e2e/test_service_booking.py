"""Issue 12 items 1-2 across the running services: bookings racing for one slot (exactly
its capacity succeed, the rest 409), the notifier plans the customer's reminder, the
booked customer is checked in from the booking, a declined line becomes the advisor's
follow-up task, and the vehicle's next booking offers the declined work again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dealerflow.contracts.identity import customer_id_for
from dealerflow.devinfra.client import (
    DealerflowClient,
    events_of,
    eventually,
    service_booking,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
CAPACITY = 6  # the default workshop: 6 bays, 6 technicians
VIN = "LSVAU2180N2183297"


async def test_booking_under_contention_to_check_in_and_declined_work_offered_again(
    stack: Any, client: DealerflowClient, dealer_id: str
) -> None:
    day = (stack.now().astimezone(SHANGHAI) + timedelta(days=4)).date()
    start = datetime.combine(day, time(9, 30), SHANGHAI).astimezone(UTC)
    bodies = [
        service_booking(
            dealer_id, VIN if i == 0 else f"LSVAU2180N21833{i:02d}", start, f"+86135001350{i:02d}"
        )
        for i in range(CAPACITY + 3)
    ]
    results = await asyncio.gather(*(client.book_service(b) for b in bodies))
    codes = sorted(code for code, _ in results)
    assert codes == [201] * CAPACITY + [409] * 3, codes
    # the customer followed below is one whose booking won a place (the race decides which)
    won = next(i for i, (code, _) in enumerate(results) if code == 201)
    vin, phone = bodies[won]["vin"], bodies[won]["customer"]["phone"]
    mine = results[won][1]
    slots = await client.call(
        "service-center",
        "GET",
        "/v1/service-slots",
        params={"dealer_id": dealer_id, "date": day.isoformat(), "work_type": "maintenance"},
    )
    [at_start] = [
        s for s in slots["slots"] if s["slot_start"].startswith(start.strftime("%Y-%m-%dT%H:%M"))
    ]
    assert at_start["remaining"] == 0

    # the notifier plans the reminder of the booked customer's appointment
    customer = str(customer_id_for("default", phone))

    async def reminder() -> list[dict[str, Any]] | None:
        found = [
            r
            for r in await client.reminders(dealer_id, customer)
            if r["kind"] == "service_appointment"
        ]
        return found or None

    [planned] = await eventually(reminder, what="the service appointment reminder")
    assert planned["send_at"].startswith((start - timedelta(hours=24)).strftime("%Y-%m-%dT%H"))

    # check-in from the booking; a declined line becomes the advisor's follow-up task
    order = await client.call(
        "service-center",
        "POST",
        "/v1/repair-orders",
        json_body={
            "dealer_id": dealer_id,
            "service_appointment_id": mine["service_appointment_id"],
            "mileage_km": 30000,
            "advisor_id": "advisor-zhao",
        },
    )
    assert order["vin"] == vin
    assert order["service_appointment_id"] == mine["service_appointment_id"]
    opened = await events_of(
        stack.kafka_bootstrap, stack.topics.name("service"), dealer_id, "RepairOrderOpened"
    )
    assert [e.event.service_appointment_id for e in opened] == [mine["service_appointment_id"]]  # type: ignore[attr-defined]
    base = f"/v1/repair-orders/{order['repair_order_id']}"

    async def step(name: str, **fields: Any) -> Any:
        return await client.call(
            "service-center", "POST", f"{base}/{name}", json_body={"dealer_id": dealer_id, **fields}
        )

    await step("diagnosis", technician_id="tech-sun", findings=["pads at 3 mm"])
    await step(
        "quote",
        lines=[
            {"item_id": "L1", "kind": "labour", "description": "Oil change", "labour_hours": "1"},
            {"item_id": "L2", "kind": "labour", "description": "Brake pads", "labour_hours": "2"},
        ],
    )
    await step("approve", approved_item_ids=["L1"], declined_item_ids=["L2"], method="signature")

    async def follow_up() -> list[dict[str, Any]] | None:
        tasks = await client.tasks(dealer_id, customer_id=customer)
        found = [t for t in tasks if t["kind"] == "declined_repair_follow_up"]
        return found or None

    [task] = await eventually(follow_up, what="the declined-repair follow-up task")
    assert task["assignee"] == "advisor-zhao"

    # the vehicle's next booking offers the declined work again
    later = start + timedelta(days=1)
    code, next_booking = await client.book_service(service_booking(dealer_id, vin, later, phone))
    assert code == 201
    assert [i["item_id"] for i in next_booking["offered_again"]] == ["L2"]
