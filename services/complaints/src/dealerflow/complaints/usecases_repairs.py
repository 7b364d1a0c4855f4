"""Repeat repairs: a vehicle back with the same concern within the dealer's window after
an earlier repair was handed over opens a complaint (origin repeat_repair, linked to both
repair orders). RepairOrderOpened carries the contact, so no waiting is needed."""

from __future__ import annotations

from collections.abc import Hashable

from dealerflow.complaints import repository_repairs
from dealerflow.complaints.domain import PreviousRepair, find_repeat_repair
from dealerflow.complaints.records import ComplaintRecord
from dealerflow.complaints.repository_repairs import RepeatWindow
from dealerflow.complaints.usecases import NewComplaint, Run, Uc, open_complaint
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
from dealerflow.runtime.batches import rounds


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


def _order_and_vehicle(pair: tuple[Uc, RepairOrderOpened]) -> list[Hashable]:
    # the vehicle too: a repair order opened after its handover (events out of order)
    # gets its concerns now, which the next repair order of that vehicle compares with
    event = pair[1]
    return [("order", event.dealer_id, event.repair_order_id), ("vin", event.dealer_id, event.vin)]


async def on_repair_orders_opened(run: Run[RepairOrderOpened]) -> None:
    """Remember the repair orders; open a complaint for each that repeats an earlier
    repair. Per round of the run: one query for the earlier repairs, one statement to
    record them."""
    conn = run[0][0].conn
    for opened in rounds(run, _order_and_vehicle):
        policies = [await uc.policy(event.dealer_id) for uc, event in opened]
        windows = [
            RepeatWindow(
                dealer_id=event.dealer_id,
                vin=event.vin,
                since=event.opened_at - policy.complaints.repeat_repair_window,
                before=event.opened_at,
            )
            for (_, event), policy in zip(opened, policies, strict=True)
        ]
        previous = await repository_repairs.completed_repairs(conn, windows)
        events = [event for _, event in opened]
        await repository_repairs.record_opened(conn, events, [concerns_of(e) for e in events])
        for (uc, event), earlier, policy in zip(opened, previous, policies, strict=True):
            if (repeat := repeat_of(event, earlier, policy)) is not None:
                await open_repeat_repair(uc, event, *repeat)


async def open_repeat_repair(
    uc: Uc, event: RepairOrderOpened, concern: str, earlier: PreviousRepair
) -> ComplaintRecord | None:
    """The complaint of a repair order repeating ``earlier`` for ``concern`` (None when
    this repair order opened it already)."""
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


def _order(pair: tuple[Uc, VehicleHandedOver]) -> list[Hashable]:
    return [(pair[1].dealer_id, pair[1].repair_order_id)]


async def on_vehicles_handed_over(run: Run[VehicleHandedOver]) -> None:
    """The repairs are done: they now count for repeat detection (one statement per
    round of the run)."""
    for handed_over in rounds(run, _order):
        await repository_repairs.record_handed_over(
            handed_over[0][0].conn, [event for _, event in handed_over]
        )
