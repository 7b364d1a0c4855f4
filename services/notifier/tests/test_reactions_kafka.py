"""Owner care, service follow-ups (handover, declined repair items) and complaint alerts
from events of an outside producer, against real Kafka and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.enums import MaintenanceReason
from dealerflow.contracts.envelope import encode_structured
from dealerflow.contracts.events.complaints import ComplaintEscalated, ComplaintResolved
from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.events.service import (
    MaintenanceDue,
    RepairItemDeclined,
    VehicleHandedOver,
)
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def delivered(delivery_id: str, **changes: Any) -> VehicleDelivered:
    return example_for(VehicleDelivered).model_copy(
        update={
            "dealer_id": DEALER,
            "delivery_id": delivery_id,
            "occurred_at": START,
            "delivered_at": START,
            "consultant_id": "c-li-na",
            **changes,
        }
    )


async def test_vehicle_delivered_in_structured_mode_plans_owner_care_once(notifier) -> None:
    event = delivered("DLV-1")
    record = encode_structured(event, source="/outside/dms", event_id="dms-evt-1")
    topic = notifier.topics.name("sales")
    await notifier.send_record(topic, record)
    await notifier.send_record(topic, record)  # the same event id again: a redelivery

    async def reminders() -> list[dict[str, Any]]:
        response = await notifier.client.get(
            "/v1/reminders", params={"dealer_id": DEALER, "customer_id": str(event.customer_id)}
        )
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    await notifier.eventually(reminders, "the owner-care reminders")
    # a marker event after both copies: when it is handled, both copies were too
    await notifier.produce(delivered("DLV-MARK", customer_id=uuid.uuid4()))

    async def marker() -> bool:
        return any(t["related"]["id"] == "DLV-MARK" for t in await notifier.tasks())

    await notifier.eventually(marker, "the marker delivery")

    tasks = {t["kind"]: t for t in await notifier.tasks(customer_id=str(event.customer_id))}
    assert set(tasks) == {"delivery_callback", "satisfaction_callback", "plate_registration"}
    assert parse(tasks["delivery_callback"]["due_at"]) == START + timedelta(hours=24)
    assert tasks["delivery_callback"]["assignee"] == "c-li-na"
    assert parse(tasks["satisfaction_callback"]["due_at"]) == START + timedelta(days=7)
    assert tasks["satisfaction_callback"]["assignee"] == f"customer-relations:{DEALER}"
    planned = {r["kind"]: r for r in await reminders()}
    # the first maintenance is service-center's calendar (MaintenanceDue), not planned here
    assert set(planned) == {"insurance_renewal", "licence_inspection"}  # + the inspection
    assert planned["insurance_renewal"]["channel"] == "sms"  # WeChat without an OpenID: SMS
    async with notifier.pool.acquire() as conn:
        timer_keys = {
            r["key"] for r in await conn.fetch("SELECT key FROM timers WHERE key LIKE '%DLV-1%'")
        }
    assert timer_keys == {
        f"{DEALER}:delivery:DLV-1:callback-24h",
        f"{DEALER}:delivery:DLV-1:satisfaction-7d",
        f"{DEALER}:delivery:DLV-1:insurance-renewal-1y",
        f"{DEALER}:delivery:DLV-1:inspection-2y",
        f"{DEALER}:delivery:DLV-1:plate-registration",
    }

    # 24 h later the consultant's callback is due and TaskDue is published
    notifier.clock.set(START + timedelta(hours=24))

    async def callback_due() -> bool:
        due = await notifier.tasks(customer_id=str(event.customer_id), status="due")
        return [t["kind"] for t in due] == ["delivery_callback"]

    await notifier.eventually(callback_due, "the 24 h callback to fall due")
    due_events = [
        e
        for e in await notifier.published("TaskDue")
        if e["event"].customer_id == event.customer_id
    ]
    assert [e["event"].task_id for e in due_events] == [tasks["delivery_callback"]["id"]]
    assert due_events[0]["meta"].source == "/dealerflow/notifier"
    scheduled = await notifier.published("TaskScheduled")
    assert {e["event"].kind.value for e in scheduled} >= {
        "delivery_callback",
        "satisfaction_callback",
    }


async def test_first_maintenance_reminder_is_sent_when_due(notifier) -> None:
    await notifier.produce(delivered("DLV-2"))  # the contact the reminder goes to
    due = example_for(MaintenanceDue).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": delivered("DLV-2").customer_id,
            "occurred_at": START,
            "reason": MaintenanceReason.FIRST_MAINTENANCE,
            "due_on": date(2025, 9, 3),
            "due_km": 5000,
            "contact": delivered("DLV-2").contact,
        }
    )
    await notifier.produce(due)

    async def reminder() -> list[dict[str, Any]]:
        response = await notifier.client.get("/v1/reminders", params={"dealer_id": DEALER})
        return [r for r in response.json()["items"] if r["kind"] == "maintenance_due"]

    [planned] = await notifier.eventually(reminder, "the first-maintenance reminder")
    notifier.clock.set(parse(planned["send_at"]))

    async def sent() -> list[dict[str, Any]]:
        return [n for n in await notifier.notifications() if n["status"] == "sent"]

    [message] = await notifier.eventually(sent, "the maintenance message")
    assert message["audience"] == "customer"
    assert message["channel"] == "sms"
    assert message["recipient"] == "+8613800138000"
    assert message["locale"] == "zh-CN"
    assert "2025-09-03" in message["body"]
    assert "5000" in message["body"]
    [notification_sent] = await notifier.published("NotificationSent")
    assert notification_sent["event"].notification_id == message["id"]
    assert notification_sent["event"].kind.value == "maintenance_due"


async def test_handover_complaint_escalation_and_resolution(notifier) -> None:
    handover = example_for(VehicleHandedOver).model_copy(
        update={"dealer_id": DEALER, "occurred_at": START, "handed_over_at": START}
    )
    await notifier.produce(handover)
    escalated = example_for(ComplaintEscalated).model_copy(
        update={
            "dealer_id": DEALER,
            "complaint_id": "CMP-9",
            "occurred_at": START,
            "escalated_at": START,
            "due_at": START,
        }
    )
    await notifier.produce(escalated)

    async def both() -> dict[str, dict[str, Any]]:
        found = {t["kind"]: t for t in await notifier.tasks()}
        return found if len(found) == 2 else {}

    tasks = await notifier.eventually(both, "the service callback and the alert task")
    callback = tasks["service_callback"]
    assert callback["assignee"] == handover.advisor_id
    assert parse(callback["due_at"]) == START + timedelta(days=3)
    alert = tasks["complaint_escalation"]
    assert alert["assignee"] == "m-after-sales"  # to_staff_id of the event
    assert alert["business_key"] == f"complaint:CMP-9:escalation:1:{escalated.clock.value}"

    async def alert_sent() -> list[dict[str, Any]]:
        return [
            n
            for n in await notifier.notifications()
            if n["kind"] == "complaint_escalation" and n["status"] == "sent"
        ]

    [message] = await notifier.eventually(alert_sent, "the alert to the manager")
    assert message["recipient"] == "m-after-sales"
    assert "CMP-9" in message["subject"]

    resolved = example_for(ComplaintResolved).model_copy(
        update={"dealer_id": DEALER, "complaint_id": "CMP-9", "occurred_at": START}
    )
    await notifier.produce(resolved)

    async def cancelled() -> bool:
        alerts = [t for t in await notifier.tasks() if t["kind"] == "complaint_escalation"]
        return [t["status"] for t in alerts] == ["cancelled"]

    await notifier.eventually(cancelled, "the alert task to be cancelled")
    [callback_after] = [t for t in await notifier.tasks() if t["kind"] == "service_callback"]
    assert callback_after["status"] in ("scheduled", "due")  # not a complaint task
    [cancel_event] = await notifier.published("TaskCancelled")
    assert cancel_event["event"].task_id == alert["id"]


async def test_a_declined_repair_item_gets_the_advisors_follow_up_on_its_date(notifier) -> None:
    declined = example_for(RepairItemDeclined).model_copy(
        update={
            "dealer_id": DEALER,
            "repair_order_id": "RO-31",
            "occurred_at": START,
            "declined_at": START,
            "follow_up_on": date(2025, 4, 2),  # the dealer's 30 days, set by service-center
        }
    )
    await notifier.produce(declined)

    async def follow_up() -> list[dict[str, Any]]:
        return [t for t in await notifier.tasks() if t["kind"] == "declined_repair_follow_up"]

    [task] = await notifier.eventually(follow_up, "the declined-item follow-up")
    assert task["business_key"] == (
        f"repair-order:RO-31:declined:{declined.item.item_id}:follow-up"
    )
    assert task["assignee"] == declined.advisor_id
    assert task["related"] == {"kind": "repair_order", "id": "RO-31"}
    # on the follow-up date at the reminder time, 10:00 in Shanghai
    assert parse(task["due_at"]) == datetime(2025, 4, 2, 2, 0, tzinfo=UTC)
    assert declined.item.description in task["script"]
    [scheduled] = await notifier.published("TaskScheduled")
    assert scheduled["event"].task_id == task["id"]
    assert scheduled["event"].kind.value == "declined_repair_follow_up"
