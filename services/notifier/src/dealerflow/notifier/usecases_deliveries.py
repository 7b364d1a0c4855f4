"""Reactions to a contract's delivery: reminders before the agreed handover
(DeliveryScheduled; a delivery agreed again for another time replaces the pending ones),
withdrawn when an amendment moves the delivery date (the next DeliveryScheduled plans new
ones) or the contract is cancelled. Same conventions as `usecases_test_drives`."""

from __future__ import annotations

from datetime import datetime

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.notifier import repository_messages as msgs
from dealerflow.notifier.domain_deliveries import plan_delivery_reminders, record_of_contract
from dealerflow.notifier.domain_leads import appointment_reminders_prefix
from dealerflow.notifier.domain_types import AppointmentFacts
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases import apply_plan, remember_contact
from dealerflow.notifier.usecases_appointments import cancel_reminders
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]


async def on_delivery_scheduled(
    uc: Uc, delivery: AppointmentFacts, contact: ContactSnapshot, agreed_at: datetime
) -> None:
    """Plan the reminders of the agreed time; pending ones of another time go."""
    await remember_contact(uc, delivery.dealer_id, delivery.customer_id, contact, agreed_at)
    policy = await uc.policy(delivery.dealer_id)
    planned = plan_delivery_reminders(delivery, policy, uc.now)
    keep = {reminder.key for reminder in planned}
    pending = await msgs.scheduled_reminders(
        uc.conn, delivery.dealer_id, appointment_reminders_prefix(delivery.record)
    )
    await cancel_reminders(
        uc, delivery.dealer_id, [r for r in pending if r.business_key not in keep]
    )
    await apply_plan(uc, planned, contact)


async def withdraw_delivery_reminders(uc: Uc, dealer_id: str, contract_id: str) -> None:
    """The contract's delivery reminders not sent yet go, with their timers."""
    record = record_of_contract(contract_id)
    pending = await msgs.scheduled_reminders(
        uc.conn, dealer_id, appointment_reminders_prefix(record)
    )
    await cancel_reminders(uc, dealer_id, pending)
