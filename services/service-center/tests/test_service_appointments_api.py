"""Service appointments through the HTTP API on real PostgreSQL: free capacity per slot,
no overbooking when bookings race, reschedule and cancel free and take places, the
events in the outbox, the vehicle's declined work offered again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from dealerflow.contracts.events.service import (
    RepairOrderOpened,
    ServiceAppointmentBooked,
    ServiceAppointmentCancelled,
)
from dealerflow.service_center.repository_appointments import take_slot

pytestmark = pytest.mark.integration

Body = Callable[..., dict[str, Any]]

#: Two bays, three technicians: two jobs a slot.
SMALL = {"D001": {"policy": {"service": {"workshop_bays": 2, "workshop_technicians": 3}}}}
DAY = "2025-03-04"
NINE_THIRTY = "2025-03-04T01:30:00Z"  # 09:30 in Shanghai
TEN_THIRTY = "2025-03-04T02:30:00Z"


def booking(vin: str = "LSVAU2180N2183294", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "dealer_id": "D001",
        "customer": {
            "name": "张伟",
            "phone": "+86 139 0013 9000",
            "consent": {"service": True, "marketing": False},
        },
        "vin": vin,
        "work_type": "maintenance",
        "intake_channel": "phone",
        "slot_start": NINE_THIRTY,
        "concerns": ["20000 km 保养"],
        "pickup_requested": True,
    }
    body.update(overrides)
    return body


async def remaining(api: httpx.AsyncClient, start: str, work_type: str = "maintenance") -> int:
    got = await api.get(
        "/v1/service-slots", params={"dealer_id": "D001", "date": DAY, "work_type": work_type}
    )
    assert got.status_code == 200, got.text
    slots = {s["slot_start"].replace("+00:00", "Z"): s for s in got.json()["slots"]}
    left: int = slots[start]["remaining"]
    return left


@pytest.mark.parametrize("dealers", [SMALL])
async def test_concurrent_bookings_never_overbook_a_slot(api: httpx.AsyncClient) -> None:
    assert await remaining(api, NINE_THIRTY) == 2
    answers = await asyncio.gather(
        *(
            api.post("/v1/service-appointments", json=booking(f"LSVAU2180N218329{i}"))
            for i in range(6)
        )
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [201, 201, 409, 409, 409, 409], [a.text for a in answers]
    full = next(a for a in answers if a.status_code == 409).json()
    assert full["type"].endswith("/slot-full")
    assert await remaining(api, NINE_THIRTY) == 0
    assert await remaining(api, TEN_THIRTY) == 2


@pytest.mark.parametrize("dealers", [SMALL])
async def test_book_reschedule_and_cancel(api: httpx.AsyncClient, outbox: Any) -> None:
    booked = await api.post(
        "/v1/service-appointments",
        json=booking(work_type="repair"),
        headers={"Idempotency-Key": "b-1"},
    )
    assert booked.status_code == 201, booked.text
    appointment = booked.json()
    assert appointment["status"] == "booked"
    assert appointment["slot_end"].startswith("2025-03-04T03:30")  # a repair: two hours
    assert await remaining(api, TEN_THIRTY) == 1  # the repair takes 10:30 too
    again = await api.post(
        "/v1/service-appointments",
        json=booking(work_type="repair"),
        headers={"Idempotency-Key": "b-1"},
    )
    assert again.status_code == 200
    assert again.json()["service_appointment_id"] == appointment["service_appointment_id"]

    path = f"/v1/service-appointments/{appointment['service_appointment_id']}"
    moved = await api.post(
        f"{path}/reschedule",
        json={"dealer_id": "D001", "slot_start": "2025-03-04T06:30:00Z"},
        headers={"Idempotency-Key": "r-1"},
    )
    assert moved.status_code == 200, moved.text
    assert await remaining(api, NINE_THIRTY) == 2

    cancelled = await api.post(
        f"{path}/cancel",
        json={"dealer_id": "D001", "cancelled_by": "customer", "reason": "travelling"},
        headers={"Idempotency-Key": "c-1"},
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert await remaining(api, "2025-03-04T06:30:00Z") == 2
    closed = await api.post(
        f"{path}/reschedule", json={"dealer_id": "D001", "slot_start": NINE_THIRTY}
    )
    assert closed.status_code == 409
    assert closed.json()["type"].endswith("/appointment-closed")

    events = await outbox.events()
    booked_events = [e for e in events if isinstance(e, ServiceAppointmentBooked)]
    assert [e.slot_start.hour for e in booked_events] == [1, 6]  # booked, then moved
    assert {e.service_appointment_id for e in booked_events} == {
        appointment["service_appointment_id"]
    }
    assert booked_events[0].pickup_requested
    assert booked_events[0].contact.phone == "+8613900139000"
    [gone] = [e for e in events if isinstance(e, ServiceAppointmentCancelled)]
    assert gone.cancelled_by == "customer"
    assert gone.reason == "travelling"

    listed = await api.get("/v1/service-appointments", params={"dealer_id": "D001"})
    assert [a["status"] for a in listed.json()["items"]] == ["cancelled"]


async def test_a_start_off_the_grid_is_refused(api: httpx.AsyncClient) -> None:
    off = await api.post(
        "/v1/service-appointments", json=booking(slot_start="2025-03-04T01:00:00Z")
    )
    assert off.status_code == 422
    assert off.json()["type"].endswith("/slot-not-offered")
    late = await api.post(
        "/v1/service-appointments",
        json=booking(work_type="bodywork", slot_start="2025-03-04T07:30:00Z"),  # 15:30 + 4 h
    )
    assert late.status_code == 422, late.text


async def test_the_vehicles_declined_work_is_offered_again_at_booking(
    api: httpx.AsyncClient, ro_body: Body
) -> None:
    opened = await api.post("/v1/repair-orders", json=ro_body())
    ro_id = opened.json()["repair_order_id"]

    async def step(name: str, **fields: Any) -> httpx.Response:
        body = {"dealer_id": "D001", **fields}
        return await api.post(f"/v1/repair-orders/{ro_id}/{name}", json=body)

    await step("diagnosis", technician_id="tech-sun", findings=["worn pads"])
    lines = [
        {"item_id": "L1", "kind": "labour", "description": "Oil change", "labour_hours": "1"},
        {"item_id": "L2", "kind": "labour", "description": "Brake pads", "labour_hours": "2"},
    ]
    assert (await step("quote", lines=lines)).status_code == 200
    decided = await step(
        "approve", approved_item_ids=["L1"], declined_item_ids=["L2"], method="signature"
    )
    assert decided.status_code == 200, decided.text

    booked = await api.post("/v1/service-appointments", json=booking())
    assert booked.status_code == 201, booked.text
    [offered] = booked.json()["offered_again"]
    assert offered["item_id"] == "L2"
    assert offered["description"] == "Brake pads"
    assert offered["follow_up_due"] is False  # followed up 30 days after, the visit is sooner


async def test_check_in_of_a_booked_customer_opens_the_repair_order_from_the_booking(
    api: httpx.AsyncClient, outbox: Any
) -> None:
    booked = await api.post("/v1/service-appointments", json=booking(work_type="repair"))
    appointment_id = booked.json()["service_appointment_id"]

    opened = await api.post(
        "/v1/repair-orders",
        json={"dealer_id": "D001", "service_appointment_id": appointment_id, "mileage_km": 21000},
    )
    assert opened.status_code == 201, opened.text
    ro = opened.json()
    assert ro["vin"] == "LSVAU2180N2183294"
    assert ro["concerns"] == ["20000 km 保养"]
    assert ro["work_type"] == "repair"
    assert ro["contact"]["phone"] == "+8613900139000"
    assert ro["service_appointment_id"] == appointment_id
    [event] = [e for e in await outbox.events() if isinstance(e, RepairOrderOpened)]
    assert event.service_appointment_id == appointment_id
    assert event.contact.name == "张伟"

    shown = await api.get(
        f"/v1/service-appointments/{appointment_id}", params={"dealer_id": "D001"}
    )
    assert shown.json()["status"] == "checked_in"
    assert shown.json()["repair_order_id"] == ro["repair_order_id"]
    twice = await api.post(
        "/v1/repair-orders",
        json={"dealer_id": "D001", "service_appointment_id": appointment_id, "mileage_km": 21000},
    )
    assert twice.status_code == 409, twice.text
    assert twice.json()["type"].endswith("/appointment-closed")


async def test_check_in_refuses_another_vehicle_than_the_booked_one(
    api: httpx.AsyncClient,
) -> None:
    booked = await api.post("/v1/service-appointments", json=booking())
    other = await api.post(
        "/v1/repair-orders",
        json={
            "dealer_id": "D001",
            "service_appointment_id": booked.json()["service_appointment_id"],
            "vin": "LFV2A21K6D4123456",
            "mileage_km": 21000,
        },
    )
    assert other.status_code == 422, other.text
    nothing = await api.post("/v1/repair-orders", json={"dealer_id": "D001", "mileage_km": 1})
    assert nothing.status_code == 422, nothing.text


async def test_the_database_refuses_the_place_past_capacity_to_racing_transactions(
    api: httpx.AsyncClient, pg_pool: asyncpg.Pool
) -> None:
    """Eight transactions on their own connections take a place in one slot of capacity
    3 at once (each holds its transaction open a moment): exactly three succeed."""
    slot = datetime(2025, 3, 4, 5, 30, tzinfo=UTC)
    gate = asyncio.Event()

    async def racer() -> bool:
        async with pg_pool.acquire() as conn, conn.transaction():
            await gate.wait()
            taken = await take_slot(conn, "D009", slot, 3)
            await asyncio.sleep(0.05)
            return taken

    racers = [asyncio.create_task(racer()) for _ in range(8)]
    await asyncio.sleep(0.1)
    gate.set()
    assert sorted(await asyncio.gather(*racers)) == [False] * 5 + [True] * 3
    booked = await pg_pool.fetchval(
        "SELECT booked FROM service_slot_load WHERE dealer_id = 'D009' AND slot_start = $1", slot
    )
    assert booked == 3
