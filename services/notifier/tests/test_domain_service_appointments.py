"""The service-appointment reminder plan (pure)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from dealerflow.contracts.care_enums import ReminderKind
from dealerflow.notifier.domain_service_appointments import (
    plan_service_appointment_reminder,
    record_of_service_appointment,
)
from dealerflow.notifier.domain_types import AppointmentFacts
from dealerflow.policy import DealerPolicy

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def facts(starts: datetime) -> AppointmentFacts:
    return AppointmentFacts("D001", uuid.uuid4(), record_of_service_appointment("SA-1"), starts)


def test_one_reminder_at_the_dealers_lead_time_before_the_slot() -> None:
    starts = NOW + timedelta(days=2)
    [reminder] = plan_service_appointment_reminder(facts(starts), DealerPolicy(), NOW)
    assert reminder.kind is ReminderKind.SERVICE_APPOINTMENT
    assert reminder.send_at == starts - timedelta(hours=24)
    assert reminder.key == "service_appointment:SA-1:reminder-24h@20250305T020000Z"
    policy = DealerPolicy.model_validate({"service": {"appointment_reminder_before": "PT1H"}})
    [late] = plan_service_appointment_reminder(facts(starts), policy, NOW)
    assert late.send_at == starts - timedelta(hours=1)


def test_no_reminder_once_its_time_has_passed() -> None:
    soon = facts(NOW + timedelta(hours=5))
    assert plan_service_appointment_reminder(soon, DealerPolicy(), NOW) == []
