"""Erasing a customer at one store (CustomerErasureRequested on the leads topic): the
reminders not sent yet are cancelled, the customer's tasks, reminders, messages and
contact snapshot there are anonymised, and nothing else changes - the whole notifier on
real Kafka and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.contact import ContactSnapshot, erased_contact
from dealerflow.contracts.enums import Locale, MaintenanceReason
from dealerflow.contracts.events.complaints import ComplaintEscalated
from dealerflow.contracts.events.leads import CustomerErasureRequested
from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.events.service import MaintenanceDue
from dealerflow.contracts.examples import example_for
from dealerflow.notifier.domain_erasure import ERASED_TEXT
from dealerflow.notifier.usecases_erasure import erase_customer
from dealerflow.runtime.db import transaction
from dealerflow.runtime.erasure import Erasure

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER, OTHER_DEALER = "D001", "D002"
NAME, PHONE, EMAIL = "王小明", "+8613912345678", "wang.xiaoming@example.com"
TRACES = (NAME, PHONE, PHONE.removeprefix("+86"), EMAIL)
REQUESTED_AT = START + timedelta(days=200)
TABLES = ("tasks", "reminders", "notifications", "customer_contacts", "idempotency_keys", "timers")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def person(name: str, phone: str, email: str) -> ContactSnapshot:
    return example_for(VehicleDelivered).contact.model_copy(
        update={"name": name, "phone": phone, "email": email, "locale": Locale.EN}
    )


def delivered(dealer_id: str, customer: uuid.UUID, delivery_id: str, contact: Any) -> Any:
    return example_for(VehicleDelivered).model_copy(
        update={
            "dealer_id": dealer_id,
            "customer_id": customer,
            "delivery_id": delivery_id,
            "occurred_at": START,
            "delivered_at": START,
            "consultant_id": "c-li-na",
            "contact": contact,
        }
    )


def maintenance_due(dealer_id: str, customer: uuid.UUID, vin: str, contact: Any) -> Any:
    """service-center's first-maintenance reminder day for the delivered car."""
    return example_for(MaintenanceDue).model_copy(
        update={
            "dealer_id": dealer_id,
            "customer_id": customer,
            "vin": vin,
            "occurred_at": START,
            "reason": MaintenanceReason.FIRST_MAINTENANCE,
            "contact": contact,
        }
    )


def escalated(customer: uuid.UUID, complaint_id: str, at: datetime) -> ComplaintEscalated:
    return example_for(ComplaintEscalated).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "complaint_id": complaint_id,
            "occurred_at": at,
            "escalated_at": at,
            "due_at": at,
        }
    )


async def get(notifier: Any, path: str, dealer_id: str, customer: uuid.UUID) -> Any:
    response = await notifier.client.get(
        path, params={"dealer_id": dealer_id, "customer_id": str(customer), "limit": 200}
    )
    assert response.status_code == 200, response.text
    return response


async def rows_of(notifier: Any, dealer_id: str, customer: uuid.UUID) -> dict[str, list[Any]]:
    found = {}
    async with notifier.pool.acquire() as conn:
        for table in ("tasks", "reminders", "notifications", "customer_contacts"):
            rows = await conn.fetch(
                f"SELECT row_to_json(t)::text AS r FROM {table} t "
                "WHERE dealer_id = $1 AND customer_id = $2 ORDER BY 1",
                dealer_id,
                customer,
            )
            found[table] = [json.loads(r["r"]) for r in rows]
    return found


async def store_text(notifier: Any, dealer_id: str) -> str:
    parts = []
    async with notifier.pool.acquire() as conn:
        for table in TABLES:
            rows = await conn.fetch(
                f"SELECT row_to_json(t)::text AS r FROM {table} t WHERE dealer_id = $1", dealer_id
            )
            parts.extend(r["r"] for r in rows)
    return "\n".join(parts)


def traces_in(text: str) -> list[str]:
    return [trace for trace in TRACES if trace in text]


async def settled(notifier: Any) -> None:
    """Wait until every timer due by the clock has fired."""

    async def none_due() -> bool:
        async with notifier.pool.acquire() as conn:
            due = await conn.fetchval(
                "SELECT count(*) FROM timers WHERE status = 'pending' AND due_at <= $1",
                notifier.clock.now(),
            )
        return due == 0

    await notifier.eventually(none_due, "every due timer fired")


async def erased_by_event(notifier: Any, customer: uuid.UUID, event_id: str) -> None:
    erasure = example_for(CustomerErasureRequested).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "requested_at": REQUESTED_AT,
            "occurred_at": REQUESTED_AT,
        }
    )
    await notifier.produce(erasure, event_id=event_id)

    async def done() -> bool:
        async with notifier.pool.acquire() as conn:
            return bool(
                await conn.fetchval(
                    "SELECT 1 FROM inbox WHERE consumer = 'notifier.erasure' AND event_id = $1",
                    event_id,
                )
            )

    await notifier.eventually(done, f"erasure {event_id} carried out")


async def test_erasure_cancels_and_anonymises_the_customer_at_that_store_only(notifier) -> None:
    x, y = uuid.uuid4(), uuid.uuid4()
    y_contact = person("李四", "+8613800000001", "li.si@example.com")
    await notifier.produce(delivered(DEALER, x, "DLV-X", person(NAME, PHONE, EMAIL)))
    await notifier.produce(delivered(DEALER, y, "DLV-Y", y_contact))
    await notifier.produce(delivered(OTHER_DEALER, x, "DLV-X2", person(NAME, PHONE, EMAIL)))
    for dealer_id, customer, vin, contact in (
        (DEALER, x, "LSVAX60E8K2000001", person(NAME, PHONE, EMAIL)),
        (DEALER, y, "LSVAX60E8K2000002", y_contact),
        (OTHER_DEALER, x, "LSVAX60E8K2000001", person(NAME, PHONE, EMAIL)),
    ):
        await notifier.produce(maintenance_due(dealer_id, customer, vin, contact))
    await notifier.produce(escalated(x, "CMP-X", START))

    async def planned(dealer_id: str, customer: uuid.UUID, count: int) -> list[dict[str, Any]]:
        items = (await get(notifier, "/v1/reminders", dealer_id, customer)).json()["items"]
        return items if len(items) == count else []

    [maintenance, insurance, inspection] = sorted(
        await notifier.eventually(lambda: planned(DEALER, x, 3), "X's reminders"),
        key=lambda r: r["send_at"],
    )
    assert (maintenance["kind"], insurance["kind"], inspection["kind"]) == (
        "maintenance_due",
        "insurance_renewal",
        "licence_inspection",
    )
    await notifier.eventually(lambda: planned(DEALER, y, 3), "Y's reminders")
    await notifier.eventually(lambda: planned(OTHER_DEALER, x, 3), "X's reminders elsewhere")

    # the first-maintenance messages go out; X completes a callback with a note
    notifier.clock.set(parse(maintenance["send_at"]))

    async def sent(dealer_id: str, customer: uuid.UUID) -> list[dict[str, Any]]:
        items = (await get(notifier, "/v1/notifications", dealer_id, customer)).json()["items"]
        return [n for n in items if n["kind"] == "maintenance_due" and n["status"] == "sent"]

    [message] = await notifier.eventually(lambda: sent(DEALER, x), "X's maintenance message")
    assert message["recipient"] == PHONE
    assert NAME in message["body"]
    await notifier.eventually(lambda: sent(DEALER, y), "Y's maintenance message")
    await notifier.eventually(lambda: sent(OTHER_DEALER, x), "X's message elsewhere")

    async def escalation_sent() -> list[dict[str, Any]]:
        items = (await get(notifier, "/v1/notifications", DEALER, x)).json()["items"]
        return [n for n in items if n["audience"] == "staff" and n["status"] == "sent"]

    [alert] = await notifier.eventually(escalation_sent, "the escalation alert")
    tasks = {t["kind"]: t for t in (await get(notifier, "/v1/tasks", DEALER, x)).json()["items"]}
    done = await notifier.client.post(
        f"/v1/tasks/{tasks['delivery_callback']['id']}/complete",
        params={"dealer_id": DEALER},
        json={"outcome": "dissatisfied", "note": f"{NAME} wants {EMAIL} to get the manual"},
        headers={"Idempotency-Key": "erase-x-callback"},
    )
    assert done.status_code == 200, done.text

    await settled(notifier)
    before = await rows_of(notifier, DEALER, x)
    y_before = await rows_of(notifier, DEALER, y)
    other_before = await rows_of(notifier, OTHER_DEALER, x)
    assert traces_in(await store_text(notifier, DEALER)) == list(TRACES)  # there to erase

    await erased_by_event(notifier, x, "erasure-1")

    # nothing of the person is left at the store, in any table or answer
    assert traces_in(await store_text(notifier, DEALER)) == []
    reminders = (await get(notifier, "/v1/reminders", DEALER, x)).json()["items"]
    statuses = {r["kind"]: r["status"] for r in reminders}
    assert statuses == {
        "maintenance_due": "sent",
        "insurance_renewal": "cancelled",
        "licence_inspection": "cancelled",  # the inspection chain ends too
    }
    async with notifier.pool.acquire() as conn:
        pending = await conn.fetch("SELECT key FROM timers WHERE status = 'pending'")
    assert not [r["key"] for r in pending if "DLV-X:" in r["key"] and "insurance" in r["key"]]
    assert not [r["key"] for r in pending if "DLV-X:" in r["key"] and "inspection" in r["key"]]
    messages = await get(notifier, "/v1/notifications", DEALER, x)
    assert traces_in(messages.text) == []
    by_id = {n["id"]: n for n in messages.json()["items"]}
    erased_message = by_id[message["id"]]
    assert (erased_message["status"], erased_message["sent_at"]) == ("sent", message["sent_at"])
    assert (erased_message["recipient"], erased_message["body"]) == (None, ERASED_TEXT)
    assert erased_message["provider_message_id"] == message["provider_message_id"]
    erased_alert = by_id[alert["id"]]
    assert (erased_alert["status"], erased_alert["recipient"]) == ("sent", alert["recipient"])
    assert (erased_alert["subject"], erased_alert["body"]) == (ERASED_TEXT, ERASED_TEXT)
    listed = await get(notifier, "/v1/tasks", DEALER, x)
    assert traces_in(listed.text) == []
    after_tasks = {t["kind"]: t for t in listed.json()["items"]}
    assert set(after_tasks) == set(tasks)
    callback = after_tasks["delivery_callback"]
    assert (callback["status"], callback["outcome"], callback["note"]) == (
        "done",
        "dissatisfied",
        ERASED_TEXT,
    )
    for kind, old in tasks.items():
        if kind != "delivery_callback":
            assert after_tasks[kind] == {**old, "updated_at": after_tasks[kind]["updated_at"]}
    after = await rows_of(notifier, DEALER, x)
    assert [c["contact"] for c in after["customer_contacts"]] == [
        erased_contact(Locale.EN).model_dump(mode="json")
    ]
    assert len(after["notifications"]) == len(before["notifications"])
    # a retry of the completion is answered with the task as it is now: anonymised
    retried = await notifier.client.post(
        f"/v1/tasks/{tasks['delivery_callback']['id']}/complete",
        params={"dealer_id": DEALER},
        json={"outcome": "dissatisfied", "note": f"{NAME} wants {EMAIL} to get the manual"},
        headers={"Idempotency-Key": "erase-x-callback"},
    )
    assert retried.status_code == 200, retried.text
    assert retried.json()["note"] == ERASED_TEXT
    assert traces_in(retried.text) == []

    # Y at the store and X at the other store are untouched
    assert await rows_of(notifier, DEALER, y) == y_before
    assert await rows_of(notifier, OTHER_DEALER, x) == other_before

    # the same request again changes nothing more
    await erased_by_event(notifier, x, "erasure-2")
    assert await rows_of(notifier, DEALER, x) == after
    async with transaction(notifier.ctx.db, dealers=DEALER) as conn:
        again = await erase_customer(
            notifier.ctx.use_case(conn), Erasure("again", DEALER, x, REQUESTED_AT)
        )
    assert set(again.values()) == {0}

    # when the insurance reminders fall due, Y's goes out and X gets nothing
    notifier.clock.set(parse(insurance["send_at"]))

    async def y_insured() -> list[dict[str, Any]]:
        items = (await get(notifier, "/v1/notifications", DEALER, y)).json()["items"]
        return [n for n in items if n["kind"] == "insurance_renewal"]

    await notifier.eventually(y_insured, "Y's insurance message")
    items = (await get(notifier, "/v1/notifications", DEALER, x)).json()["items"]
    assert [n for n in items if n["kind"] == "insurance_renewal"] == []

    # Y's renewal falling due planned the next year's (every year); X's chain ended
    async def next_year(customer: uuid.UUID) -> list[dict[str, Any]]:
        items = (await get(notifier, "/v1/reminders", DEALER, customer)).json()["items"]
        return [r for r in items if r["business_key"].endswith(":insurance-renewal-2y")]

    [following] = await notifier.eventually(lambda: next_year(y), "Y's next insurance renewal")
    assert following["status"] == "scheduled"
    assert following["params"]["renewal_date"] > insurance["params"]["renewal_date"]
    assert await next_year(x) == []
