"""The customer's reminder of a booked service appointment (pure): one message the
dealer's ``service.appointment_reminder_before`` ahead of the slot (24 h by default),
planned like an appointment's (quiet hours respected, never in the past or after the
start), keyed under the service appointment with the start time in the key, so that a
reschedule (a new ServiceAppointmentBooked) plans a new one and replaces the old, and a
cancellation finds it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from dealerflow.contracts.care_enums import RecordKind, ReminderKind
from dealerflow.notifier.domain_leads import plan_appointment_reminders
from dealerflow.notifier.domain_types import AppointmentFacts, PlannedReminder, RecordRef
from dealerflow.policy import DealerPolicy


def record_of_service_appointment(service_appointment_id: str) -> RecordRef:
    return RecordRef(RecordKind.SERVICE_APPOINTMENT, service_appointment_id)


def plan_service_appointment_reminder(
    appointment: AppointmentFacts, policy: DealerPolicy, now: datetime
) -> list[PlannedReminder]:
    """The reminder before the slot (none when its time has passed already)."""
    return plan_appointment_reminders(
        replace(appointment, reminder_kind=ReminderKind.SERVICE_APPOINTMENT),
        policy,
        now,
        before=[policy.service.appointment_reminder_before],
    )
