"""The daily retention scan on real PostgreSQL: planned at start-up for every dealer known
here (configured, or with a vehicle; again at each restart without a second timer), and
reading the dealer's vehicles and customers in keyset batches, so every one is scanned
whatever the batch size."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from dealerflow.contracts.enums import RetentionLevel, ServiceTier
from dealerflow.contracts.events.service import CustomerAtRisk, ServiceTierChanged
from dealerflow.devinfra.service_testing import Outbox, configure_dealer, running_service
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.service import timer_handlers_of
from dealerflow.runtime.timers import TimerPoller
from dealerflow.service_center import timers
from dealerflow.service_center.app import DEFINITION
from dealerflow.service_center.settings import ServiceCenterSettings

pytestmark = pytest.mark.integration

VINS = ["LSVAU2180N2183301", "LSVAU2180N2183302", "LSVAU2180N2183303"]
PENDING_SCANS = (
    "SELECT dealer_id, count(*) AS n FROM timers WHERE kind = 'retention-scan'"
    " AND status = 'pending' GROUP BY dealer_id ORDER BY dealer_id"
)


async def test_start_up_plans_every_known_dealers_scan_and_the_scan_pages_through_all(
    center_settings: ServiceCenterSettings,
    clock: ManualClock,
    pg_pool: asyncpg.Pool,
    ro_body: Callable[..., dict[str, Any]],
) -> None:
    settings = center_settings.model_copy(update={"retention_scan_batch_size": 2})
    async with running_service(DEFINITION, settings, clock=clock, run_background=False) as center:
        await configure_dealer(pg_pool, "D009")  # configured, no vehicle yet
        for n, vin in enumerate(VINS):
            customer = {
                "name": f"客户{n}",
                "phone": f"+86 139 0013 910{n}",
                "consent": {"service": True, "marketing": False},
            }
            opened = await center.client.post(
                "/v1/repair-orders", json=ro_body(vin=vin, customer=customer)
            )
            assert opened.status_code == 201, opened.text
        other = await center.client.post(
            "/v1/repair-orders", json=ro_body(dealer_id="D002", vin="LSVAU2180N2183399")
        )
        assert other.status_code == 201, other.text
    assert await pg_pool.fetch(PENDING_SCANS) == []  # opening a repair order plans none

    # the running service plans them at start-up, once however often it starts
    for _ in range(2):
        async with running_service(DEFINITION, settings, clock=clock) as center:
            found = {r["dealer_id"]: r["n"] for r in await pg_pool.fetch(PENDING_SCANS)}
            assert found == {"D001": 1, "D002": 1, "D009": 1}

    # 13 months on, the scans find every vehicle and customer, in batches of two
    async with running_service(DEFINITION, settings, clock=clock, run_background=False) as center:
        clock.set(datetime(2026, 4, 4, 0, 0, tzinfo=UTC))
        poller = TimerPoller(
            pg_pool, timer_handlers_of(center.ctx, timers.handlers(center.ctx)), clock=clock
        )
        while await poller.fire_due() > 0:
            pass
    events = await Outbox(pg_pool).events()
    at_risk = sorted((e.dealer_id, e.vin or "") for e in events if isinstance(e, CustomerAtRisk))
    assert at_risk == [("D001", vin) for vin in VINS] + [("D002", "LSVAU2180N2183399")]
    assert {e.level for e in events if isinstance(e, CustomerAtRisk)} == {RetentionLevel.AT_RISK}
    tiers = [e for e in events if isinstance(e, ServiceTierChanged)]
    assert sorted(e.dealer_id for e in tiers) == ["D001"] * 3 + ["D002"]
    assert len({e.customer_id for e in tiers if e.dealer_id == "D001"}) == 3
    # tiered at the scan, a year after their only visit
    assert {(e.tier, e.previous_tier, e.visits_last_12_months) for e in tiers} == {
        (ServiceTier.D, None, 0)
    }
    # and the next day's scans are planned, D009's too
    found = {r["dealer_id"]: r["n"] for r in await pg_pool.fetch(PENDING_SCANS)}
    assert found == {"D001": 1, "D002": 1, "D009": 1}
