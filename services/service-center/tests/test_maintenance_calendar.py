"""The maintenance calendar on real PostgreSQL: a handover plans the vehicle's next
maintenance as a durable timer that publishes MaintenanceDue 14 days ahead (once; moved
by a later handover), and a check-in before it fires makes it obsolete. The handover
also plans the dealer's daily retention scan: 13 months later CustomerAtRisk names the
last advisor; a visit starts a new spell. Handovers and the scan publish the customer's
after-sales tier when it changes (ServiceTierChanged)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from dealerflow.contracts.enums import RetentionLevel, ServiceTier
from dealerflow.contracts.events.service import CustomerAtRisk, MaintenanceDue, ServiceTierChanged
from dealerflow.devinfra.service_testing import Outbox, RunningService, running_service
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.service import timer_handlers_of
from dealerflow.runtime.timers import TimerPoller
from dealerflow.service_center import timers
from dealerflow.service_center.app import DEFINITION
from dealerflow.service_center.settings import ServiceCenterSettings

pytestmark = pytest.mark.integration

Body = Callable[..., dict[str, Any]]
Step = Callable[..., Any]

VIN = "LSVAU2180N2183294"
KEY = f"maintenance-due:D001:{VIN}"
COMPLETE = {"technician_ids": ["tech-sun"], "work_summary": "oil", "labour_hours": "1.0"}
LINES = [
    {"item_id": "L1", "kind": "labour", "description": "Oil change", "labour_hours": "1.0"},
    {
        "item_id": "P2",
        "kind": "part",
        "description": "Wipers",
        "part_number": "WB-7",
        "unit_price": "80.00",
    },
]


@pytest.fixture
async def center(
    center_settings: ServiceCenterSettings, clock: ManualClock
) -> AsyncIterator[RunningService]:
    async with running_service(
        DEFINITION, center_settings, clock=clock, run_background=False
    ) as running:
        yield running


@pytest.fixture
def api(center: RunningService) -> httpx.AsyncClient:
    return center.client


async def fire_due(center: RunningService, pool: asyncpg.Pool, clock: ManualClock) -> int:
    poller = TimerPoller(
        pool, timer_handlers_of(center.ctx, timers.handlers(center.ctx)), clock=clock
    )
    count = "SELECT count(*) FROM timers WHERE kind = 'maintenance-due' AND status = 'fired'"
    before = await pool.fetchval(count)
    while await poller.fire_due() > 0:
        pass
    return int(await pool.fetchval(count)) - int(before)  # the daily retention scan aside


async def serviced(
    api: httpx.AsyncClient, ro_body: Body, workflow: Step, km: int, vin: str = VIN
) -> Any:
    opened = await api.post("/v1/repair-orders", json=ro_body(mileage_km=km, vin=vin))
    assert opened.status_code == 201, opened.text
    ro_id = opened.json()["repair_order_id"]
    await workflow(ro_id, "diagnosis", technician_id="tech-sun", findings=["oil due"])
    quoted = await workflow(ro_id, "quote", lines=LINES)
    assert quoted.status_code == 200, quoted.text
    approved = await workflow(
        ro_id, "approve", approved_item_ids=["L1"], declined_item_ids=["P2"], method="wechat"
    )
    assert approved.status_code == 200, approved.text
    await workflow(ro_id, "complete", **COMPLETE)
    await workflow(ro_id, "quality-check", inspector_id="qc-qian", passed=True)
    handed = await workflow(
        ro_id,
        "handover",
        mileage_km=km,
        amount_paid={"amount": "300.00", "currency": "CNY"},
        invoice_number=f"SV-{km}",
    )
    assert handed.status_code == 200, handed.text
    return handed.json()


async def pending(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT due_at FROM timers WHERE key = $1 AND status = 'pending'", KEY)


async def test_handover_plans_maintenance_due_fourteen_days_ahead(
    center: RunningService,
    api: httpx.AsyncClient,
    ro_body: Body,
    workflow: Step,
    clock: ManualClock,
    pg_pool: asyncpg.Pool,
    outbox: Outbox,
) -> None:
    handed = await serviced(api, ro_body, workflow, 20000)
    due_on = date.fromisoformat(handed["next_maintenance_due_on"])
    [timer] = await pending(pg_pool)
    tz = ZoneInfo("Asia/Shanghai")  # the default dealer calendar
    assert timer["due_at"].astimezone(tz).date() == due_on - timedelta(days=14)

    clock.advance(timer["due_at"] - clock.now() - timedelta(minutes=1))
    assert await fire_due(center, pg_pool, clock) == 0  # not yet
    clock.advance(timedelta(minutes=2))
    assert await fire_due(center, pg_pool, clock) == 1
    [event] = [e for e in await outbox.events() if isinstance(e, MaintenanceDue)]
    assert (event.vin, event.due_on, event.due_km) == (
        VIN,
        due_on,
        handed["next_maintenance_due_km"],
    )
    assert event.contact.name == "张伟"
    assert event.declined_items_open == 1  # the wipers come back with the reminder
    clock.advance(timedelta(days=30))
    assert await fire_due(center, pg_pool, clock) == 0  # once per due


async def test_check_in_before_the_reminder_makes_it_obsolete_and_its_handover_moves_it(
    center: RunningService,
    api: httpx.AsyncClient,
    ro_body: Body,
    workflow: Step,
    clock: ManualClock,
    pg_pool: asyncpg.Pool,
    outbox: Outbox,
) -> None:
    await serviced(api, ro_body, workflow, 20000)
    [first] = await pending(pg_pool)
    clock.advance(timedelta(days=60))
    opened = await api.post("/v1/repair-orders", json=ro_body(mileage_km=23000))
    assert opened.status_code == 201, opened.text
    assert await pending(pg_pool) == []  # the visit makes the reminder obsolete
    clock.advance(first["due_at"] - clock.now() + timedelta(days=1))
    assert await fire_due(center, pg_pool, clock) == 0
    assert [e for e in await outbox.events() if isinstance(e, MaintenanceDue)] == []

    await serviced(api, ro_body, workflow, 24000)  # the next visit plans the next one
    [moved] = await pending(pg_pool)
    assert moved["due_at"] > first["due_at"]


async def test_the_retention_scan_calls_for_the_last_advisor_and_a_visit_starts_a_new_spell(
    center: RunningService,
    pg_pool: asyncpg.Pool,
    clock: ManualClock,
    api: httpx.AsyncClient,
    ro_body: Body,
    workflow: Step,
) -> None:
    outbox = Outbox(pg_pool)
    first_visit = clock.now()
    await serviced(api, ro_body, workflow, 20000)  # the handover plans the dealer's scan
    scans = "SELECT count(*) FROM timers WHERE key = 'retention-scan:D001' AND status = 'pending'"
    assert await pg_pool.fetchval(scans) == 1

    async def scan_at(at: datetime) -> list[CustomerAtRisk]:
        clock.set(at)
        await fire_due(center, pg_pool, clock)
        events = await outbox.events()
        return [e for e in events if isinstance(e, CustomerAtRisk) and e.detected_at == at]

    thirteen_months = datetime(2026, 4, 4, 0, 0, tzinfo=UTC)
    [event] = await scan_at(thirteen_months)
    assert (event.level, event.vin, event.advisor_id) == (
        RetentionLevel.AT_RISK,
        VIN,
        "advisor-zhao",
    )
    assert (event.months_since_last_visit, event.last_visit_at) == (13, first_visit)
    assert event.tier == ServiceTier.D  # no visit in the last 12 months

    # the customer comes back: a new spell, at risk again 12 months after that visit
    await serviced(api, ro_body, workflow, 40000)
    assert await scan_at(datetime(2027, 3, 1, 0, 0, tzinfo=UTC)) == []
    [again] = await scan_at(datetime(2027, 4, 5, 0, 0, tzinfo=UTC))
    assert (again.level, again.months_since_last_visit) == (RetentionLevel.AT_RISK, 12)
    assert again.last_visit_at == thirteen_months


async def test_handovers_and_the_scan_publish_the_customers_tier_when_it_changes(
    center: RunningService,
    pg_pool: asyncpg.Pool,
    clock: ManualClock,
    api: httpx.AsyncClient,
    ro_body: Body,
    workflow: Step,
) -> None:
    outbox = Outbox(pg_pool)

    async def changes() -> list[tuple[ServiceTier, ServiceTier | None, int]]:
        return [
            (e.tier, e.previous_tier, e.visits_last_12_months)
            for e in await outbox.events()
            if isinstance(e, ServiceTierChanged)
        ]

    await serviced(api, ro_body, workflow, 20000)
    assert await changes() == [(ServiceTier.C, None, 1)]  # the first tier
    await serviced(api, ro_body, workflow, 20100)  # the same day: still one visit
    assert len(await changes()) == 1
    clock.advance(timedelta(days=40))
    # another of the customer's vehicles counts too: two visit days, tier B
    await serviced(api, ro_body, workflow, 5000, vin="LSVAU2180N2183295")
    assert (await changes())[1:] == [(ServiceTier.B, ServiceTier.C, 2)]

    # a year without a visit: the daily scan lowers the tier, once
    clock.set(datetime(2026, 4, 20, 0, 0, tzinfo=UTC))
    await fire_due(center, pg_pool, clock)
    assert (await changes())[2:] == [(ServiceTier.D, ServiceTier.B, 0)]
    clock.advance(timedelta(days=1))
    await fire_due(center, pg_pool, clock)
    assert len(await changes()) == 3
    [stored] = await pg_pool.fetch("SELECT tier, visits_last_12_months FROM customer_tiers")
    assert (stored["tier"], stored["visits_last_12_months"]) == ("D", 0)
