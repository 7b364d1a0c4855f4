"""Repeat repairs: a vehicle back with the same concern within the dealer's window after
an earlier repair was handed over opens a complaint (origin repeat_repair, linked to both
repair orders). RepairOrderOpened carries the contact, so no waiting is needed."""

from __future__ import annotations

from dealerflow.complaints import repository_repairs
from dealerflow.complaints.domain import PreviousRepair, find_repeat_repair
from dealerflow.complaints.records import ComplaintRecord
from dealerflow.complaints.usecases import NewComplaint, Uc, open_complaint
from dealerflow.complaints.usecases_triggers import summary_text
from dealerflow.contracts.care_enums import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintOriginKind,
    Department,
)
from dealerflow.contracts.events.complaints import ComplaintOrigin
from dealerflow.contracts.events.service import RepairOrderOpened, VehicleHandedOver
from dealerflow.policy import DealerPolicy


def concerns_of(event: RepairOrderOpened) -> list[str]:
    """What a repair order is for, as compared for repeats: the normalised concern codes
    (when the workshop system has them) and the customer's concerns as told."""
    return [*event.concern_codes, *event.concerns]


def repeat_of(
    event: RepairOrderOpened, previous: list[PreviousRepair], policy: DealerPolicy
) -> tuple[str, PreviousRepair] | None:
    """The first concern of the new repair order that repeats an earlier repair."""
    for concern in concerns_of(event):
        found = find_repeat_repair(event.vin, concern, previous, event.opened_at, policy)
        if found is not None:
            return concern, found
    return None


async def on_repair_order_opened(uc: Uc, event: RepairOrderOpened) -> ComplaintRecord | None:
    """Remember the repair order; open a complaint if it repeats an earlier repair."""
    policy = await uc.policy(event.dealer_id)
    window = policy.complaints.repeat_repair_window
    previous = await repository_repairs.completed_repairs(
        uc.conn,
        event.dealer_id,
        event.vin,
        since=event.opened_at - window,
        before=event.opened_at,
    )
    await repository_repairs.record_opened(
        uc.conn,
        dealer_id=event.dealer_id,
        repair_order_id=event.repair_order_id,
        vin=event.vin,
        concerns=concerns_of(event),
        opened_at=event.opened_at,
        customer_id=event.customer_id,
        advisor_id=event.advisor_id,
        work_type=event.work_type.value,
    )
    repeat = repeat_of(event, previous, policy)
    if repeat is None:
        return None
    concern, earlier = repeat
    new = NewComplaint(
        dealer_id=event.dealer_id,
        customer_id=event.customer_id,
        channel=ComplaintChannel.SYSTEM,
        category=ComplaintCategory.AFTER_SALES_SERVICE,
        summary=summary_text(
            f"Repeat repair: '{concern}' again after repair order {earlier.repair_order_id}"
        ),
        contact=event.contact,
        origin=ComplaintOrigin(
            kind=ComplaintOriginKind.REPEAT_REPAIR,
            repair_order_id=event.repair_order_id,
            previous_repair_order_id=earlier.repair_order_id,
        ),
        origin_ref=f"repeat_repair:{event.repair_order_id}",
        department=Department.AFTER_SALES.value,
        vin=event.vin,
        handler_id=None,
    )
    opened = await open_complaint(uc, new)
    return opened.complaint if opened.created else None


async def on_vehicle_handed_over(uc: Uc, event: VehicleHandedOver) -> None:
    """The repair is done: it now counts for repeat detection."""
    await repository_repairs.record_handed_over(
        uc.conn,
        dealer_id=event.dealer_id,
        repair_order_id=event.repair_order_id,
        vin=event.vin,
        at=event.handed_over_at,
        customer_id=event.customer_id,
    )
