"""The owner's maintenance reminder (pure): service-center owns the maintenance calendar
and publishes ``MaintenanceDue`` on the reminder day; the notifier sends one message for
that due (service purpose, the contact policy's quiet hours), keyed under the vehicle so
that the vehicle's next check-in (``RepairOrderOpened``) finds and withdraws it while it
is not sent yet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from dealerflow.contracts.care_enums import RecordKind, ReminderKind
from dealerflow.contracts.enums import ConsentPurpose, MaintenanceReason
from dealerflow.notifier.domain_types import PlannedReminder, RecordRef
from dealerflow.policy import BusinessCalendar, DealerPolicy

#: What the message shows when the event leaves the date or the mileage out.
UNKNOWN = "-"


@dataclass(frozen=True, slots=True)
class MaintenanceDueFacts:
    dealer_id: str
    customer_id: UUID
    vin: str
    due_on: date | None
    due_km: int | None
    reason: MaintenanceReason = MaintenanceReason.PERIODIC


def maintenance_reminders_prefix(vin: str) -> str:
    """Business-key prefix of a vehicle's maintenance reminders."""
    return f"vehicle:{vin}:maintenance-due:"


def plan_maintenance_reminder(
    due: MaintenanceDueFacts, policy: DealerPolicy, now: datetime
) -> PlannedReminder:
    """The reminder message, sent at the first allowed moment from ``now``; one per due
    (the key names the due date, else the due mileage)."""
    which = due.due_on.isoformat() if due.due_on is not None else f"{due.due_km}km"
    return PlannedReminder(
        key=maintenance_reminders_prefix(due.vin) + which,
        kind=ReminderKind.MAINTENANCE_DUE,
        dealer_id=due.dealer_id,
        customer_id=due.customer_id,
        send_at=BusinessCalendar(policy).next_allowed_send_time(now),
        purpose=ConsentPurpose.SERVICE,
        related=RecordRef(RecordKind.CUSTOMER, str(due.customer_id)),
        params={
            "due_date": due.due_on.isoformat() if due.due_on is not None else UNKNOWN,
            "due_km": str(due.due_km) if due.due_km is not None else UNKNOWN,
        },
    )
