"""Inbound SMS replies through the whole notifier on real Kafka and PostgreSQL: the SMS
gateway posts a customer's "退 订" (an opt-out keyword), the customer known with that
phone is opted out of marketing SMS (ConsentChanged, source reply_keyword) and a
marketing message planned before is suppressed when it falls due, while their service
reminder still goes out; another text is recorded and ignored; only integration clients
may post."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.care_enums import RecordKind, ReminderKind
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import ConsentPurpose, MaintenanceReason
from dealerflow.contracts.events.service import MaintenanceDue
from dealerflow.contracts.examples import example_for
from dealerflow.devinfra.tokens import auth_header
from dealerflow.notifier.domain import PlannedReminder, RecordRef
from dealerflow.notifier.usecases_messages import schedule_reminder
from dealerflow.runtime.db import transaction

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
EVENING = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai: quiet hours
MORNING = datetime(2025, 3, 4, 2, 0, tzinfo=UTC)  # Tuesday 10:00
DEALER = "D001"
UNSUBSCRIBE_KEY = "test-unsubscribe-key"  # marketing carries a signed link
PHONE = "+8613912345678"
GATEWAY = auth_header(roles=["integration"], dealers=[DEALER], sub="sms-gateway")


def _contact() -> ContactSnapshot:
    return ContactSnapshot.model_validate(
        {
            "name": "Wang Fang",
            "phone": PHONE,
            "preferred_channel": "sms",
            "consent": {"service": True, "marketing": True, "opted_out_channels": []},
            "locale": "en",
        }
    )


async def _outcome(notifier: Any, customer: uuid.UUID, prefix: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        for n in await notifier.notifications(customer_id=str(customer)):
            if n["business_key"].startswith(prefix) and n["status"] != "queued":
                return n
        return None

    found: dict[str, Any] = await notifier.eventually(probe, f"the outcome of {prefix}")
    return found


async def _sms(notifier: Any, text: str, key: str, **headers: str) -> Any:
    return await notifier.client.post(
        "/v1/inbound/sms",
        json={"dealer_id": DEALER, "from": PHONE, "text": text, "received_at": EVENING.isoformat()},
        headers={**GATEWAY, "Idempotency-Key": key, **headers},
    )


async def test_an_opt_out_reply_stops_marketing_sms(start_notifier: Any, db: Any) -> None:
    async with start_notifier(unsubscribe_secret=UNSUBSCRIBE_KEY) as notifier:
        await _run(notifier, db)


async def _run(notifier: Any, db: Any) -> None:
    notifier.clock.set(EVENING)
    customer = uuid.uuid4()
    due = example_for(MaintenanceDue).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "occurred_at": EVENING,
            "due_on": date(2025, 3, 17),
            "reason": MaintenanceReason.PERIODIC,
            "contact": _contact(),
        }
    )
    await notifier.produce(due)  # the contact (and a service reminder for the morning)

    async def planned() -> Any:
        response = await notifier.client.get(
            "/v1/reminders", params={"dealer_id": DEALER, "customer_id": str(customer)}
        )
        return response.json()["items"] or None

    await notifier.eventually(planned, "the service reminder planned")
    offer = PlannedReminder(
        key="offer-1",
        kind=ReminderKind.THANK_YOU,
        dealer_id=DEALER,
        customer_id=customer,
        send_at=MORNING,
        purpose=ConsentPurpose.MARKETING,
        related=RecordRef(RecordKind.CUSTOMER, str(customer)),
    )
    async with transaction(db.pool) as conn:
        assert await schedule_reminder(db.use_case(conn), offer, _contact()) is not None

    other = await _sms(notifier, "When is my car ready?", "sms-1")
    assert other.status_code == 201, other.text
    assert (other.json()["opt_out"], other.json()["customer_ids"]) == (False, [str(customer)])

    staff = await _sms(notifier, "TD", "sms-x", **auth_header(roles=["gm"], dealers=[DEALER]))
    assert staff.status_code == 403, staff.text

    reply = await _sms(notifier, " 退 订 ", "sms-2")
    assert reply.status_code == 201, reply.text
    assert (reply.json()["opt_out"], reply.json()["customer_ids"]) == (True, [str(customer)])
    again = await _sms(notifier, " 退 订 ", "sms-2")  # the gateway retried
    assert again.json() == reply.json()

    async def changes() -> Any:
        found = [
            r["event"]
            for r in await notifier.published("ConsentChanged", within_s=0.5)
            if r["event"].customer_id == customer
        ]
        return found or None

    [change] = await notifier.eventually(changes, "ConsentChanged")
    assert (change.purpose.value, change.channel.value, change.granted) == (
        "marketing",
        "sms",
        False,
    )
    assert change.source.value == "reply_keyword"

    notifier.clock.set(MORNING + timedelta(minutes=1))
    suppressed = await _outcome(notifier, customer, "offer-1")
    assert (suppressed["status"], suppressed["policy"]) == ("suppressed", "opted_out")
    service = await _outcome(notifier, customer, "vehicle:")
    assert service["status"] == "sent"  # service messages are not marketing
