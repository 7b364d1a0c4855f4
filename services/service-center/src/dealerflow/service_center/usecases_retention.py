"""The daily retention scan (DOMAIN.md section 3): one durable timer per dealer (key
``retention-scan:<dealer>``), scheduled at start-up for every dealer known here
(:func:`plan_known_dealers_scans`: configured, or with a vehicle) and when a vehicle is
delivered or handed over (idempotent), re-scheduled by each run for the next day at
dealer-local 03:00.

A run looks at every vehicle of the dealer (repair orders and ``owned_vehicles``), in
keyset batches by VIN of the service's ``retention_scan_batch_size`` so no query reads
the whole dealer: no visit or delivery for ``service.at_risk_after_months`` ->
``CustomerAtRisk`` at_risk, for ``lost_after_months`` -> lost
(``domain.retention_status``), each level once per spell (``domain.retention_to_publish``;
``retention_levels`` remembers it, a later visit starts a new spell). The event carries
the after-sales tier, the last repair order's advisor and the latest contact known (the
last repair order's, or the delivery's). Then it re-evaluates the customers' after-sales
tiers (:mod:`usecases_tiers`, keyset batches by customer).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from dealerflow.contracts.enums import RetentionLevel
from dealerflow.contracts.events.service import CustomerAtRisk
from dealerflow.policy import DealerPolicy
from dealerflow.runtime import dealers
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.timers import Timer
from dealerflow.service_center import domain
from dealerflow.service_center import repository_retention as retention_repo
from dealerflow.service_center import usecases_tiers as tiers
from dealerflow.service_center.settings import ServiceCenterSettings

Uc = UseCaseContext[ServiceCenterSettings]

RETENTION_SCAN_TIMER_KIND = "retention-scan"
#: Dealer-local time of day the scan runs.
SCAN_AT = time(3, 0)


def retention_scan_key(dealer_id: str) -> str:
    return f"{RETENTION_SCAN_TIMER_KIND}:{dealer_id}"


async def schedule_retention_scan(uc: Uc, dealer_id: str) -> bool:
    """Plan the dealer's next scan at the next local 03:00 unless one is pending."""
    policy = await uc.policy(dealer_id)
    tz = policy.calendar.tz
    local_now = uc.now.astimezone(tz)
    at = datetime.combine(local_now.date(), SCAN_AT, tzinfo=tz)
    if at <= local_now:
        at = datetime.combine(local_now.date() + timedelta(days=1), SCAN_AT, tzinfo=tz)
    return await uc.schedule_timer(
        key=retention_scan_key(dealer_id),
        kind=RETENTION_SCAN_TIMER_KIND,
        dealer_id=dealer_id,
        due_at=at,
    )


async def plan_known_dealers_scans(uc: Uc) -> list[str]:
    """At start-up (acting for every dealer): the scan of every dealer known here, those a
    ``DealerConfigured`` named and those with a vehicle, planned unless one is pending;
    the dealers whose scan this planned."""
    known = sorted(
        set(await dealers.configured_dealers(uc.conn))
        | set(await retention_repo.known_dealers(uc.conn))
    )
    return [d for d in known if await schedule_retention_scan(uc, d)]


async def retention_scan(uc: Uc, timer: Timer) -> None:
    """The scan's day came: publish the levels reached since the last run and the
    customers' tiers that changed (keyset batches of ``retention_scan_batch_size``), plan
    the next."""
    dealer_id = timer.dealer_id
    policy = await uc.policy(dealer_id)
    tz = policy.calendar.tz
    today = uc.now.astimezone(tz).date()
    batch_size = uc.settings.retention_scan_batch_size
    after: str | None = None
    while True:
        batch = await retention_repo.vehicles_for_scan(
            uc.conn, dealer_id, after=after, limit=batch_size
        )
        published = await retention_repo.published_levels(
            uc.conn, dealer_id, [v.vin for v in batch]
        )
        for vehicle in batch:
            await _scan_vehicle(uc, dealer_id, vehicle, published.get(vehicle.vin), policy, today)
        if len(batch) < batch_size:
            break
        after = batch[-1].vin
    await tiers.rescan_customer_tiers(uc, dealer_id)
    await schedule_retention_scan(uc, dealer_id)


async def _scan_vehicle(
    uc: Uc,
    dealer_id: str,
    vehicle: retention_repo.VehicleForScan,
    before: retention_repo.PublishedLevel | None,
    policy: DealerPolicy,
    today: date,
) -> None:
    tz = policy.calendar.tz
    last_visit_at = max(
        [*vehicle.visits, *([vehicle.delivered_at] if vehicle.delivered_at else [])]
    )
    last_on = last_visit_at.astimezone(tz).date()
    status = domain.retention_status(last_on, today, policy.service)
    level = domain.retention_to_publish(
        status,
        last_visit_at,
        (domain.RetentionStatus(before.level), before.last_visit_at) if before else None,
    )
    if level is None:
        return
    await uc.publish(
        CustomerAtRisk(
            dealer_id=dealer_id,
            customer_id=vehicle.customer_id,
            occurred_at=uc.now,
            level=RetentionLevel(level.value),
            vin=vehicle.vin,
            last_visit_at=last_visit_at,
            months_since_last_visit=domain.whole_months_between(last_on, today),
            tier=domain.after_sales_tier(
                (v.astimezone(tz).date() for v in vehicle.visits), today, policy.service
            ),
            advisor_id=vehicle.advisor_id,
            detected_at=uc.now,
            contact=vehicle.contact,
        )
    )
    await retention_repo.save_published_level(
        uc.conn, dealer_id, vehicle.vin, level.value, last_visit_at, uc.now
    )
