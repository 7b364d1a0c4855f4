"""The customer's after-sales tier (DOMAIN.md section 3: A >= 4 visits a year, B 2-3,
C 1, D none; the dealer's ``service.tier_min_visits_per_year``): computed over every
vehicle of the customer at the dealer (``domain.after_sales_tier``, visit days = repair
orders opened) and published as ``ServiceTierChanged`` when it differs from the tier
published before (``domain.tier_to_publish``; ``customer_tiers`` remembers it). Checked
at each handover (:func:`refresh_customer_tier`) and, since a year without a visit lowers
the tier with no event of its own, at the dealer's daily retention scan
(:func:`rescan_customer_tiers`, keyset batches by customer id). A customer is tiered from
their first repair order; an owner who only bought here is not tiered until a visit.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta, tzinfo

from dealerflow.contracts.events.service import ServiceTierChanged
from dealerflow.policy import ServicePolicy
from dealerflow.runtime.context import UseCaseContext
from dealerflow.service_center import domain
from dealerflow.service_center import repository_tiers as tiers_repo
from dealerflow.service_center.settings import ServiceCenterSettings

Uc = UseCaseContext[ServiceCenterSettings]

#: Visits older than this cannot count (a superset of the 12 months; the domain counts).
VISITS_READ_BACK = timedelta(days=370)


async def refresh_customer_tier(uc: Uc, dealer_id: str, customer_id: uuid.UUID) -> bool:
    """Publish the customer's tier if it changed (a handover); True if published."""
    policy = await uc.policy(dealer_id)
    tz = policy.calendar.tz
    customer = await tiers_repo.customer_visits(
        uc.conn, dealer_id, customer_id, uc.now - VISITS_READ_BACK
    )
    return await _publish_if_changed(
        uc, dealer_id, customer, policy.service, tz, uc.now.astimezone(tz).date()
    )


async def rescan_customer_tiers(uc: Uc, dealer_id: str) -> int:
    """Re-evaluate every tiered or visiting customer of the dealer, in keyset batches of
    ``settings.retention_scan_batch_size``; how many tiers changed."""
    policy = await uc.policy(dealer_id)
    tz = policy.calendar.tz
    today = uc.now.astimezone(tz).date()
    changed, after = 0, None
    while True:
        batch = await tiers_repo.customers_after(
            uc.conn,
            dealer_id,
            after,
            uc.now - VISITS_READ_BACK,
            uc.settings.retention_scan_batch_size,
        )
        for customer in batch:
            changed += await _publish_if_changed(uc, dealer_id, customer, policy.service, tz, today)
        if len(batch) < uc.settings.retention_scan_batch_size:
            return changed
        after = batch[-1].customer_id


async def _publish_if_changed(
    uc: Uc,
    dealer_id: str,
    customer: tiers_repo.CustomerVisits,
    service: ServicePolicy,
    tz: tzinfo,
    today: date,
) -> bool:
    days = [v.astimezone(tz).date() for v in customer.visits]
    tier = domain.tier_to_publish(domain.after_sales_tier(days, today, service), customer.published)
    if tier is None:
        return False
    visits = domain.visits_in_year(days, today)
    await uc.publish(
        ServiceTierChanged(
            dealer_id=dealer_id,
            customer_id=customer.customer_id,
            occurred_at=uc.now,
            tier=tier,
            previous_tier=customer.published,
            visits_last_12_months=visits,
            changed_at=uc.now,
        )
    )
    await tiers_repo.save_tier(uc.conn, dealer_id, customer.customer_id, tier, visits, uc.now)
    return True
