"""Reactions to a contract's delivery: reminders before the agreed handover
(DeliveryScheduled; a delivery agreed again for another time replaces the pending ones),
withdrawn when an amendment moves the delivery date (the next DeliveryScheduled plans new
ones) or the contract is cancelled. Same conventions as `usecases_test_drives`.

VehicleDelivered: the owner care (`usecases.on_vehicle_delivered`), for a VIP the sales
manager's courtesy call beside the 24 h callback (`usecases_tiers.courtesy_calls`) and,
when the dealer offers it, the consultant's plate-registration task; the contract's
cancellation cancels that task if it is still open and withdraws the insurance-renewal
and inspection reminders not sent yet (sales cancels only undelivered contracts, so this
is for an outside DMS that cancels after its delivery)."""

from __future__ import annotations

from datetime import datetime

from dealerflow.contracts.care_enums import TaskCancelReason, TaskKind
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.notifier import domain, usecases, usecases_inspections, usecases_tiers
from dealerflow.notifier import repository as repo
from dealerflow.notifier.domain_deliveries import (
    plan_delivery_reminders,
    plan_plate_registration,
    record_of_contract,
)
from dealerflow.notifier.domain_types import (
    AppointmentFacts,
    DeliveryFacts,
    PlannedTask,
    StaffRole,
)
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases import apply_plan, remember_contact
from dealerflow.notifier.usecases_appointments import replace_reminders, withdraw_reminders
from dealerflow.notifier.usecases_tasks import cancel_tasks
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]


async def on_delivery_scheduled(
    uc: Uc, delivery: AppointmentFacts, contact: ContactSnapshot, agreed_at: datetime
) -> None:
    """Plan the reminders of the agreed time; pending ones of another time go."""
    await remember_contact(uc, delivery.dealer_id, delivery.customer_id, contact, agreed_at)
    policy = await uc.policy(delivery.dealer_id)
    planned = plan_delivery_reminders(delivery, policy, uc.now)
    await replace_reminders(uc, delivery.dealer_id, delivery.record, planned, contact)


async def withdraw_delivery_reminders(uc: Uc, dealer_id: str, contract_id: str) -> None:
    """The contract's delivery reminders not sent yet go, with their timers."""
    await withdraw_reminders(uc, dealer_id, record_of_contract(contract_id))


async def on_vehicle_delivered(
    uc: Uc, delivery: DeliveryFacts, contact: ContactSnapshot | None
) -> None:
    """Owner care (a VIP's with the sales manager's courtesy call), then the
    plate-registration task when the dealer offers it and the first annual-inspection
    reminder (`usecases_inspections`)."""
    await usecases.on_vehicle_delivered(uc, delivery, contact)
    policy = await uc.policy(delivery.dealer_id)
    callbacks = [
        item
        for item in domain.plan_owner_care(delivery, policy)
        if isinstance(item, PlannedTask) and item.kind is TaskKind.DELIVERY_CALLBACK
    ]
    courtesy = await usecases_tiers.courtesy_calls(uc, callbacks, StaffRole.SALES_MANAGER)
    await apply_plan(uc, [*courtesy, *plan_plate_registration(delivery, policy)], contact)
    await usecases_inspections.plan_inspections(uc, delivery, contact)


async def on_contract_cancelled(uc: Uc, dealer_id: str, contract_id: str) -> None:
    """The delivery reminders not sent yet go; an open plate-registration task and the
    insurance-renewal and inspection reminders not sent yet too."""
    await withdraw_delivery_reminders(uc, dealer_id, contract_id)
    related = record_of_contract(contract_id)
    selected = repo.TaskSelection(dealer_id, related=(related.kind.value, related.id))
    await cancel_tasks(uc, selected, TaskCancelReason.NO_LONGER_NEEDED)
    await usecases_inspections.withdraw_yearly_reminders(uc, dealer_id, contract_id)
