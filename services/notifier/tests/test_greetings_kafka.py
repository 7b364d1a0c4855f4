"""Holiday greetings and referral invitations through the whole notifier on real Kafka and
PostgreSQL (ManualClock, see conftest): a VehicleDelivered plans the dealer's next greeting
timer; the day before the holiday at 10:00 local it plans a greeting for every owner, sent
through the contact policy (an owner without marketing consent and an owner who already had
the week's two marketing messages are suppressed, with the reason), and the timer of the
next greeting follows. A satisfied owner (satisfaction callback completed satisfied, or a
delivery survey scored 9) gets one referral invitation a day later."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.care_enums import RecordKind, ReminderKind, SurveyKind
from dealerflow.contracts.contact import ContactSnapshot, RelatedRecord
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.contracts.events.notifier import SurveyResponded
from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.examples import example_for
from dealerflow.notifier.domain import PlannedReminder, RecordRef
from dealerflow.notifier.usecases_messages import schedule_reminder
from dealerflow.runtime.db import transaction

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
EVE = datetime(2025, 3, 4, 2, 0, tzinfo=UTC)  # the day before the holiday, 10:00 local
DEALER = "D001"
BASE_URL = "https://care.example.cn"
GREETINGS = [
    {"name": "元宵节", "name_en": "Lantern Festival", "on": "2025-03-05"},
    {"name": "清明节", "name_en": "Qingming Festival", "on": "2025-04-04"},
]


def greeting(customer: uuid.UUID) -> str:
    return f"customer:{customer}:holiday_greeting:2025-03-05"


def contact(name: str, *, marketing: bool) -> ContactSnapshot:
    return ContactSnapshot.model_validate(
        {
            "name": name,
            "phone": "+8613700001111",
            "preferred_channel": "sms",
            "consent": {"service": True, "marketing": marketing, "opted_out_channels": []},
            "locale": "en",
        }
    )


def delivered(customer: uuid.UUID, who: ContactSnapshot) -> VehicleDelivered:
    return example_for(VehicleDelivered).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "contract_id": f"C-{customer.hex[:8]}",
            "delivery_id": f"DLV-{customer.hex[:8]}",
            "occurred_at": START,
            "delivered_at": START,
            "consultant_id": "c-wang",
            "contact": who,
        }
    )


async def _offer(db: Any, customer: uuid.UUID, key: str, who: ContactSnapshot) -> None:
    planned = PlannedReminder(
        key=key,
        kind=ReminderKind.THANK_YOU,  # worded as a thank-you, planned for marketing
        dealer_id=DEALER,
        customer_id=customer,
        send_at=START,
        purpose=ConsentPurpose.MARKETING,
        related=RecordRef(RecordKind.CUSTOMER, str(customer)),
    )
    async with transaction(db.pool) as conn:
        assert await schedule_reminder(db.use_case(conn), planned, who) is not None


async def _outcome(notifier: Any, customer: uuid.UUID, key: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        for n in await notifier.notifications(customer_id=str(customer)):
            if n["business_key"] == key and n["status"] != "queued":
                return n
        return None

    found: dict[str, Any] = await notifier.eventually(probe, f"the outcome of {key}")
    return found


async def _timer(db: Any, key: str) -> Any:
    async with transaction(db.pool) as conn:
        return await conn.fetchrow("SELECT due_at, status FROM timers WHERE key = $1", key)


async def test_holiday_greetings_go_to_owners_within_the_contact_policy(
    start_notifier: Any, db: Any
) -> None:
    async with start_notifier(unsubscribe_secret="test-link-key", public_base_url=BASE_URL) as n:
        n.configure(DEALER, {"policy": {"owner_care": {"greetings": GREETINGS}}})
        glad, declined, busy = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        busy_contact = contact("Qian Yu", marketing=True)
        for customer, who in (
            (glad, contact("Zhao Lei", marketing=True)),
            (declined, contact("Sun Li", marketing=False)),
            (busy, busy_contact),
        ):
            await n.produce(delivered(customer, who))
        # the week's two marketing messages already went to one owner
        await _offer(db, busy, "offer-1", busy_contact)
        await _offer(db, busy, "offer-2", busy_contact)
        n.clock.set(START + timedelta(minutes=1))
        for key in ("offer-1", "offer-2"):
            assert (await _outcome(n, busy, key))["status"] == "sent"

        key = f"{DEALER}:greetings:2025-03-05"

        async def timer_planned() -> Any:
            return await _timer(db, key)

        timer = await n.eventually(timer_planned, "the greeting timer")
        assert (timer["due_at"], timer["status"]) == (EVE, "pending")

        n.clock.set(EVE)
        sent = await _outcome(n, glad, greeting(glad))
        assert sent["status"] == "sent", sent
        assert "Lantern Festival" in sent["body"]
        assert "/v1/unsubscribe/" in sent["body"]
        refused = await _outcome(n, declined, greeting(declined))
        assert refused["status"] == "suppressed"
        assert refused["policy"] in {"no_consent", "opted_out"}
        capped = await _outcome(n, busy, greeting(busy))
        assert (capped["status"], capped["policy"]) == ("suppressed", "marketing_cap")

        async def suppressed() -> Any:
            found = [
                r["event"]
                for r in await n.published("NotificationSuppressed", within_s=0.5)
                if r["event"].customer_id == busy
            ]
            return found or None

        [event] = await n.eventually(suppressed, "NotificationSuppressed of the capped owner")
        assert event.policy.value == "marketing_cap"

        nxt = await n.eventually(
            lambda: _timer(db, f"{DEALER}:greetings:2025-04-04"), "the next greeting"
        )
        assert nxt["due_at"] == datetime(2025, 4, 3, 2, 0, tzinfo=UTC)


async def _satisfaction_task(n: Any, customer: uuid.UUID) -> dict[str, Any]:
    async def probe() -> Any:
        found = [
            t
            for t in await n.tasks(customer_id=str(customer))
            if t["kind"] == "satisfaction_callback"
        ]
        return found[0] if found else None

    task: dict[str, Any] = await n.eventually(probe, "the satisfaction callback")
    return task


async def test_a_satisfied_owner_is_invited_to_refer_once_per_delivery(
    start_notifier: Any,
) -> None:
    async with start_notifier(unsubscribe_secret="test-link-key", public_base_url=BASE_URL) as n:
        by_call, by_survey = uuid.uuid4(), uuid.uuid4()
        for customer in (by_call, by_survey):
            await n.produce(delivered(customer, contact("Zhou Min", marketing=True)))
        task = await _satisfaction_task(n, by_call)
        done = await n.client.post(
            f"/v1/tasks/{task['id']}/complete",
            params={"dealer_id": DEALER},
            json={"outcome": "satisfied"},
        )
        assert done.status_code == 200, done.text
        delivery = f"DLV-{by_survey.hex[:8]}"
        answer = example_for(SurveyResponded).model_copy(
            update={
                "dealer_id": DEALER,
                "customer_id": by_survey,
                "kind": SurveyKind.DELIVERY_SATISFACTION,
                "score": 9,
                "related": RelatedRecord.model_validate({"kind": "delivery", "id": delivery}),
                "occurred_at": START,
                "responded_at": START,
            }
        )
        await n.produce(answer)
        await n.produce(answer.model_copy(update={"survey_id": "SRV-again"}))  # twice

        n.clock.set(START + timedelta(days=1, minutes=1))
        for customer in (by_call, by_survey):
            key = f"DLV-{customer.hex[:8]}"
            sent = await _outcome(n, customer, f"delivery:{key}:referral_invitation")
            assert sent["status"] == "sent", sent
            assert "recommend" in sent["body"]
        invitations = [
            m
            for m in await n.notifications(customer_id=str(by_survey))
            if m["business_key"].endswith("referral_invitation")
        ]
        assert len(invitations) == 1
