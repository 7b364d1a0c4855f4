"""The test-drive reminder plan (pure)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from dealerflow.contracts.care_enums import ReminderKind
from dealerflow.notifier.domain_test_drives import plan_test_drive_reminder, record_of_test_drive
from dealerflow.notifier.domain_types import AppointmentFacts
from dealerflow.policy import DealerPolicy

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def facts(starts: datetime) -> AppointmentFacts:
    return AppointmentFacts("D001", uuid.uuid4(), record_of_test_drive("TD-1"), starts)


def test_one_reminder_at_the_dealers_lead_time_before_the_slot() -> None:
    starts = NOW + timedelta(hours=6)
    [reminder] = plan_test_drive_reminder(facts(starts), DealerPolicy(), NOW)
    assert reminder.kind is ReminderKind.TEST_DRIVE
    assert reminder.send_at == starts - timedelta(hours=2)
    assert reminder.key == "test_drive:TD-1:reminder-2h@20250303T080000Z"
    policy = DealerPolicy.model_validate({"sales": {"test_drive_reminder_before": "PT30M"}})
    [early] = plan_test_drive_reminder(facts(starts), policy, NOW)
    assert early.send_at == starts - timedelta(minutes=30)
    assert early.key.startswith("test_drive:TD-1:reminder-30m@")


def test_no_reminder_once_its_time_has_passed() -> None:
    assert plan_test_drive_reminder(facts(NOW + timedelta(hours=1)), DealerPolicy(), NOW) == []
