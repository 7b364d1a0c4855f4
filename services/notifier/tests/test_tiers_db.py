"""The tier use cases against a real PostgreSQL schema (no Kafka): facts count once, only
a change is published, a referral counts for its referrer once its lead converts, the
review timer follows the oldest counted spend, and the dealer's thresholds apply."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from dealerflow.notifier import usecases_tiers
from dealerflow.notifier.domain_tiers import (
    ConversionFacts,
    PurchaseFacts,
    ReferralFacts,
    ServicePaidFacts,
    tier_review_key,
)
from dealerflow.runtime.db import transaction

from . import one_event

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
DEALER = "D001"


async def run(db: Any, work: Any) -> Any:
    async with transaction(db.pool) as conn:
        return await work(db.use_case(conn))


def purchase(customer: uuid.UUID, delivery_id: str = "DL-1") -> PurchaseFacts:
    return PurchaseFacts(DEALER, customer, delivery_id, START)


def paid(customer: uuid.UUID, amount: str | None, ro: str = "RO-1", days_ago: int = 0) -> Any:
    at = START - timedelta(days=days_ago)
    return ServicePaidFacts(DEALER, customer, ro, at, Decimal(amount) if amount else None, "CNY")


async def review_timers(db: Any) -> dict[str, datetime]:
    async with db.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT key, due_at FROM timers WHERE status = 'pending' AND kind = $1",
            "notifier.tier_review",
        )
    return {r["key"]: r["due_at"] for r in rows}


async def test_facts_count_once_and_only_a_change_is_published(db: Any) -> None:
    buyer = uuid.uuid4()
    await run(db, lambda uc: one_event.on_purchase(uc, purchase(buyer)))
    await run(db, lambda uc: one_event.on_service_paid(uc, paid(buyer, None, "RO-0")))
    assert db.of_type("CustomerTierChanged") == []  # regular at first is no news
    for _ in range(2):  # the same handover twice
        await run(db, lambda uc: one_event.on_service_paid(uc, paid(buyer, "1500", "RO-1")))
    assert db.of_type("CustomerTierChanged") == []  # 1500 < 3000
    await run(db, lambda uc: one_event.on_service_paid(uc, paid(buyer, "1500", "RO-2", 30)))
    [key] = db.of_type("CustomerTierChanged")
    assert (key.tier.value, key.previous_tier, key.service_spend.amount) == ("key", None, 3000)
    await run(db, lambda uc: one_event.on_purchase(uc, purchase(buyer)))  # redelivered
    assert len(db.of_type("CustomerTierChanged")) == 1
    # the review follows the oldest counted spend (30 days old: out in 335 days)
    due = START - timedelta(days=30) + timedelta(days=365)
    assert (await review_timers(db))[tier_review_key(DEALER, buyer)] == due


async def test_a_referral_counts_for_the_referrer_once_its_lead_converts(db: Any) -> None:
    referrer, friend = uuid.uuid4(), uuid.uuid4()
    await run(db, lambda uc: one_event.on_purchase(uc, purchase(referrer, "DL-R")))
    await run(
        db,
        lambda uc: usecases_tiers.on_referral(uc, ReferralFacts(DEALER, referrer, friend, "L-9")),
    )
    itself = ReferralFacts(DEALER, friend, friend, "L-10")
    await run(db, lambda uc: usecases_tiers.on_referral(uc, itself))
    assert db.of_type("CustomerTierChanged") == []  # not bought yet
    converted = ConversionFacts(DEALER, "L-9", START)
    for _ in range(2):  # converted twice: counted once
        await run(db, lambda uc: usecases_tiers.on_lead_converted(uc, converted))
    await run(
        db, lambda uc: usecases_tiers.on_lead_converted(uc, ConversionFacts(DEALER, "L-10", START))
    )
    [changed] = db.of_type("CustomerTierChanged")
    assert (changed.customer_id, changed.tier.value, changed.referrals) == (referrer, "key", 1)
    view = await run(db, lambda uc: usecases_tiers.customer_tier(uc, DEALER, friend))
    assert (view.tier.value, view.standing.referrals) == ("regular", 0)


async def test_the_dealer_s_thresholds_apply(db: Any) -> None:
    db.configure(DEALER, {"policy": {"tiers": {"vip_min_purchases": 1}}})
    buyer = uuid.uuid4()
    await run(db, lambda uc: one_event.on_purchase(uc, purchase(buyer, "DL-V")))
    [vip] = db.of_type("CustomerTierChanged")
    assert (vip.tier.value, vip.purchases) == ("vip", 1)
    assert tier_review_key(DEALER, buyer) not in await review_timers(db)  # no spend: no review
