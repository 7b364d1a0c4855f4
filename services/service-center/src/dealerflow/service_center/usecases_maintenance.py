"""The maintenance calendar of a vehicle serviced here: each handover plans its next
maintenance (``domain.next_maintenance_after_visit``, set on the repair order and on
VehicleHandedOver), and a durable timer publishes ``MaintenanceDue`` the dealer's
``owner_care.first_maintenance_remind_before`` ahead of the due date
(``domain.maintenance_reminder_on``, DOMAIN.md default 14 days).

One timer per dealer and VIN (key ``maintenance-due:<dealer>:<vin>``): a later handover
replaces it (the due moved), a check-in before it fires cancels it (the visit makes it
obsolete; its own handover plans the next). The reminder reads the repair order when it
fires, so an erased customer's contact is never sent, and counts the vehicle's open
declined lines (``declined_items_open``: the reminder resurfaces them).
"""

from __future__ import annotations

import uuid
from datetime import datetime, time

from dealerflow.contracts.enums import MaintenanceReason
from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.events.service import MaintenanceDue
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.timers import Timer
from dealerflow.service_center import domain
from dealerflow.service_center import repository as repo
from dealerflow.service_center import repository_maintenance as maintenance_repo
from dealerflow.service_center import usecases_retention as retention
from dealerflow.service_center.domain import NextMaintenance
from dealerflow.service_center.records import RepairOrderRecord
from dealerflow.service_center.settings import ServiceCenterSettings
from dealerflow.service_center.usecases_vehicles import declined_to_offer

Uc = UseCaseContext[ServiceCenterSettings]

MAINTENANCE_DUE_TIMER_KIND = "maintenance-due"
#: Dealer-local time of day the reminder is sent on its day.
REMIND_AT = time(9, 0)


def maintenance_timer_key(dealer_id: str, vin: str) -> str:
    return f"{MAINTENANCE_DUE_TIMER_KIND}:{dealer_id}:{vin}"


async def plan_maintenance_due(uc: Uc, ro: RepairOrderRecord, due: NextMaintenance) -> None:
    """Schedule (or move) the vehicle's MaintenanceDue for the maintenance ``due`` that
    the handover of ``ro`` set; at once if the reminder day has passed already."""
    await _schedule(uc, ro.dealer_id, ro.vin, due, {"repair_order_id": str(ro.id)})


async def _schedule(
    uc: Uc, dealer_id: str, vin: str, due: NextMaintenance, payload: dict[str, str]
) -> None:
    policy = await uc.policy(dealer_id)
    remind_on = domain.maintenance_reminder_on(due.due_date, policy.owner_care)
    at = max(datetime.combine(remind_on, REMIND_AT, tzinfo=policy.calendar.tz), uc.now)
    key = maintenance_timer_key(dealer_id, vin)
    await uc.cancel_timer(key)
    await uc.schedule_timer(
        key=key, kind=MAINTENANCE_DUE_TIMER_KIND, dealer_id=dealer_id, due_at=at, payload=payload
    )


async def vehicle_checked_in(uc: Uc, dealer_id: str, vin: str) -> bool:
    """A check-in before the reminder fired: the pending MaintenanceDue is obsolete."""
    return await uc.cancel_timer(maintenance_timer_key(dealer_id, vin))


async def register_delivered_vehicle(uc: Uc, delivered: VehicleDelivered) -> None:
    """A vehicle delivered to its owner (by sales or an outside DMS): register it and plan
    its first maintenance (``domain.first_maintenance``: the dealer's
    ``owner_care.first_maintenance_km`` / ``_months``, DOMAIN.md 5,000 km or 6 months;
    the mileage projected from the event's ``expected_yearly_km`` when it has one),
    reminded ``first_maintenance_remind_before`` ahead. A redelivered event re-plans the
    same timer; a handover already recorded here keeps its own (later) plan."""
    policy = await uc.policy(delivered.dealer_id)
    delivered_on = delivered.delivered_at.astimezone(policy.calendar.tz).date()
    due = domain.first_maintenance(
        delivered_on,
        delivered.odometer_km,
        policy.owner_care,
        domain.daily_km_of_yearly(delivered.expected_yearly_km),
    )
    await maintenance_repo.save_owned_vehicle(
        uc.conn,
        maintenance_repo.OwnedVehicleRecord(
            dealer_id=delivered.dealer_id,
            vin=delivered.vin,
            customer_id=delivered.customer_id,
            model=delivered.model,
            delivered_at=delivered.delivered_at,
            odometer_km=delivered.odometer_km,
            contact=delivered.contact,
            first_due_on=due.due_date,
            first_due_km=due.due_km,
            registered_at=uc.now,
        ),
    )
    await retention.schedule_retention_scan(uc, delivered.dealer_id)
    serviced = await repo.vehicle_history(uc.conn, delivered.dealer_id, delivered.vin, exclude=None)
    if any(
        v.handed_over_at is not None and v.handed_over_at > delivered.delivered_at for v in serviced
    ):
        return
    await _schedule(uc, delivered.dealer_id, delivered.vin, due, {"vin": delivered.vin})


async def maintenance_due(uc: Uc, timer: Timer) -> None:
    """The reminder day came: MaintenanceDue with what the handover (or the delivery) set
    (nothing if the record is gone or no longer carries a due)."""
    if "repair_order_id" not in timer.payload:
        await _first_maintenance_due(uc, timer.dealer_id, str(timer.payload["vin"]))
        return
    ro = await repo.get_repair_order(
        uc.conn, timer.dealer_id, uuid.UUID(str(timer.payload["repair_order_id"]))
    )
    if ro is None or ro.next_maintenance_due_on is None:
        return
    declined = await declined_to_offer(uc, ro.dealer_id, ro.vin)
    await uc.publish(
        MaintenanceDue(
            dealer_id=ro.dealer_id,
            customer_id=ro.customer_id,
            occurred_at=uc.now,
            vin=ro.vin,
            model=ro.model,
            reason=MaintenanceReason.PERIODIC,
            due_on=ro.next_maintenance_due_on,
            due_km=ro.next_maintenance_due_km,
            last_service_at=ro.handed_over_at,
            contact=ro.contact,
            declined_items_open=len(declined),
        )
    )


async def _first_maintenance_due(uc: Uc, dealer_id: str, vin: str) -> None:
    vehicle = await maintenance_repo.get_owned_vehicle(uc.conn, dealer_id, vin)
    if vehicle is None:
        return
    declined = await declined_to_offer(uc, dealer_id, vin)
    await uc.publish(
        MaintenanceDue(
            dealer_id=dealer_id,
            customer_id=vehicle.customer_id,
            occurred_at=uc.now,
            vin=vin,
            model=vehicle.model,
            reason=MaintenanceReason.FIRST_MAINTENANCE,
            due_on=vehicle.first_due_on,
            due_km=vehicle.first_due_km,
            contact=vehicle.contact,
            declined_items_open=len(declined),
        )
    )
