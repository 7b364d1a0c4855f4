"""VehicleDelivered (sales or an outside DMS) on real Kafka -> service-center registers the
owner's vehicle and plans its first maintenance (DOMAIN.md 5,000 km or 6 months, reminded
14 days ahead): the timer publishes MaintenanceDue (first_maintenance); the owner's
erasure erases the registered contact. The delivery also schedules the dealer's daily
retention scan (next local 03:00, one pending): a vehicle not seen for 13 months is
published at risk once (the next day's run publishes nothing new), at 24 months lost;
each run plans the next day's."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from dealerflow.contracts.contact import ERASED_NAME
from dealerflow.contracts.enums import MaintenanceReason, RetentionLevel, ServiceTier
from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.events.service import CustomerAtRisk, MaintenanceDue
from dealerflow.contracts.examples import example_for
from dealerflow.devinfra.service_testing import (
    Outbox,
    RunningService,
    eventually,
    produce_event,
)
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.erasure import Erasure
from dealerflow.runtime.service import timer_handlers_of
from dealerflow.runtime.timers import TimerPoller
from dealerflow.service_center import timers
from dealerflow.service_center.usecases_erasure import erase_customer
from dealerflow.service_center.usecases_vehicles import NextMaintenance, vehicle_history

pytestmark = pytest.mark.integration

VIN = "LFV2A21K6D4123456"
DELIVERED_AT = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
AT_RISK_VIN = "LFV2A21K6D4654321"
LONG_AGO = datetime(2024, 2, 1, 2, 0, tzinfo=UTC)  # 13 months before the clock


def delivered_to_owner(vin: str, at: datetime, **more: object) -> VehicleDelivered:
    """VehicleDelivered of ``vin`` to a new customer of D001 at ``at``."""
    return example_for(VehicleDelivered).model_copy(
        update={
            "dealer_id": "D001",
            "customer_id": uuid.uuid4(),
            "vin": vin,
            "delivered_at": at,
            "occurred_at": at,
            **more,
        }
    )


async def test_a_delivered_vehicle_gets_its_first_maintenance_reminder(
    center: RunningService,
    producer: AIOKafkaProducer,
    clock: ManualClock,
    pg_pool: asyncpg.Pool,
    outbox: Outbox,
) -> None:
    # 100 km a day: 4,988 km to go in 50 days
    delivered = delivered_to_owner(VIN, DELIVERED_AT, odometer_km=12, expected_yearly_km=36_500)
    await produce_event(producer, center.topics, delivered)

    async def registered() -> asyncpg.Record | None:
        return await pg_pool.fetchrow(
            "SELECT v.first_due_on, v.first_due_km, t.due_at FROM owned_vehicles v"
            " JOIN timers t ON t.key = 'maintenance-due:D001:' || v.vin"
            " WHERE v.dealer_id = 'D001' AND v.vin = $1 AND t.status = 'pending'",
            VIN,
        )

    row = await eventually(registered, "the vehicle registered, its reminder planned")
    # by mileage before the 6 months are up; the 5,000 km reading, not 5,000 km more
    assert (row["first_due_on"], row["first_due_km"]) == (date(2025, 4, 22), 5000)
    assert row["due_at"] == datetime(2025, 4, 8, 1, 0, tzinfo=UTC)  # 09:00, 14 days ahead
    # before any visit, the vehicle's history shows the first maintenance the sale set
    history = await center.ctx.run_in_transaction(
        lambda uc: vehicle_history(uc, "D001", VIN), dealers=["D001"]
    )
    assert history.next_maintenance == NextMaintenance(date(2025, 4, 22), 5000, None)

    clock.set(row["due_at"])
    poller = TimerPoller(
        pg_pool, timer_handlers_of(center.ctx, timers.handlers(center.ctx)), clock=clock
    )

    async def fired() -> list[MaintenanceDue]:
        await poller.fire_due()
        return [e for e in await outbox.events() if isinstance(e, MaintenanceDue)]

    [event] = await eventually(fired, "MaintenanceDue published")
    assert (event.reason, event.vin, event.due_on, event.due_km) == (
        MaintenanceReason.FIRST_MAINTENANCE,
        VIN,
        date(2025, 4, 22),
        5000,
    )
    assert event.contact == delivered.contact
    assert event.declined_items_open == 0

    # the owner's erasure erases the registered contact (locale kept), once
    erasure = Erasure("erasure-1", "D001", delivered.customer_id, DELIVERED_AT)

    async def erase() -> dict[str, int]:
        return await center.ctx.run_in_transaction(
            lambda uc: erase_customer(uc, erasure), dealers=["D001"]
        )

    changed, again = await erase(), await erase()
    assert (changed["owned_vehicles"], again["owned_vehicles"]) == (1, 0)
    name = await pg_pool.fetchval("SELECT contact->>'name' FROM owned_vehicles WHERE vin = $1", VIN)
    assert name == ERASED_NAME


async def test_the_daily_scan_publishes_at_risk_once_then_lost(
    center: RunningService,
    producer: AIOKafkaProducer,
    clock: ManualClock,
    pg_pool: asyncpg.Pool,
) -> None:
    outbox = Outbox(pg_pool)
    delivered = delivered_to_owner(AT_RISK_VIN, LONG_AGO)
    await produce_event(producer, center.topics, delivered)

    async def scan_due() -> datetime | None:
        due: datetime | None = await pg_pool.fetchval(
            "SELECT max(due_at) FROM timers WHERE key = 'retention-scan:D001'"
            " AND status = 'pending' HAVING count(*) = 1"
        )
        return due

    due = await eventually(scan_due, "the dealer's retention scan scheduled")
    assert due == datetime(2025, 3, 3, 19, 0, tzinfo=UTC)  # 03:00 in Shanghai, next day
    poller = TimerPoller(
        pg_pool, timer_handlers_of(center.ctx, timers.handlers(center.ctx)), clock=clock
    )

    async def run_scan(at: datetime) -> list[CustomerAtRisk]:
        """The events this run published (the outbox prunes what the clock made old)."""
        clock.set(at)
        assert await poller.fire_due() >= 1  # the first maintenance reminder too, at first
        events = await outbox.events()
        return [e for e in events if isinstance(e, CustomerAtRisk) and e.detected_at == at]

    [at_risk] = await run_scan(due)
    assert (at_risk.level, at_risk.vin, at_risk.customer_id) == (
        RetentionLevel.AT_RISK,
        AT_RISK_VIN,
        delivered.customer_id,
    )
    assert (at_risk.months_since_last_visit, at_risk.last_visit_at) == (13, LONG_AGO)
    assert (at_risk.tier, at_risk.advisor_id) == (ServiceTier.D, None)  # never serviced
    assert at_risk.contact == delivered.contact

    # the next day's run: nothing new; it planned the day after
    next_due = await scan_due()
    assert next_due == datetime(2025, 3, 4, 19, 0, tzinfo=UTC)
    assert await run_scan(next_due) == []

    # 24 months without a visit: lost, once
    events = await run_scan(datetime(2026, 2, 2, 0, 0, tzinfo=UTC))
    assert [(e.level, e.months_since_last_visit) for e in events] == [(RetentionLevel.LOST, 24)]
    next_due = await scan_due()
    assert next_due == datetime(2026, 2, 2, 19, 0, tzinfo=UTC)
    assert await run_scan(next_due) == []
    level = "SELECT level FROM retention_levels WHERE dealer_id = 'D001' AND vin = $1"
    assert await pg_pool.fetchval(level, AT_RISK_VIN) == "lost"
