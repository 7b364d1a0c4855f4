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
from dealerflow.contracts.events.service import MaintenanceDue
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.timers import Timer
from dealerflow.service_center import domain
from dealerflow.service_center import repository as repo
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
    policy = await uc.policy(ro.dealer_id)
    remind_on = domain.maintenance_reminder_on(due.due_date, policy.owner_care)
    at = max(datetime.combine(remind_on, REMIND_AT, tzinfo=policy.calendar.tz), uc.now)
    key = maintenance_timer_key(ro.dealer_id, ro.vin)
    await uc.cancel_timer(key)
    await uc.schedule_timer(
        key=key,
        kind=MAINTENANCE_DUE_TIMER_KIND,
        dealer_id=ro.dealer_id,
        due_at=at,
        payload={"repair_order_id": str(ro.id)},
    )


async def vehicle_checked_in(uc: Uc, dealer_id: str, vin: str) -> bool:
    """A check-in before the reminder fired: the pending MaintenanceDue is obsolete."""
    return await uc.cancel_timer(maintenance_timer_key(dealer_id, vin))


async def maintenance_due(uc: Uc, timer: Timer) -> None:
    """The reminder day came: MaintenanceDue with what the handover set (nothing if the
    repair order is gone or no longer carries a due)."""
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
