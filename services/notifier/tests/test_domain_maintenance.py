"""The owner's maintenance reminder planner (pure)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from dealerflow.contracts.care_enums import ReminderKind
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.notifier.domain_maintenance import (
    MaintenanceDueFacts,
    maintenance_reminders_prefix,
    plan_maintenance_reminder,
)
from dealerflow.policy import DealerPolicy

VIN = "LSVAU2180N2183294"
CUSTOMER = uuid.uuid4()


def facts(due_on: date | None = date(2025, 9, 3)) -> MaintenanceDueFacts:
    return MaintenanceDueFacts("D001", CUSTOMER, VIN, due_on=due_on, due_km=30000)


def test_one_reminder_per_due_under_the_vehicle() -> None:
    now = datetime(2025, 8, 20, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    planned = plan_maintenance_reminder(facts(), DealerPolicy(), now)
    assert planned.key == f"vehicle:{VIN}:maintenance-due:2025-09-03"
    assert planned.key.startswith(maintenance_reminders_prefix(VIN))
    assert (planned.kind, planned.purpose) == (ReminderKind.MAINTENANCE_DUE, ConsentPurpose.SERVICE)
    assert planned.send_at == now
    assert planned.params == {"due_date": "2025-09-03", "due_km": "30000"}


def test_quiet_hours_move_it_and_a_missing_date_keys_by_mileage() -> None:
    night = datetime(2025, 8, 20, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    planned = plan_maintenance_reminder(facts(due_on=None), DealerPolicy(), night)
    assert planned.send_at > night
    assert planned.key == f"vehicle:{VIN}:maintenance-due:30000km"
    assert planned.params["due_date"] == "-"
