"""The customer's reminders of an agreed vehicle delivery (pure): planned like an
appointment's (24 h and 2 h before by default, quiet hours respected, never in the past or
after the start), keyed under the contract so that an amendment moving the delivery date
or a cancellation of the contract finds them, and the start time in the key so that a
delivery agreed again for another time plans new ones.

After the handover, when the dealer offers plate-registration assistance (上牌,
``sales.plate_registration_assistance``), the delivering consultant's task to register the
plate, due ``sales.plate_registration_due_after`` after the delivery; keyed by the
delivery (an outside DMS publishing the delivery again plans nothing more) and about the
contract, so that the contract's cancellation finds it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from dealerflow.contracts.care_enums import RecordKind, ReminderKind, TaskKind
from dealerflow.notifier.domain_leads import plan_appointment_reminders
from dealerflow.notifier.domain_task_texts import staff_text
from dealerflow.notifier.domain_types import (
    AppointmentFacts,
    DeliveryFacts,
    PlannedReminder,
    PlannedTask,
    RecordRef,
    StaffRole,
)
from dealerflow.policy import DealerPolicy


def record_of_contract(contract_id: str) -> RecordRef:
    return RecordRef(RecordKind.CONTRACT, contract_id)


def record_of_delivered_car(delivery: DeliveryFacts) -> RecordRef:
    """What the owner's yearly reminders (insurance renewal, inspection) are about: the
    contract when the delivery names one (its cancellation finds them), else the
    delivery."""
    if delivery.contract_id:
        return record_of_contract(delivery.contract_id)
    return RecordRef(RecordKind.DELIVERY, delivery.delivery_id)


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


def plan_plate_registration(delivery: DeliveryFacts, policy: DealerPolicy) -> list[PlannedTask]:
    """The delivering consultant's plate-registration task, or none when the dealer does
    not offer the assistance or the delivery names no contract."""
    sales = policy.sales
    if not sales.plate_registration_assistance or delivery.contract_id is None:
        return []
    return [
        PlannedTask(
            key=f"delivery:{delivery.delivery_id}:plate-registration",
            kind=TaskKind.PLATE_REGISTRATION,
            dealer_id=delivery.dealer_id,
            customer_id=delivery.customer_id,
            due_at=delivery.delivered_at.astimezone(UTC) + sales.plate_registration_due_after,
            assignee_role=StaffRole.CONSULTANT,
            assignee_id=delivery.consultant_id,
            related=record_of_contract(delivery.contract_id),
            **staff_text(TaskKind.PLATE_REGISTRATION),
        )
    ]
