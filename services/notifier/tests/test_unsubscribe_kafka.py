"""The unsubscribe link through the whole notifier on real Kafka and PostgreSQL: a
marketing message goes out with its signed link; opening the link (no token of ours)
shows a confirmation page and records nothing; confirming it (a one-click POST per RFC
8058) withdraws marketing on that channel once (ConsentChanged, source
unsubscribe_link), and the next marketing message is suppressed; a forged link is 404."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from dealerflow.contracts.care_enums import RecordKind, ReminderKind
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.notifier.domain import PlannedReminder, RecordRef
from dealerflow.notifier.usecases_messages import schedule_reminder
from dealerflow.runtime.db import transaction

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"
BASE_URL = "https://care.example.cn"
CONTACT = ContactSnapshot.model_validate(
    {
        "name": "Zhao Lei",
        "phone": "+8613700001111",
        "preferred_channel": "sms",
        "consent": {"service": True, "marketing": True, "opted_out_channels": []},
        "locale": "en",
    }
)


async def _plan(db: Any, customer: uuid.UUID, key: str, at: datetime) -> None:
    planned = PlannedReminder(
        key=key,
        kind=ReminderKind.THANK_YOU,  # worded as a thank-you, planned for marketing
        dealer_id=DEALER,
        customer_id=customer,
        send_at=at,
        purpose=ConsentPurpose.MARKETING,
        related=RecordRef(RecordKind.CUSTOMER, str(customer)),
    )
    async with transaction(db.pool) as conn:
        assert await schedule_reminder(db.use_case(conn), planned, CONTACT) is not None


async def _outcome(notifier: Any, customer: uuid.UUID, key: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        for n in await notifier.notifications(customer_id=str(customer)):
            if n["business_key"] == key and n["status"] != "queued":
                return n
        return None

    found: dict[str, Any] = await notifier.eventually(probe, f"the outcome of {key}")
    return found


async def _history(notifier: Any, customer: uuid.UUID) -> list[dict[str, Any]]:
    response = await notifier.client.get(
        f"/v1/customers/{customer}/consents/history", params={"dealer_id": DEALER}
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_the_link_in_a_marketing_message_opts_out(start_notifier: Any, db: Any) -> None:
    async with start_notifier(unsubscribe_secret="test-link-key", public_base_url=BASE_URL) as n:
        await _run(n, db)


async def _run(notifier: Any, db: Any) -> None:
    customer = uuid.uuid4()
    await _plan(db, customer, "offer-1", START)
    notifier.clock.set(START + timedelta(minutes=1))
    sent = await _outcome(notifier, customer, "offer-1")
    assert sent["status"] == "sent", sent
    found = re.search(rf"Unsubscribe: {re.escape(BASE_URL)}(/v1/unsubscribe/\S+)$", sent["body"])
    assert found is not None, sent["body"]
    path = found.group(1)

    # a browser or a mail client: no bearer token
    transport = httpx.ASGITransport(app=notifier.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as customer_ua:
        page = await customer_ua.get(path)
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        assert '<form method="post"' in page.text
        assert "sms" in page.text
        assert await _history(notifier, customer) == []  # opening the link records nothing

        one_click = {"List-Unsubscribe": "One-Click"}
        done = await customer_ua.post(path, data=one_click)
        assert done.status_code == 200, done.text
        assert "Unsubscribed" in done.text
        again = await customer_ua.post(path, data=one_click)  # clicked twice
        assert again.status_code == 200, again.text

        forged = await customer_ua.get(path[:-4] + "AAAA")
        assert forged.status_code == 404

    [change] = await _history(notifier, customer)
    assert (change["purpose"], change["channel"], change["granted"]) == ("marketing", "sms", False)
    assert (change["source"], change["recorded_by"]) == ("unsubscribe_link", None)

    async def published() -> Any:
        found = [
            r["event"]
            for r in await notifier.published("ConsentChanged", within_s=0.5)
            if r["event"].customer_id == customer
        ]
        return found or None

    [event] = await notifier.eventually(published, "ConsentChanged")
    assert (event.consent_id, event.source.value) == (change["consent_id"], "unsubscribe_link")

    await _plan(db, customer, "offer-2", START + timedelta(minutes=5))
    notifier.clock.set(START + timedelta(minutes=6))
    suppressed = await _outcome(notifier, customer, "offer-2")
    assert (suppressed["status"], suppressed["policy"]) == ("suppressed", "opted_out")


async def test_marketing_without_a_link_key_is_not_sent(notifier: Any, db: Any) -> None:
    customer = uuid.uuid4()
    await _plan(db, customer, "offer-1", START)
    notifier.clock.set(START + timedelta(minutes=1))
    failed = await _outcome(notifier, customer, "offer-1")
    assert failed["status"] == "failed"
    assert "UNSUBSCRIBE_SECRET" in failed["error"]
