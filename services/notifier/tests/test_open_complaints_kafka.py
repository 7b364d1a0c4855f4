"""Open complaints suppress marketing, through the whole notifier on real Kafka and
PostgreSQL: a marketing message planned for a customer whose complaint is open is
suppressed when its timer fires (NotificationSuppressed ``open_complaint``); the customer's
service messages still go out; once ComplaintClosed arrives marketing goes out again, and
a redelivered ComplaintOpened after the close changes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.care_enums import RecordKind, ReminderKind
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.contracts.events.complaints import ComplaintClosed, ComplaintOpened
from dealerflow.contracts.examples import example_for
from dealerflow.notifier import usecases_consent as uc_consent
from dealerflow.notifier.domain import PlannedReminder, RecordRef
from dealerflow.notifier.usecases_messages import schedule_reminder
from dealerflow.runtime.db import transaction

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"
UNSUBSCRIBE_KEY = "test-unsubscribe-key"  # marketing carries a signed link
CONTACT = ContactSnapshot.model_validate(
    {
        "name": "Zhang Wei",
        "phone": "+8613800138000",
        "preferred_channel": "sms",
        "consent": {"service": True, "marketing": True, "opted_out_channels": []},
        "locale": "en",
    }
)


async def _plan(db: Any, customer: uuid.UUID, key: str, purpose: ConsentPurpose, at: datetime):
    """Plan a customer message in the running notifier's schema (no event plans marketing
    yet: the care calendar is another slice's)."""
    # a sales touch planned for marketing (the care calendar's greetings and offers have
    # no templates yet): the thank-you text
    planned = PlannedReminder(
        key=key,
        kind=ReminderKind.THANK_YOU
        if purpose is ConsentPurpose.MARKETING
        else ReminderKind.SERVICE_FOLLOW_UP,
        dealer_id=DEALER,
        customer_id=customer,
        send_at=at,
        purpose=purpose,
        related=RecordRef(RecordKind.CUSTOMER, str(customer)),
    )
    async with transaction(db.pool) as conn:
        row = await schedule_reminder(db.use_case(conn), planned, CONTACT)
    assert row is not None
    return row


async def _outcome(notifier: Any, customer: uuid.UUID, key: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        for n in await notifier.notifications(customer_id=str(customer)):
            if n["business_key"] == key and n["status"] != "queued":
                return n
        return None

    found: dict[str, Any] = await notifier.eventually(probe, f"the outcome of {key}")
    return found


async def _handling_task(notifier: Any, customer: uuid.UUID) -> Any:
    return await notifier.tasks(customer_id=str(customer)) or None


async def test_marketing_waits_while_a_complaint_is_open(start_notifier: Any, db: Any) -> None:
    async with start_notifier(unsubscribe_secret=UNSUBSCRIBE_KEY) as notifier:
        await _run(notifier, db)


async def _run(notifier: Any, db: Any) -> None:
    customer, complaint = uuid.uuid4(), f"CMP-{uuid.uuid4().hex[:8]}"
    opened = example_for(ComplaintOpened).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "complaint_id": complaint,
            "occurred_at": START,
            "opened_at": START,
            "contact": CONTACT,
        }
    )
    await notifier.produce(opened)
    await notifier.eventually(lambda: _handling_task(notifier, customer), "handling task")

    greeting = await _plan(db, customer, "greeting-1", ConsentPurpose.MARKETING, START)
    service = await _plan(db, customer, "service-1", ConsentPurpose.SERVICE, START)
    notifier.clock.set(START + timedelta(minutes=5))
    suppressed = await _outcome(notifier, customer, "greeting-1")
    assert (suppressed["status"], suppressed["policy"]) == ("suppressed", "open_complaint")
    assert (await _outcome(notifier, customer, "service-1"))["status"] == "sent"

    async def suppression_event() -> Any:
        found = [
            r["event"]
            for r in await notifier.published("NotificationSuppressed", within_s=0.5)
            if r["event"].reminder_id == str(greeting.id)
        ]
        return found or None

    [event] = await notifier.eventually(suppression_event, "NotificationSuppressed")
    assert event.policy.value == "open_complaint"
    assert service.id != greeting.id

    closed = example_for(ComplaintClosed).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "complaint_id": complaint,
            "occurred_at": START + timedelta(minutes=10),
            "closed_at": START + timedelta(minutes=10),
        }
    )
    await notifier.produce(closed)
    await notifier.produce(opened)  # a redelivered opening after the close: still closed

    # a close of a complaint never seen open, after both on the customer's partition:
    # once it is kept, the redelivered opening was consumed too
    marker = closed.model_copy(update={"complaint_id": f"{complaint}-marker"})
    await notifier.produce(marker)

    async def consumed() -> Any:
        async with db.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT complaint_id, closed_at FROM customer_complaints WHERE customer_id = $1",
                customer,
            )
        return rows if len(rows) == 2 else None

    rows = await notifier.eventually(consumed, "the close, the redelivery and the marker")
    assert all(r["closed_at"] is not None for r in rows)
    await _plan(db, customer, "greeting-2", ConsentPurpose.MARKETING, START + timedelta(minutes=15))
    notifier.clock.set(START + timedelta(minutes=20))
    assert (await _outcome(notifier, customer, "greeting-2"))["status"] == "sent"


async def test_reopening_and_out_of_order_closes(db: Any) -> None:
    customer, t = uuid.uuid4(), START
    async with transaction(db.pool) as conn:
        uc = db.use_case(conn)
        assert not await uc_consent.has_open_complaint(uc, DEALER, customer)
        await uc_consent.on_complaint_opened(uc, DEALER, customer, "C1", t)
        await uc_consent.on_complaint_opened(uc, DEALER, customer, "C2", t)
        await uc_consent.on_complaint_closed(uc, DEALER, customer, "C1", t + timedelta(hours=1))
        assert await uc_consent.has_open_complaint(uc, DEALER, customer)  # C2 still open
        await uc_consent.on_complaint_closed(uc, DEALER, customer, "C2", t + timedelta(hours=1))
        assert not await uc_consent.has_open_complaint(uc, DEALER, customer)
        reopened = t + timedelta(hours=2)
        await uc_consent.on_complaint_opened(uc, DEALER, customer, "C1", reopened, reopening=True)
        assert await uc_consent.has_open_complaint(uc, DEALER, customer)
        # the old close redelivered after the reopening changes nothing
        await uc_consent.on_complaint_closed(uc, DEALER, customer, "C1", t + timedelta(hours=1))
        assert await uc_consent.has_open_complaint(uc, DEALER, customer)
        await uc_consent.on_complaint_closed(uc, DEALER, customer, "C1", t + timedelta(hours=3))
        assert not await uc_consent.has_open_complaint(uc, DEALER, customer)
