"""A complaint's tasks and messages in the notifier (domain_complaints), pure."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dealerflow.contracts.care_enums import RecordKind, ReminderKind, TaskKind
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.notifier.domain_complaints import (
    ComplaintBreachFacts,
    ComplaintOpenedFacts,
    breach_alert,
    complaint_ref,
    escalation_task_key,
    handling_task_key,
    is_acknowledge_escalation,
    plan_complaint_escalation_alert,
    plan_handling_task,
    plan_received_message,
    plan_verification_task,
    verification_task_key,
)
from dealerflow.notifier.domain_task_texts import render_alert
from dealerflow.notifier.domain_types import ComplaintEscalationFacts, RecordRef, StaffRole
from dealerflow.policy import DealerPolicy

CUSTOMER = uuid.UUID(int=7)
OPENED = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
COMPLAINT = "9d1c3b8e-4f63-4d8a-9a37-2d1b5e0c7a11"


def opened(**changes: object) -> ComplaintOpenedFacts:
    facts: dict[str, object] = {
        "dealer_id": "D001",
        "customer_id": CUSTOMER,
        "complaint_id": COMPLAINT,
        "handler_id": "cr-wang",
        "severity": "critical",
        "summary": "Brakes squeal after the repair",
        "opened_at": OPENED,
        "acknowledge_due_at": OPENED + timedelta(minutes=30),
        "resolve_due_at": OPENED + timedelta(hours=24),
    }
    return ComplaintOpenedFacts(**{**facts, **changes})  # type: ignore[arg-type]


def test_the_handler_gets_the_task_due_at_the_acknowledge_deadline() -> None:
    task = plan_handling_task(opened())
    assert task.key == handling_task_key(COMPLAINT) == f"complaint:{COMPLAINT}:handling"
    assert task.kind is TaskKind.COMPLAINT_HANDLING
    assert (task.assignee_role, task.assignee_id) == (StaffRole.COMPLAINT_HANDLER, "cr-wang")
    assert task.due_at == OPENED + timedelta(minutes=30)
    assert task.related == RecordRef(RecordKind.COMPLAINT, COMPLAINT)
    assert "2025-03-03 02:30 UTC" in task.script
    assert "2025-03-04 02:00 UTC" in task.script
    assert "Brakes squeal" in task.script


def test_the_handler_s_task_names_the_first_update_deadline_when_there_is_one() -> None:
    task = plan_handling_task(opened(first_update_due_at=OPENED + timedelta(hours=4)))
    assert "tell them how it stands by 2025-03-03 06:00 UTC" in task.script
    assert "how it stands" not in plan_handling_task(opened()).script


def test_without_deadlines_the_task_is_due_at_once() -> None:
    task = plan_handling_task(opened(acknowledge_due_at=None, resolve_due_at=None))
    assert task.due_at == OPENED
    assert "by -" in task.script


def test_a_reopening_gets_its_own_task_due_at_once() -> None:
    reopened_at = OPENED + timedelta(days=4)
    first = plan_handling_task(opened(reopen_count=1, opened_at=reopened_at))
    second = plan_handling_task(opened(reopen_count=2, opened_at=reopened_at))
    assert first.key == f"complaint:{COMPLAINT}:handling:reopened-1"
    assert second.key != first.key
    assert first.due_at == reopened_at
    assert "reopened 1x" in first.script


def test_the_received_message_is_a_service_message_at_an_allowed_time() -> None:
    policy = DealerPolicy()
    message = plan_received_message(opened(), policy, OPENED)
    assert message.kind is ReminderKind.COMPLAINT_UPDATE
    assert message.purpose is ConsentPurpose.SERVICE
    assert message.send_at == OPENED  # 10:00 local is not quiet time
    assert message.params["complaint_ref"] == complaint_ref(COMPLAINT) == "9D1C3B8E"
    late = OPENED.replace(hour=15)  # 23:00 local: quiet hours
    night = plan_received_message(opened(opened_at=late), policy, late)
    assert night.send_at > late
    assert night.send_at.astimezone(UTC).date() == (late + timedelta(days=1)).date()


def test_the_received_message_is_never_in_the_past() -> None:
    now = OPENED + timedelta(hours=1)
    assert plan_received_message(opened(), DealerPolicy(), now).send_at == now


def test_verification_callback_after_the_dealers_delay_for_customer_relations() -> None:
    resolved_at = OPENED + timedelta(hours=5)  # 15:00 local
    policy = DealerPolicy()
    task = plan_verification_task("D001", CUSTOMER, COMPLAINT, resolved_at, policy)
    assert task.kind is TaskKind.COMPLAINT_VERIFICATION
    assert task.key == verification_task_key(COMPLAINT, resolved_at)
    assert task.due_at == resolved_at + timedelta(days=3)
    assert (task.assignee_role, task.assignee_id) == (StaffRole.CUSTOMER_RELATIONS, None)
    quicker = policy.model_copy(
        update={
            "complaints": policy.complaints.model_copy(
                update={"verification_callback_after": timedelta(days=1)}
            )
        }
    )
    assert plan_verification_task(
        "D001", CUSTOMER, COMPLAINT, resolved_at, quicker
    ).due_at == resolved_at + timedelta(days=1)


def test_each_resolution_gets_its_own_verification() -> None:
    later = OPENED + timedelta(days=9)
    assert verification_task_key(COMPLAINT, OPENED) != verification_task_key(COMPLAINT, later)


def test_escalation_keys_name_the_clock() -> None:
    key = escalation_task_key(COMPLAINT, 1, "acknowledge")
    assert is_acknowledge_escalation(key)
    assert not is_acknowledge_escalation(escalation_task_key(COMPLAINT, 2, "resolve"))
    assert not is_acknowledge_escalation(f"complaint:{COMPLAINT}:escalation:1")


def test_the_breach_alert_names_clock_and_deadline() -> None:
    alert = breach_alert(
        ComplaintBreachFacts(
            "D001", CUSTOMER, COMPLAINT, "cr-wang", "resolve", "high", OPENED, OPENED
        )
    )
    english = render_alert(alert, "en")
    assert "resolve" in english.title
    assert COMPLAINT in english.script
    assert "2025-03-03 02:00 UTC" in english.script
    chinese = render_alert(alert, "zh-CN")
    assert "投诉时限已超时" in chinese.title
    assert "2025-03-03 02:00 UTC" in chinese.script


@pytest.mark.parametrize(
    ("level", "role", "expected"),
    [
        (1, "department_manager", StaffRole.DEPARTMENT_MANAGER),
        (2, "gm", StaffRole.GM),
        (3, "oem_region", StaffRole.OEM_REGION),
    ],
)
def test_complaint_escalation_task_goes_to_the_rung(
    level: int, role: str, expected: StaffRole
) -> None:
    task = plan_complaint_escalation_alert(
        ComplaintEscalationFacts("d1", CUSTOMER, "C8", level, role, "resolve", OPENED)
    )
    assert (task.key, task.kind, task.assignee_role, task.due_at) == (
        f"complaint:C8:escalation:{level}:resolve",
        TaskKind.COMPLAINT_ESCALATION,
        expected,
        OPENED,
    )


def test_unknown_escalation_role_is_rejected() -> None:
    facts = ComplaintEscalationFacts("d1", CUSTOMER, "C8", 1, "janitor", "resolve", OPENED)
    with pytest.raises(ValueError, match="janitor"):
        plan_complaint_escalation_alert(facts)
