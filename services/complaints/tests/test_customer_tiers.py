"""Customer tiers (issue 13): complaints consumes the notifier's CustomerTierChanged from
Kafka into customer_tiers; a complaint opened afterwards takes the tier (detail,
ComplaintOpened.customer_tier) and gets the dealer's shorter acknowledge, first-update
and resolve clocks, the legal inform clock unchanged (real PostgreSQL and Kafka)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from dealerflow.contracts.enums import CustomerTier
from dealerflow.contracts.events.complaints import ComplaintOpened
from dealerflow.contracts.events.notifier import CustomerTierChanged
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

DEALER = "sh-pudong-01"


def tier_changed(customer: uuid.UUID, tier: CustomerTier, at: Any) -> CustomerTierChanged:
    return example_for(CustomerTierChanged).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "tier": tier,
            "changed_at": at,
            "occurred_at": at,
        }
    )


async def _tier_event(harness: Any, event: CustomerTierChanged, event_id: str) -> None:
    await harness.produce(event, event_id=event_id)
    await harness.handled(event_id)


async def test_a_vip_complaint_gets_shorter_clocks_but_the_same_legal_deadline(
    harness: Any,
) -> None:
    vip, regular = uuid.uuid4(), uuid.uuid4()
    start = harness.start
    await _tier_event(harness, tier_changed(vip, CustomerTier.KEY, start - timedelta(days=9)), "t1")
    await _tier_event(harness, tier_changed(vip, CustomerTier.VIP, start - timedelta(days=2)), "t2")
    # a change older than the stored one (late, out of order) does not win
    await _tier_event(
        harness, tier_changed(vip, CustomerTier.REGULAR, start - timedelta(days=5)), "t3"
    )
    stored = await harness.db(
        "SELECT tier FROM customer_tiers WHERE dealer_id = $1 AND customer_id = $2", DEALER, vip
    )
    assert [r["tier"] for r in stored] == ["vip"]

    # critical: 30 min / 4 h / 24 h wall time; a VIP's run at half (default factor 0.5)
    opened_vip = await harness.open_complaint(customer_id=str(vip), severity="critical")
    opened_regular = await harness.open_complaint(customer_id=str(regular), severity="critical")
    assert (opened_vip["customer_tier"], opened_regular["customer_tier"]) == ("vip", "regular")
    vip_clocks = harness.clocks_by_kind(opened_vip)
    regular_clocks = harness.clocks_by_kind(opened_regular)
    assert {k: c["sla_seconds"] for k, c in vip_clocks.items()} == {
        "acknowledge:0": 15 * 60,
        "first_update:0": 2 * 3600,
        "resolve:0": 12 * 3600,
        "inform:0": regular_clocks["inform:0"]["sla_seconds"],
    }
    assert vip_clocks["inform:0"]["due_at"] == regular_clocks["inform:0"]["due_at"]
    assert regular_clocks["acknowledge:0"]["sla_seconds"] == 30 * 60
    pending = await harness.pending_timers(f"complaint:{opened_vip['id']}:clock:acknowledge:")
    assert [r["due_at"] for r in pending] == [start + timedelta(minutes=15)]

    await harness.complaints_events(
        lambda seen: harness.seen_of(ComplaintOpened, opened_regular["id"]),
        what="both ComplaintOpened",
    )
    [event] = harness.seen_of(ComplaintOpened, opened_vip["id"])
    assert event.customer_tier == CustomerTier.VIP
    assert event.acknowledge_due_at == start + timedelta(minutes=15)
    assert harness.seen_of(ComplaintOpened, opened_regular["id"])[0].customer_tier == "regular"

    # the dealer's own factors apply from the next complaint on; a breach re-arms the
    # shortened period; an open complaint keeps the clocks it was opened with
    harness.configure(DEALER, {"policy": {"complaints": {"tier_sla_factors": {"vip": "0.25"}}}})
    later = await harness.open_complaint(customer_id=str(vip), severity="critical")
    assert harness.clocks_by_kind(later)["resolve:0"]["sla_seconds"] == 6 * 3600
    harness.clock.advance(timedelta(minutes=16))
    await harness.fire_due()
    ack = harness.clocks_by_kind(await harness.detail(opened_vip["id"]))["acknowledge:0"]
    assert (ack["breaches"], ack["sla_seconds"]) == (1, 15 * 60)
    assert ack["due_at"].startswith("2025-03-05T02:31")  # re-armed: 15 min from the breach
