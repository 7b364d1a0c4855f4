"""Chains b, c, d: deliveries and handovers make the notifier schedule owner care."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from dealerflow.contracts.events import VehicleDelivered
from dealerflow.contracts.examples import example_for
from dealerflow.contracts.identity import customer_id_for
from dealerflow.devinfra.client import DealerflowClient, events_of, eventually, new_event_id

PHONE = "+8613800138000"


def _kinds(tasks: list[dict]) -> dict[str, dict]:
    return {t["kind"]: t for t in tasks}


async def test_delivery_in_sales_schedules_owner_care(
    stack: Any, client: DealerflowClient, dealer_id: str
) -> None:
    """b. contract signed and delivered -> 24 h callback, 7-day callback, insurance reminder,
    and service-center's first maintenance."""
    await client.sell_and_deliver(
        dealer_id,
        name="王芳",
        phone=PHONE,
        vin="LSVAU2180N2183294",
        consultant_id="consultant-li",
        delivery_on=(stack.now() + timedelta(days=1)).date(),
    )
    customer = str(customer_id_for("default", PHONE))

    async def care_tasks() -> dict[str, dict] | None:
        kinds = _kinds(await client.tasks(dealer_id, customer_id=customer))
        wanted = {"delivery_callback", "satisfaction_callback"}
        return kinds if wanted <= kinds.keys() else None

    tasks = await eventually(care_tasks, what="owner-care tasks from VehicleDelivered")
    delivered = await events_of(
        stack.kafka_bootstrap, stack.topics.name("sales"), dealer_id, "VehicleDelivered"
    )
    assert len(delivered) == 1
    delivered_at = delivered[0].event.delivered_at  # type: ignore[attr-defined]
    callback = tasks["delivery_callback"]
    assert callback["assignee"] == "consultant-li"
    due = _parse(callback["due_at"])
    assert timedelta(hours=23) <= due - delivered_at <= timedelta(hours=25)
    satisfaction_due = _parse(tasks["satisfaction_callback"]["due_at"])
    assert timedelta(days=6) <= satisfaction_due - delivered_at <= timedelta(days=8)

    # The first maintenance is service-center's calendar: it registered the sold car
    # and shows the first due (no visit yet, so no handover set it); its MaintenanceDue,
    # months away, brings the notifier's reminder.
    async def first_due() -> dict | None:
        history = await client.call(
            "service-center",
            "GET",
            "/v1/vehicles/LSVAU2180N2183294/history",
            params={"dealer_id": dealer_id},
        )
        due = history.get("next_maintenance")
        return due if due and due["after_repair_order_id"] is None else None

    due_first = await eventually(first_due, what="the first maintenance the sale set")
    assert due_first["due_km"] == 5000
    assert due_first["due_on"] > delivered_at.isoformat()[:10]
    insurance = await eventually(
        lambda: _reminders_of_kind(client, dealer_id, customer, "insurance_renewal"),
        what="the insurance-renewal reminder",
    )
    assert insurance[0]["send_at"] > delivered_at.isoformat()[:10]
    assert await _reminders_of_kind(client, dealer_id, customer, "maintenance_due") is None

    # The 24 h callback falls due on the services' (accelerated) clock: TaskDue, status due.
    async def callback_due() -> dict | None:
        task = _kinds(await client.tasks(dealer_id, customer_id=customer))["delivery_callback"]
        return task if task["status"] == "due" else None

    await eventually(
        callback_due,
        timeout_s=stack.real_seconds_until(due) + 30,
        what="the 24 h callback to fall due",
    )


async def test_outside_delivery_gets_the_same_reactions_once(
    stack: Any, client: DealerflowClient, dealer_id: str
) -> None:
    """c. a VehicleDelivered from an outside DMS (structured mode), published twice."""
    phone = "+8613900139000"
    customer = customer_id_for("acme-group", phone)
    base = example_for(VehicleDelivered)
    event = base.model_copy(
        update={
            "dealer_id": dealer_id,
            "customer_id": customer,
            "delivery_id": str(uuid.uuid4()),
            "delivered_at": stack.now(),
            "occurred_at": stack.now(),
            "contact": base.contact.model_copy(update={"phone": phone}),
        }
    )
    event_id = new_event_id()
    await client.publish_external_event(event, event_id=event_id)
    await client.publish_external_event(event, event_id=event_id)  # a redelivery

    async def care_tasks() -> list[dict] | None:
        tasks = await client.tasks(dealer_id, customer_id=str(customer))
        kinds = {t["kind"] for t in tasks}
        return tasks if {"delivery_callback", "satisfaction_callback"} <= kinds else None

    await eventually(care_tasks, what="owner-care tasks from the outside VehicleDelivered")
    # A different, later marker event for the same dealer proves the duplicate was consumed.
    await client.sell_and_deliver(
        dealer_id,
        name="李雷",
        phone="+8613700137000",
        vin="LSVAU2180N2183295",
        consultant_id="consultant-li",
        delivery_on=(stack.now() + timedelta(days=1)).date(),
    )
    marker = str(customer_id_for("default", "+8613700137000"))
    await eventually(lambda: client.tasks(dealer_id, customer_id=marker), what="the marker's tasks")
    tasks = await client.tasks(dealer_id, customer_id=str(customer))
    kinds = [t["kind"] for t in tasks]
    assert kinds.count("delivery_callback") == 1, kinds
    assert kinds.count("satisfaction_callback") == 1, kinds
    assert tasks[0]["assignee"] == str(base.consultant_id)


async def test_handover_in_service_center_schedules_the_3_day_callback(
    stack: Any, client: DealerflowClient, dealer_id: str
) -> None:
    """d. repair order completed and handed over -> 3-day follow-up callback to the advisor."""
    phone = "+8613600136000"
    await client.repair_and_hand_over(
        dealer_id, name="韩梅梅", phone=phone, vin="LSVAU2180N2183296", advisor_id="advisor-zhao"
    )
    customer = str(customer_id_for("default", phone))

    async def followup() -> dict | None:
        tasks = _kinds(await client.tasks(dealer_id, customer_id=customer))
        return tasks.get("service_callback")

    task = await eventually(followup, what="the service follow-up callback")
    assert task["assignee"] == "advisor-zhao"
    handed = await events_of(
        stack.kafka_bootstrap, stack.topics.name("service"), dealer_id, "VehicleHandedOver"
    )
    assert len(handed) == 1
    handed_at = handed[0].event.handed_over_at  # type: ignore[attr-defined]
    assert timedelta(days=3) <= _parse(task["due_at"]) - handed_at <= timedelta(days=4)


async def _reminders_of_kind(
    client: DealerflowClient, dealer_id: str, customer: str, kind: str
) -> list[dict] | None:
    found = [r for r in await client.reminders(dealer_id, customer) if r["kind"] == kind]
    return found or None


def _parse(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value)
