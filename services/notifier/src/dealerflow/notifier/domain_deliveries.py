"""The customer's reminders of an agreed vehicle delivery (pure): planned like an
appointment's (24 h and 2 h before by default, quiet hours respected, never in the past or
after the start), keyed under the contract so that an amendment moving the delivery date
or a cancellation of the contract finds them, and the start time in the key so that a
delivery agreed again for another time plans new ones."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from dealerflow.contracts.care_enums import RecordKind, ReminderKind
from dealerflow.notifier.domain_leads import plan_appointment_reminders
from dealerflow.notifier.domain_types import AppointmentFacts, PlannedReminder, RecordRef
from dealerflow.policy import DealerPolicy


def record_of_contract(contract_id: str) -> RecordRef:
    return RecordRef(RecordKind.CONTRACT, contract_id)


def plan_delivery_reminders(
    delivery: AppointmentFacts, policy: DealerPolicy, now: datetime
) -> list[PlannedReminder]:
    """The reminders before the handover (those whose time has passed are left out)."""
    return plan_appointment_reminders(
        replace(delivery, reminder_kind=ReminderKind.DELIVERY), policy, now
    )


def delivery_date_moved(changed_fields: list[str]) -> bool:
    """An amendment that moves the planned delivery date (the agreed delivery is off)."""
    return "planned_delivery_on" in changed_fields
