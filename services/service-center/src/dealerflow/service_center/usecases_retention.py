"""The daily retention scan (DOMAIN.md section 3): one durable timer per dealer (key
``retention-scan:<dealer>``), first scheduled when the dealer's first vehicle is delivered
or handed over (idempotent), re-scheduled by each run for the next day at dealer-local
03:00. A run looks at every vehicle of the dealer (repair orders and ``owned_vehicles``):
no visit or delivery for ``service.at_risk_after_months`` -> ``CustomerAtRisk`` at_risk,
for ``lost_after_months`` -> lost (``domain.retention_status``), each level once per
spell (``domain.retention_to_publish``; ``retention_levels`` remembers it, a later visit
starts a new spell). The event carries the after-sales tier, the last repair order's
advisor and the latest contact known (the last repair order's, or the delivery's).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from dealerflow.contracts.enums import RetentionLevel
from dealerflow.contracts.events.service import CustomerAtRisk
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


async def retention_scan(uc: Uc, timer: Timer) -> None:
    """The scan's day came: publish the levels reached since the last run, plan the next."""
    dealer_id = timer.dealer_id
    policy = await uc.policy(dealer_id)
    tz = policy.calendar.tz
    today = uc.now.astimezone(tz).date()
    published = await retention_repo.published_levels(uc.conn, dealer_id)
    for vehicle in await retention_repo.vehicles_for_scan(uc.conn, dealer_id):
        last_visit_at = max(
            [*vehicle.visits, *([vehicle.delivered_at] if vehicle.delivered_at else [])]
        )
        last_on = last_visit_at.astimezone(tz).date()
        status = domain.retention_status(last_on, today, policy.service)
        before = published.get(vehicle.vin)
        level = domain.retention_to_publish(
            status,
            last_visit_at,
            (domain.RetentionStatus(before.level), before.last_visit_at) if before else None,
        )
        if level is None:
            continue
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
    await tiers.rescan_customer_tiers(uc, dealer_id)
    await schedule_retention_scan(uc, dealer_id)
