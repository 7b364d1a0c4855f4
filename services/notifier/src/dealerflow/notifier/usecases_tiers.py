"""Customer tiers: every fact event (purchase, paid service visit, converted referral) is
kept and the customer's tier reviewed; a change is published as CustomerTierChanged
through the outbox, in the fact's transaction. Rules: :mod:`domain_tiers`.

Spend leaving the window is reviewed by a durable timer per customer (``notifier.tier_review``,
due when the oldest counted spend drops out), so a tier falls on time without a scan of
every customer; a new fact moves the timer. A redelivered fact counts once and changes
nothing. The customer's ``customer_tiers`` row is locked while the tier is reviewed (two
facts at once publish one change).

The after-sales tier (A-D, service-center's ServiceTierChanged) is kept beside it in the
same row, newest change wins; the notifier does not compute it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dealerflow.contracts.enums import CustomerTier, ServiceTier
from dealerflow.contracts.events.notifier import CustomerTierChanged
from dealerflow.contracts.types import Money
from dealerflow.notifier import domain_tiers
from dealerflow.notifier import repository_tiers as repo
from dealerflow.notifier.domain_tiers import (
    TIER_REVIEW,
    ConversionFacts,
    PurchaseFacts,
    ReferralFacts,
    ServicePaidFacts,
    TierStanding,
)
from dealerflow.notifier.domain_types import PlannedReminder, PlannedTask, StaffRole
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.timers import NewTimer

Uc = UseCaseContext[NotifierSettings]


@dataclass(frozen=True, slots=True)
class CustomerTierView:
    """A customer's published tier and its basis now (GET /v1/customers/{id}/tier)."""

    dealer_id: str
    customer_id: uuid.UUID
    tier: CustomerTier
    changed_at: datetime | None
    standing: TierStanding
    spend_currency: str
    spend_window: timedelta
    service_tier: ServiceTier | None = None
    service_tier_changed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ServiceTierFacts:
    """What the notifier keeps of ServiceTierChanged."""

    dealer_id: str
    customer_id: uuid.UUID
    tier: ServiceTier
    visits_last_12_months: int
    changed_at: datetime


async def on_service_tier_changed(uc: Uc, facts: ServiceTierFacts) -> bool:
    """Keep the customer's after-sales tier; False when a newer change is stored."""
    return await repo.save_service_tier(
        uc.conn,
        facts.dealer_id,
        facts.customer_id,
        tier=facts.tier,
        visits_12_months=facts.visits_last_12_months,
        changed_at=facts.changed_at,
    )


async def on_purchases(purchases: Sequence[tuple[Uc, PurchaseFacts]]) -> None:
    """Delivered vehicles count for their buyers, each in the context of its event; the
    buyers whose fact is new are reviewed (`review_tiers`: each customer at most once in
    ``purchases``)."""
    if not purchases:
        return
    conn = purchases[0][0].conn
    new = await repo.record_facts(
        conn,
        [
            repo.NewFact(
                facts.dealer_id,
                facts.customer_id,
                kind=repo.PURCHASE,
                source_id=facts.delivery_id,
                counts_from=facts.delivered_at,
                recorded_at=uc.now,
            )
            for uc, facts in purchases
        ],
    )
    counted = [
        (uc, f.dealer_id, f.customer_id) for (uc, f), n in zip(purchases, new, strict=True) if n
    ]
    await review_tiers(counted)


async def on_services_paid(paid: Sequence[tuple[Uc, ServicePaidFacts]]) -> None:
    """Settled handovers count as service spend (nothing settled: nothing to count), each
    in the context of its event; the customers whose fact is new are reviewed
    (`review_tiers`: each customer at most once in ``paid``)."""
    settled = [(uc, f) for uc, f in paid if f.amount and f.currency is not None]
    if not settled:
        return
    new = await repo.record_facts(
        settled[0][0].conn,
        [
            repo.NewFact(
                facts.dealer_id,
                facts.customer_id,
                kind=repo.SERVICE_SPEND,
                source_id=facts.repair_order_id,
                counts_from=facts.handed_over_at,
                recorded_at=uc.now,
                amount=facts.amount,
                currency=facts.currency,
            )
            for uc, facts in settled
        ],
    )
    await review_tiers(
        [(uc, f.dealer_id, f.customer_id) for (uc, f), n in zip(settled, new, strict=True) if n]
    )


async def on_referral(uc: Uc, facts: ReferralFacts) -> None:
    """Remember who referred the lead; it counts for the referrer once the lead converts."""
    if facts.referrer_id == facts.referred_customer_id:
        return  # nobody refers themselves
    await repo.record_fact(
        uc.conn,
        facts.dealer_id,
        facts.referrer_id,
        kind=repo.REFERRAL,
        source_id=facts.lead_id,
        counts_from=None,
        recorded_at=uc.now,
    )


async def on_lead_converted(uc: Uc, facts: ConversionFacts) -> None:
    """A referred lead bought: the referral counts for its referrer."""
    referrer = await repo.count_referral(
        uc.conn, facts.dealer_id, facts.lead_id, facts.converted_at
    )
    if referrer is not None:
        await review_tier(uc, facts.dealer_id, referrer)


async def fire_tier_review(uc: Uc, dealer_id: str, payload: Mapping[str, Any]) -> None:
    """The review timer: counted spend left the window."""
    await review_tier(uc, dealer_id, uuid.UUID(str(payload["customer_id"])))


async def review_tier(uc: Uc, dealer_id: str, customer_id: uuid.UUID) -> TierStanding:
    """The customer's tier now (`review_tiers` of one)."""
    return (await review_tiers([(uc, dealer_id, customer_id)]))[0]


async def review_tiers(reviews: Sequence[tuple[Uc, str, uuid.UUID]]) -> list[TierStanding]:
    """Each customer's tier now, reviewed in the context ``uc`` given with it (distinct
    customers): CustomerTierChanged when it changed; the next review planned when counted
    spend will leave the window. One statement per table for all of them."""
    if not reviews:
        return []
    first = reviews[0][0]
    customers = [(dealer_id, customer_id) for _, dealer_id, customer_id in reviews]
    known_tiers = await repo.lock_tiers(first.conn, customers)
    facts = await repo.facts_of_customers(first.conn, customers)
    standings: list[TierStanding] = []
    saved: list[repo.ReviewedTier] = []
    timers: list[NewTimer] = []
    for (uc, dealer_id, customer_id), customer in zip(reviews, customers, strict=True):
        known = known_tiers[customer]
        policy = (await uc.policy(dealer_id)).tiers
        standing = domain_tiers.tier_of(facts[customer], policy, uc.now)
        tier, changed_at = known.tier, known.changed_at
        if domain_tiers.tier_changed(known.tier, standing):
            await uc.publish(
                CustomerTierChanged(
                    dealer_id=dealer_id,
                    customer_id=customer_id,
                    occurred_at=uc.now,
                    tier=standing.tier,
                    previous_tier=known.tier,
                    purchases=standing.purchases,
                    service_spend=Money(
                        amount=standing.service_spend, currency=policy.spend_currency
                    ),
                    referrals=standing.referrals,
                    changed_at=uc.now,
                )
            )
            tier, changed_at = standing.tier, uc.now
        saved.append(repo.ReviewedTier(dealer_id, customer_id, tier, changed_at, uc.now))
        if standing.review_at is not None:
            timers.append(
                NewTimer(
                    key=domain_tiers.tier_review_key(dealer_id, customer_id),
                    kind=TIER_REVIEW,
                    dealer_id=dealer_id,
                    due_at=standing.review_at,
                    payload={"customer_id": str(customer_id)},
                )
            )
        standings.append(standing)
    await repo.save_tiers(first.conn, saved)
    # the next review replaces a pending one
    await first.cancel_timers_keyed([domain_tiers.tier_review_key(*c) for c in customers])
    await first.schedule_timers(timers)
    return standings


async def customer_tier(uc: Uc, dealer_id: str, customer_id: uuid.UUID) -> CustomerTierView:
    """The customer's published tier (regular for a customer never tiered) and the facts
    it rests on, counted now."""
    known = await repo.known_tier(uc.conn, dealer_id, customer_id)
    policy = (await uc.policy(dealer_id)).tiers
    standing = domain_tiers.tier_of(
        await repo.facts_of(uc.conn, dealer_id, customer_id), policy, uc.now
    )
    return CustomerTierView(
        dealer_id=dealer_id,
        customer_id=customer_id,
        tier=(known.tier if known else None) or CustomerTier.REGULAR,
        changed_at=known.changed_at if known else None,
        standing=standing,
        spend_currency=policy.spend_currency,
        spend_window=policy.service_spend_window,
        service_tier=known.service_tier if known else None,
        service_tier_changed_at=known.service_tier_changed_at if known else None,
    )


async def courtesy_calls_of(
    groups: Sequence[tuple[Uc, Sequence[PlannedTask]]], manager: StaffRole
) -> list[list[PlannedTask]]:
    """Per (context, callbacks) the manager's courtesy call tasks for the callbacks of a
    VIP customer (the tier published when the care is planned; regular and key customers
    get none), the tiers read with one statement."""
    wanted = [(c.dealer_id, c.customer_id) for _, callbacks in groups for c in callbacks]
    if not wanted:
        return [[] for _ in groups]
    known = await repo.known_tiers(groups[0][0].conn, wanted)
    planned: list[list[PlannedTask]] = []
    for uc, callbacks in groups:
        calls = []
        for callback in callbacks:
            tier = known.get((callback.dealer_id, callback.customer_id))
            policy = (await uc.policy(callback.dealer_id)).tiers
            courtesy = domain_tiers.courtesy_call(
                callback, tier.tier if tier else None, policy, manager
            )
            if courtesy is not None:
                calls.append(courtesy)
        planned.append(calls)
    return planned


async def maintenance_calls(uc: Uc, reminder: PlannedReminder) -> list[PlannedTask]:
    """The advisors' call task beside a maintenance reminder, for a customer whose
    after-sales tier (the last ServiceTierChanged) the dealer names; else none."""
    known = await repo.known_tier(uc.conn, reminder.dealer_id, reminder.customer_id)
    policy = (await uc.policy(reminder.dealer_id)).tiers
    call = domain_tiers.maintenance_call(reminder, known.service_tier if known else None, policy)
    return [call] if call is not None else []
