"""Channel fallback through the whole notifier on real Kafka and PostgreSQL: a customer
who opted out of marketing SMS by reply (``TD``) but has e-mail gets the marketing
message by e-mail (the dealer's ``contact.channel_order`` among its
``contact.marketing_channels``: never WeChat, whose template messages must not carry
marketing, although the customer has it), and one who can be reached on no marketing
channel is suppressed with the reason of their own channel. A dealer none of whose
channels may carry marketing: suppressed, ``no_marketing_channel``."""

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
LATER = START + timedelta(hours=2)
DEALER = "D001"
GATEWAY = auth_header(roles=["integration"], dealers=[DEALER], sub="sms-gateway")


def _contact(phone: str, **changes: Any) -> ContactSnapshot:
    return ContactSnapshot.model_validate(
        {
            "name": "Wang Fang",
            "phone": phone,
            "wechat_openid": "o-wang-fang",
            "preferred_channel": "sms",
            "consent": {"service": True, "marketing": True, "opted_out_channels": []},
            "locale": "en",
            **changes,
        }
    )


async def _known(notifier: Any, customer: uuid.UUID, contact: ContactSnapshot, vin: str) -> None:
    due = example_for(MaintenanceDue).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "vin": vin,
            "occurred_at": START,
            "due_on": date(2025, 3, 17),
            "reason": MaintenanceReason.PERIODIC,
            "contact": contact,
        }
    )
    await notifier.produce(due)  # the notifier learns the contact snapshot

    async def planned() -> Any:
        response = await notifier.client.get(
            "/v1/reminders", params={"dealer_id": DEALER, "customer_id": str(customer)}
        )
        return response.json()["items"] or None

    await notifier.eventually(planned, "the contact snapshot")


async def _offer(
    db: Any, customer: uuid.UUID, contact: ContactSnapshot, dealer: str = DEALER
) -> None:
    offer = PlannedReminder(
        key=f"offer:{customer}",
        kind=ReminderKind.THANK_YOU,
        dealer_id=dealer,
        customer_id=customer,
        send_at=LATER,
        purpose=ConsentPurpose.MARKETING,
        related=RecordRef(RecordKind.CUSTOMER, str(customer)),
    )
    async with transaction(db.pool) as conn:
        assert await schedule_reminder(db.use_case(conn), offer, contact) is not None


async def _outcome(notifier: Any, customer: uuid.UUID) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        for n in await notifier.notifications(customer_id=str(customer)):
            if n["business_key"].startswith("offer:") and n["status"] != "queued":
                return n
        return None

    found: dict[str, Any] = await notifier.eventually(probe, "the offer's outcome")
    return found


async def test_marketing_opted_out_by_sms_goes_by_email_not_wechat(
    start_notifier: Any, db: Any
) -> None:
    async with start_notifier(unsubscribe_secret="test-unsubscribe-key") as notifier:
        notifier.clock.set(START)
        reachable, unreachable = uuid.uuid4(), uuid.uuid4()
        # WeChat first in the dealer's channel_order, but no marketing channel
        mail_user = _contact("+8613912340001", email="wang.fang@example.com")
        # WeChat (not for marketing) and SMS, no e-mail: SMS is all there is
        sms_only = _contact("+8613912340002")
        owners = (
            (reachable, mail_user, "LSVAU2180N2183901"),
            (unreachable, sms_only, "LSVAU2180N2183902"),
        )
        for customer, contact, vin in owners:
            await _known(notifier, customer, contact, vin)
            await _offer(db, customer, contact)
            phone = contact.phone
            reply = await notifier.client.post(
                "/v1/inbound/sms",
                json={
                    "dealer_id": DEALER,
                    "from": phone,
                    "text": "TD",
                    "received_at": START.isoformat(),
                },
                headers={**GATEWAY, "Idempotency-Key": f"td-{customer}"},
            )
            assert reply.status_code == 201, reply.text
            assert reply.json()["opt_out"] is True

        notifier.clock.set(LATER + timedelta(minutes=1))
        sent = await _outcome(notifier, reachable)
        assert (sent["status"], sent["channel"], sent["recipient"]) == (
            "sent",
            "email",
            "wang.fang@example.com",
        )
        suppressed = await _outcome(notifier, unreachable)
        # no channel left: the reason of the customer's own channel, as before
        assert (suppressed["status"], suppressed["channel"], suppressed["policy"]) == (
            "suppressed",
            "sms",
            "opted_out",
        )
        events = {
            e["event"].customer_id: e["event"]
            for e in await notifier.published("NotificationSent")
            if e["event"].customer_id in (reachable, unreachable)
            and e["event"].kind is ReminderKind.THANK_YOU  # not the service reminders
        }
        assert set(events) == {reachable}
        assert events[reachable].channel.value == "email"


async def test_marketing_no_channel_of_the_dealer_may_carry_is_suppressed(
    start_notifier: Any, db: Any
) -> None:
    dealer = "D-WECHAT-ONLY"
    only_wechat = {"policy": {"contact": {"channels": ["wechat"]}}}
    async with start_notifier(unsubscribe_secret="test-unsubscribe-key") as notifier:
        notifier.clock.set(START)
        for configuration in (notifier, db):
            configuration.configure(dealer, only_wechat)
        customer = uuid.uuid4()
        contact = _contact("+8613912340003", preferred_channel="wechat")
        await _offer(db, customer, contact, dealer)

        notifier.clock.set(LATER + timedelta(minutes=1))

        async def suppressed() -> list[Any] | None:
            found = [
                e["event"]
                for e in await notifier.published("NotificationSuppressed")
                if e["event"].customer_id == customer
            ]
            return found or None

        [event] = await notifier.eventually(suppressed, "the offer suppressed")
        assert (event.policy.value, event.channel.value) == ("no_marketing_channel", "wechat")
        assert "marketing_channels" in (event.detail or "")
        response = await notifier.client.get(
            "/v1/notifications", params={"dealer_id": dealer, "customer_id": str(customer)}
        )
        [row] = response.json()["items"]
        assert (row["status"], row["policy"]) == ("suppressed", "no_marketing_channel")
