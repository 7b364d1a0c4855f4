"""Reactions to a contract's delivery: reminders before the agreed handover
(DeliveryScheduled; a delivery agreed again for another time replaces the pending ones),
withdrawn when an amendment moves the delivery date (the next DeliveryScheduled plans new
ones) or the contract is cancelled. Same conventions as `usecases_test_drives`."""

from __future__ import annotations

from datetime import datetime

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.notifier.domain_deliveries import plan_delivery_reminders, record_of_contract
from dealerflow.notifier.domain_types import AppointmentFacts
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases import remember_contact
from dealerflow.notifier.usecases_appointments import replace_reminders, withdraw_reminders
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
