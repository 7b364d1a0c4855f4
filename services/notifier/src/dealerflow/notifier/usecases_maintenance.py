"""Reactions to the maintenance calendar service-center keeps: MaintenanceDue -> the
owner's reminder message (planned once per due: a redelivery plans nothing new), and a
check-in of the vehicle (RepairOrderOpened) withdraws its maintenance reminders not sent
yet (status ``cancelled``, with their timers). A customer of an after-sales tier the
dealer names (``tiers.maintenance_call_service_tiers``, default D) also gets the advisors'
call task beside the reminder (`usecases_tiers.maintenance_calls`), cancelled by the
check-in too.

Same conventions as `usecases_test_drives` (pure planner in `domain_maintenance`)."""

from __future__ import annotations

from datetime import datetime

from dealerflow.contracts.care_enums import TaskCancelReason
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.notifier import repository as repo
from dealerflow.notifier import repository_messages as msgs
from dealerflow.notifier.domain_maintenance import (
    MaintenanceDueFacts,
    maintenance_reminders_prefix,
    plan_maintenance_reminder,
)
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases import apply_plan, remember_contact
from dealerflow.notifier.usecases_appointments import cancel_reminders
from dealerflow.notifier.usecases_tasks import cancel_tasks
from dealerflow.notifier.usecases_tiers import maintenance_calls
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]


async def on_maintenance_due(
    uc: Uc, due: MaintenanceDueFacts, contact: ContactSnapshot, occurred_at: datetime
) -> None:
    """The maintenance reminder (the first after a sale, or the next after a service),
    sent through the contact policy (service consent)."""
    await remember_contact(uc, due.dealer_id, due.customer_id, contact, occurred_at)
    policy = await uc.policy(due.dealer_id)
    reminder = plan_maintenance_reminder(due, policy, uc.now)
    await apply_plan(uc, [reminder, *await maintenance_calls(uc, reminder)], contact)


async def on_vehicle_checked_in(uc: Uc, dealer_id: str, vin: str) -> None:
    """The vehicle is in for service: its maintenance reminders not sent yet go, and the
    advisors' open maintenance call tasks."""
    pending = await msgs.scheduled_reminders(uc.conn, dealer_id, maintenance_reminders_prefix(vin))
    await cancel_reminders(uc, dealer_id, pending)
    calls = repo.TaskSelection(dealer_id, key_prefix=maintenance_reminders_prefix(vin))
    await cancel_tasks(uc, calls, TaskCancelReason.NO_LONGER_NEEDED)
