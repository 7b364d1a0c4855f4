"""The customer's reminder of a booked test drive (pure): one message the dealer's
``sales.test_drive_reminder_before`` ahead of the slot (2 h by default), planned like an
appointment's (quiet hours respected, never in the past or after the start), keyed under
the test drive so that its cancellation finds it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from dealerflow.contracts.care_enums import RecordKind, ReminderKind
from dealerflow.notifier.domain_leads import plan_appointment_reminders
from dealerflow.notifier.domain_types import AppointmentFacts, PlannedReminder, RecordRef
from dealerflow.policy import DealerPolicy


def record_of_test_drive(test_drive_id: str) -> RecordRef:
    return RecordRef(RecordKind.TEST_DRIVE, test_drive_id)


def plan_test_drive_reminder(
    drive: AppointmentFacts, policy: DealerPolicy, now: datetime
) -> list[PlannedReminder]:
    """The reminder before the slot (none when its time has passed already)."""
    facts = replace(drive, reminder_kind=ReminderKind.TEST_DRIVE)
    return plan_appointment_reminders(
        facts, policy, now, before=[policy.sales.test_drive_reminder_before]
    )
