"""Reactions to a contract's delivery: reminders before the agreed handover
(DeliveryScheduled; a delivery agreed again for another time replaces the pending ones),
withdrawn when an amendment moves the delivery date (the next DeliveryScheduled plans new
ones) or the contract is cancelled. Same conventions as `usecases_test_drives`.

VehicleDelivered (`on_vehicles_delivered`, set-based over a batch of events): the owner
care (`usecases.owner_care`), for a VIP the sales manager's courtesy call beside the 24 h
callback (`usecases_tiers.courtesy_calls_of`), when the dealer offers it the consultant's
plate-registration task, the first inspection reminder, the purchase for the buyer's tier
and the dealer's next holiday greeting; the contract's
cancellation cancels that task if it is still open and withdraws the insurance-renewal
and inspection reminders not sent yet (sales cancels only undelivered contracts, so this
is for an outside DMS that cancels after its delivery)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dealerflow.contracts.care_enums import TaskCancelReason, TaskKind
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.notifier import repository as repo
from dealerflow.notifier import (
    usecases,
    usecases_greetings,
    usecases_inspections,
    usecases_surveys,
    usecases_tiers,
)
from dealerflow.notifier.domain_deliveries import (
    plan_delivery_reminders,
    plan_plate_registration,
    record_of_contract,
)
from dealerflow.notifier.domain_inspections import plan_first_inspection
from dealerflow.notifier.domain_tiers import PurchaseFacts
from dealerflow.notifier.domain_types import (
    AppointmentFacts,
    DeliveryFacts,
    PlannedTask,
    StaffRole,
)
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases import (
    Plan,
    apply_plans,
    remember_contact,
    remember_contacts,
    rounds_by_customer,
)
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


@dataclass(frozen=True, slots=True)
class Delivered:
    """A VehicleDelivered to react to in the context ``uc`` of its event."""

    uc: Uc
    delivery: DeliveryFacts
    contact: ContactSnapshot | None


async def on_vehicles_delivered(deliveries: Sequence[Delivered]) -> None:
    """React to delivered vehicles (a batch of events in one transaction, each effect
    caused by its own event), with one statement per table per round.

    Per delivery: the contact snapshot; owner care (`usecases.owner_care`; a VIP's with
    the sales manager's courtesy call beside the 24 h callback), the plate-registration
    task when the dealer offers it and the first annual-inspection reminder
    (`usecases_inspections`); the purchase counts for the buyer's tier
    (`usecases_tiers.on_purchases`); the dealer's next holiday greeting is planned
    (`usecases_greetings`). A round holds each customer at most once
    (`usecases.rounds_by_customer`): a customer's second delivery in a batch (or the same
    fact again under a new id) sees the first one's effects, as one event after the other
    would."""
    for batch in rounds_by_customer(deliveries, lambda d: d.delivery):
        await _react(batch)


async def _react(deliveries: Sequence[Delivered]) -> None:
    first = deliveries[0].uc
    await remember_contacts(
        first,
        [
            repo.ContactSeen(
                d.delivery.dealer_id, d.delivery.customer_id, d.contact, d.delivery.delivered_at
            )
            for d in deliveries
            if d.contact is not None
        ],
    )
    care = [await usecases.owner_care(d.uc, d.delivery) for d in deliveries]
    policies = [await d.uc.policy(d.delivery.dealer_id) for d in deliveries]
    callbacks = [
        (
            d.uc,
            [
                i
                for i in plan
                if isinstance(i, PlannedTask) and i.kind is TaskKind.DELIVERY_CALLBACK
            ],
        )
        for d, (plan, _) in zip(deliveries, care, strict=True)
    ]
    courtesy = await usecases_tiers.courtesy_calls_of(callbacks, StaffRole.SALES_MANAGER)
    plans = [Plan(d.uc, plan, d.contact) for d, (plan, _) in zip(deliveries, care, strict=True)]
    plans += [
        Plan(d.uc, [*calls, *plan_plate_registration(d.delivery, policy)], d.contact)
        for d, calls, policy in zip(deliveries, courtesy, policies, strict=True)
    ]
    plans += [
        Plan(d.uc, plan_first_inspection(d.delivery, policy), d.contact)
        for d, policy in zip(deliveries, policies, strict=True)
    ]
    await apply_plans(plans)
    for d, (_, surveying) in zip(deliveries, care, strict=True):
        if surveying:  # rare (a survey link secret): per delivery
            await usecases_surveys.plan_delivery_survey(d.uc, d.delivery, d.contact)
    await usecases_tiers.on_purchases(
        [
            (
                d.uc,
                PurchaseFacts(
                    d.delivery.dealer_id,
                    d.delivery.customer_id,
                    d.delivery.delivery_id,
                    d.delivery.delivered_at,
                ),
            )
            for d in deliveries
        ]
    )
    greeted: dict[str, Uc] = {}
    for d in deliveries:
        greeted.setdefault(d.delivery.dealer_id, d.uc)
    for dealer_id, uc in greeted.items():  # the same timer for every owner of a dealer
        await usecases_greetings.schedule_next_greeting(uc, dealer_id)


async def on_contract_cancelled(uc: Uc, dealer_id: str, contract_id: str) -> None:
    """The delivery reminders not sent yet go; an open plate-registration task and the
    insurance-renewal and inspection reminders not sent yet too."""
    await withdraw_delivery_reminders(uc, dealer_id, contract_id)
    related = record_of_contract(contract_id)
    selected = repo.TaskSelection(dealer_id, related=(related.kind.value, related.id))
    await cancel_tasks(uc, selected, TaskCancelReason.NO_LONGER_NEEDED)
    await usecases_inspections.withdraw_yearly_reminders(uc, dealer_id, contract_id)
