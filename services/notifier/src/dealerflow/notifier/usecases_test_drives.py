"""Reactions to a booked test drive: the customer's reminder before the slot (lead time
per dealer policy, ``sales.test_drive_reminder_before``), planned once under the test
drive's key (a redelivered TestDriveScheduled plans nothing new); a cancelled drive's
pending reminder is withdrawn (status ``cancelled``, no event).

Same conventions as `usecases_leads` (pure planner in `domain_test_drives`)."""

from __future__ import annotations

from datetime import datetime

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.notifier.domain_test_drives import plan_test_drive_reminder
from dealerflow.notifier.domain_types import AppointmentFacts, RecordRef
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases import apply_plan, remember_contact
from dealerflow.notifier.usecases_appointments import withdraw_reminders
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]


async def on_test_drive_scheduled(
    uc: Uc, drive: AppointmentFacts, contact: ContactSnapshot, booked_at: datetime
) -> None:
    """The reminder before the slot, sent through the contact policy when it falls due."""
    await remember_contact(uc, drive.dealer_id, drive.customer_id, contact, booked_at)
    policy = await uc.policy(drive.dealer_id)
    await apply_plan(uc, plan_test_drive_reminder(drive, policy, uc.now), contact)


async def on_test_drive_cancelled(uc: Uc, dealer_id: str, record: RecordRef) -> None:
    """The drive's reminders not sent yet go, with their timers."""
    await withdraw_reminders(uc, dealer_id, record)
