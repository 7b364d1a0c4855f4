"""A vehicle's service history at a dealer, by VIN (the advisor's screen, the basis of
complaints' investigation), and the declined work offered again when it comes back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from dealerflow.contracts.enums import ServiceTier
from dealerflow.runtime.context import UseCaseContext
from dealerflow.service_center import domain
from dealerflow.service_center import repository as repo
from dealerflow.service_center import repository_maintenance as maintenance_repo
from dealerflow.service_center import repository_vehicles as vehicles
from dealerflow.service_center.domain import RepairOrderStatus
from dealerflow.service_center.records import DeclinedItemRecord, RepairOrderRecord
from dealerflow.service_center.settings import ServiceCenterSettings

Uc = UseCaseContext[ServiceCenterSettings]

#: How many of a vehicle's repair orders the history shows (newest first).
HISTORY_LIMIT = 200


def declined_item_of(r: DeclinedItemRecord, tz: tzinfo) -> domain.DeclinedItem:
    """A stored declined line as the domain sees it (follow-up due at the start of its
    local day)."""
    return domain.DeclinedItem(
        vin=r.vin,
        repair_order_id=str(r.repair_order_id),
        item_id=r.item_id,
        description=r.description,
        amount=r.amount,
        declined_at=r.declined_at,
        follow_up_due_at=datetime.combine(r.follow_up_on, time.min, tzinfo=tz),
    )


async def declined_to_offer(
    uc: Uc, dealer_id: str, vin: str, *, except_order: RepairOrderRecord | None = None
) -> tuple[DeclinedItemRecord, ...]:
    """The vehicle's open declined lines from its earlier visits, oldest first: what the
    advisor offers again (``domain_repair.declined_items_to_offer``)."""
    records = await vehicles.open_declined_items(
        uc.conn, dealer_id, vin, except_order=except_order.id if except_order else None
    )
    tz = (await uc.policy(dealer_id)).calendar.tz
    by_key = {(str(r.repair_order_id), r.item_id): r for r in records}
    items = [declined_item_of(r, tz) for r in records]
    offered = domain.declined_items_to_offer(items, vin)
    return tuple(by_key[(i.repair_order_id, i.item_id)] for i in offered)


@dataclass(frozen=True)
class NextMaintenance:
    due_on: date | None
    due_km: int | None
    after_repair_order_id: str | None  # None: the first maintenance, from the delivery


@dataclass(frozen=True)
class VehicleHistory:
    vin: str
    repair_orders: Sequence[RepairOrderRecord]
    declined_open: tuple[DeclinedItemRecord, ...]
    next_maintenance: NextMaintenance | None
    tier: ServiceTier  # after-sales tier by visits in the last 12 months
    retention: domain.RetentionStatus | None  # None: the vehicle never came here


async def vehicle_history(uc: Uc, dealer_id: str, vin: str) -> VehicleHistory:
    """The vehicle's repair orders at the dealer (newest first), the declined work still
    open, its next maintenance as the latest handover set it (before any, the first
    maintenance the delivery set), its after-sales tier
    (``domain.after_sales_tier``) and retention status since its last visit
    (``domain.retention_status``), both on the dealer-local date of the use case."""
    orders = await repo.list_repair_orders(
        uc.conn,
        dealer_id,
        status=None,
        vin=vin,
        advisor_id=None,
        customer_id=None,
        opened_from=None,
        opened_to=None,
        after=None,
        limit=HISTORY_LIMIT,
    )
    handed = [o for o in orders if o.status is RepairOrderStatus.HANDED_OVER]
    latest = max(handed, key=lambda o: o.handed_over_at or o.opened_at, default=None)
    next_due = None
    if latest is not None and (latest.next_maintenance_due_on or latest.next_maintenance_due_km):
        next_due = NextMaintenance(
            latest.next_maintenance_due_on, latest.next_maintenance_due_km, str(latest.id)
        )
    elif latest is None and (
        owned := await maintenance_repo.get_owned_vehicle(uc.conn, dealer_id, vin)
    ):
        next_due = NextMaintenance(owned.first_due_on, owned.first_due_km, None)
    policy = await uc.policy(dealer_id)
    tz = policy.calendar.tz
    today = uc.now.astimezone(tz).date()
    visits = [o.opened_at.astimezone(tz).date() for o in orders]
    retention = domain.retention_status(max(visits), today, policy.service) if visits else None
    return VehicleHistory(
        vin,
        orders,
        await declined_to_offer(uc, dealer_id, vin),
        next_due,
        domain.after_sales_tier(visits, today, policy.service),
        retention,
    )
