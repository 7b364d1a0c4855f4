"""Customer tiers from Kafka, through the whole notifier on real Kafka and PostgreSQL: a
delivery, a paid service visit and converted referrals move the customer's tier, each
change published once as CustomerTierChanged (a redelivered fact changes nothing), and the
review timer lowers the tier when the spend leaves the window. Service-center's
ServiceTierChanged is kept beside it (newest change wins) and shown with the tier."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from dealerflow.contracts.enums import ServiceTier
from dealerflow.contracts.events.leads import LeadConverted, LeadCreated
from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.events.service import ServiceTierChanged, VehicleHandedOver
from dealerflow.contracts.examples import example_for
from dealerflow.contracts.types import Money

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"


def _delivered(customer: uuid.UUID) -> VehicleDelivered:
    return example_for(VehicleDelivered).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "delivery_id": str(uuid.uuid4()),
            "occurred_at": START,
            "delivered_at": START,
        }
    )


def _handed_over(customer: uuid.UUID, amount: str) -> VehicleHandedOver:
    return example_for(VehicleHandedOver).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "repair_order_id": str(uuid.uuid4()),
            "occurred_at": START,
            "handed_over_at": START,
            "amount_paid": Money(amount=Decimal(amount), currency="CNY"),
        }
    )


def _referred(referrer: uuid.UUID) -> tuple[LeadCreated, LeadConverted]:
    customer, lead_id = uuid.uuid4(), str(uuid.uuid4())
    created = example_for(LeadCreated).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "lead_id": lead_id,
            "occurred_at": START,
            "created_at": START,
            "referrer_customer_id": referrer,
        }
    )
    converted = example_for(LeadConverted).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "lead_id": lead_id,
            "occurred_at": START,
            "converted_at": START,
        }
    )
    return created, converted


async def _changes(notifier: Any, customer: uuid.UUID, count: int) -> list[Any] | None:
    found = [
        r["event"]
        for r in await notifier.published("CustomerTierChanged", within_s=0.5)
        if r["event"].customer_id == customer
    ]
    return found if len(found) >= count else None


async def _tier(notifier: Any, customer: uuid.UUID) -> dict[str, Any]:
    response = await notifier.client.get(
        f"/v1/customers/{customer}/tier", params={"dealer_id": DEALER}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_purchase_spend_and_referrals_raise_the_tier_once_each(notifier: Any) -> None:
    buyer = uuid.uuid4()
    await notifier.produce(_delivered(buyer))  # a purchase alone: still regular, no event
    paid = _handed_over(buyer, "3500.00")
    await notifier.produce(paid)
    await notifier.produce(paid)  # redelivered under another event id: counted once
    [key] = await notifier.eventually(lambda: _changes(notifier, buyer, 1), "key tier")
    assert (key.tier.value, key.previous_tier) == ("key", None)
    assert (key.purchases, key.referrals) == (1, 0)
    assert key.service_spend == Money(amount=Decimal("3500.00"), currency="CNY")

    first, second = _referred(buyer), _referred(buyer)
    for created, converted in (first, second):
        await notifier.produce(created)
        await notifier.produce(converted)
    changes = await notifier.eventually(lambda: _changes(notifier, buyer, 2), "vip tier")
    assert len(changes) == 2  # the first converted referral changed nothing
    vip = changes[1]
    assert (vip.tier.value, vip.previous_tier.value, vip.referrals) == ("vip", "key", 2)

    body = await _tier(notifier, buyer)
    assert body["tier"] == "vip"
    assert (body["purchases"], body["referrals"]) == (1, 2)
    assert body["service_spend"] == {"amount": "3500.00", "currency": "CNY"}
    assert body["review_at"] == (START + timedelta(days=365)).isoformat().replace("+00:00", "Z")


async def test_spend_leaving_the_window_lowers_the_tier_on_time(notifier: Any) -> None:
    buyer = uuid.uuid4()
    await notifier.produce(_delivered(buyer))
    await notifier.produce(_handed_over(buyer, "3000.00"))
    await notifier.eventually(lambda: _changes(notifier, buyer, 1), "key tier")
    assert (await _tier(notifier, buyer))["tier"] == "key"

    notifier.clock.set(START + timedelta(days=365, minutes=1))
    changes = await notifier.eventually(lambda: _changes(notifier, buyer, 2), "back to regular")
    fallen = changes[1]
    assert (fallen.tier.value, fallen.previous_tier.value) == ("regular", "key")
    assert fallen.service_spend == Money(amount=Decimal("0"), currency="CNY")
    body = await _tier(notifier, buyer)
    assert (body["tier"], body["review_at"], body["purchases"]) == ("regular", None, 1)


async def test_a_customer_without_facts_is_regular(notifier: Any) -> None:
    body = await _tier(notifier, uuid.uuid4())
    assert (body["tier"], body["changed_at"], body["purchases"], body["referrals"]) == (
        "regular",
        None,
        0,
        0,
    )
    assert body["service_spend"] == {"amount": "0", "currency": "CNY"}
    assert (body["service_tier"], body["service_tier_changed_at"]) == (None, None)


def _service_tier(customer: uuid.UUID, tier: ServiceTier, at: datetime) -> ServiceTierChanged:
    return example_for(ServiceTierChanged).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "tier": tier,
            "occurred_at": at,
            "changed_at": at,
        }
    )


async def test_the_after_sales_tier_is_kept_newest_first(notifier: Any) -> None:
    customer = uuid.uuid4()
    later = START + timedelta(days=30)
    await notifier.produce(_service_tier(customer, ServiceTier.B, START))
    await notifier.produce(_service_tier(customer, ServiceTier.A, later))
    late = str(uuid.uuid4())
    await notifier.produce(_service_tier(customer, ServiceTier.C, START), event_id=late)

    async def late_handled() -> bool:
        sql = "SELECT 1 FROM inbox WHERE event_id = $1"
        return bool(await notifier.pool.fetchval(sql, late))

    await notifier.eventually(late_handled, "the late change handled")
    body = await _tier(notifier, customer)
    assert (body["service_tier"], body["tier"]) == ("A", "regular")  # the late C ignored
    assert datetime.fromisoformat(body["service_tier_changed_at"]) == later
    await notifier.produce(_delivered(customer))  # a later fact keeps the after-sales tier

    async def purchase_counted() -> bool:
        return bool((await _tier(notifier, customer))["purchases"] == 1)

    await notifier.eventually(purchase_counted, "the purchase counted")
    assert (await _tier(notifier, customer))["service_tier"] == "A"


async def _care_tasks(notifier: Any, customer: uuid.UUID, count: int) -> list[Any] | None:
    found = await notifier.tasks(customer_id=str(customer))
    kinds = {"delivery_callback", "service_callback"}
    care = sorted(((t["kind"], t["assignee"]) for t in found if t["kind"] in kinds), key=str)
    return care if len(care) >= count else None


async def test_a_vip_gets_the_managers_courtesy_calls(notifier: Any) -> None:
    vip, regular = uuid.uuid4(), uuid.uuid4()
    for _ in range(2):  # two converted referrals: VIP
        for event in _referred(vip):
            await notifier.produce(event)
    [change] = await notifier.eventually(lambda: _changes(notifier, vip, 1), "vip tier")
    assert change.tier == "vip"

    for customer in (vip, regular):
        await notifier.produce(_delivered(customer))
        await notifier.produce(_handed_over(customer, "100.00"))
    delivered, advisor = _delivered(vip), _handed_over(vip, "1").advisor_id
    assert await notifier.eventually(lambda: _care_tasks(notifier, vip, 4), "vip care") == sorted(
        [
            ("delivery_callback", delivered.consultant_id),
            ("delivery_callback", f"sales-manager:{DEALER}"),
            ("service_callback", advisor),
            ("service_callback", f"service-manager:{DEALER}"),
        ],
        key=str,
    )
    # a regular customer: the consultant's and the advisor's callbacks only
    assert await notifier.eventually(lambda: _care_tasks(notifier, regular, 2), "care") == sorted(
        [("delivery_callback", delivered.consultant_id), ("service_callback", advisor)], key=str
    )

    # the dealer that gives no courtesy calls: a VIP's care is the regular one
    notifier.configure(DEALER, {"policy": {"tiers": {"vip_manager_courtesy_calls": False}}})
    await notifier.produce(_delivered(vip))
    assert await notifier.eventually(lambda: _care_tasks(notifier, vip, 5), "again") == sorted(
        [
            ("delivery_callback", delivered.consultant_id),
            ("delivery_callback", delivered.consultant_id),
            ("delivery_callback", f"sales-manager:{DEALER}"),
            ("service_callback", advisor),
            ("service_callback", f"service-manager:{DEALER}"),
        ],
        key=str,
    )
