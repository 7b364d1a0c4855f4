"""Rules of staff working their tasks (domain_task_actions): claim, snooze limit, manual
task role, overdue escalation, unreachable callbacks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dealerflow.contracts.care_enums import RecordKind, TaskKind, TaskOutcome
from dealerflow.notifier.domain import PlannedTask, RecordRef, TaskRuleError
from dealerflow.notifier.domain_task_actions import (
    check_manual_due,
    check_snooze,
    count_unreachable,
    escalates_when_overdue,
    escalation_role,
    manual_task_key,
    manual_task_role,
    may_claim,
    overdue_key,
    plan_unreachable_follow_up,
    snooze_limit,
)
from dealerflow.notifier.domain_types import StaffRole
from dealerflow.policy import BusinessCalendar, DealerPolicy

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)


def test_front_line_staff_claim_their_own_or_their_role_s_pool_only() -> None:
    assert may_claim(["consultant"], "c-1", "c-1", "D001")
    assert may_claim(["consultant"], "c-1", "consultant:D001", "D001")
    assert not may_claim(["consultant"], "c-1", "advisor:D001", "D001")
    assert not may_claim(["consultant"], "c-1", "consultant:D002", "D001")
    assert not may_claim(["consultant"], "c-1", "c-2", "D001")
    assert may_claim(["consultant", "advisor"], "c-1", "advisor:D001", "D001")
    # everyone else on the staff takes any task
    assert may_claim(["customer_relations"], "cr-1", "c-2", "D001")
    assert may_claim(["consultant", "sales_manager"], "sm-1", "c-2", "D001")


def test_a_snooze_stops_at_the_hard_sla() -> None:
    planned = NOW + timedelta(hours=1)
    week = timedelta(days=7)
    assert snooze_limit(TaskKind.DELIVERY_CALLBACK, planned, week) == planned + week
    assert snooze_limit("manual", planned, week) == planned + week
    for bound in (TaskKind.LEAD_FIRST_CONTACT, TaskKind.COMPLAINT_HANDLING):
        assert snooze_limit(bound, planned, week) == planned
    assert snooze_limit("not-a-kind", planned, week) == planned + week

    limit = planned + week
    assert check_snooze(limit, NOW, limit, "customer_asked") == limit
    with pytest.raises(TaskRuleError, match="hard SLA"):
        check_snooze(limit + timedelta(seconds=1), NOW, limit, "customer_asked")
    with pytest.raises(TaskRuleError, match="future"):
        check_snooze(NOW, NOW, limit, "other")
    with pytest.raises(TaskRuleError, match="reason"):
        check_snooze(planned, NOW, limit, "bored")


def test_a_manual_task_is_due_now_or_later_and_filed_under_the_caller_s_role() -> None:
    assert check_manual_due(NOW, NOW) == NOW
    assert check_manual_due(NOW - timedelta(seconds=30), NOW) == NOW - timedelta(seconds=30)
    with pytest.raises(TaskRuleError, match="past"):
        check_manual_due(NOW - timedelta(hours=1), NOW)
    assert manual_task_key("abc") == "manual:abc"
    assert manual_task_role(["advisor"]) is StaffRole.ADVISOR
    assert manual_task_role(["gm", "consultant"]) is StaffRole.CONSULTANT
    assert manual_task_role(["service_manager"]) is StaffRole.SERVICE_MANAGER
    assert manual_task_role(["customer_relations"]) is StaffRole.CUSTOMER_RELATIONS


def test_an_overdue_task_escalates_to_the_manager_of_its_role_once() -> None:
    assert escalation_role("consultant") is StaffRole.SALES_MANAGER
    assert escalation_role(StaffRole.ADVISOR) is StaffRole.SERVICE_MANAGER
    assert escalation_role("parts_manager") is StaffRole.SERVICE_MANAGER
    assert escalation_role("customer_relations") is StaffRole.GM
    assert escalation_role("somebody") is StaffRole.GM
    assert escalates_when_overdue(TaskKind.DELIVERY_CALLBACK, "contract:1:callback")
    assert escalates_when_overdue("future-kind", "k")
    assert not escalates_when_overdue(TaskKind.LEAD_FIRST_CONTACT, "lead:1:first-contact")
    assert not escalates_when_overdue(TaskKind.COMPLAINT_ESCALATION, "complaint:1")
    assert overdue_key("manual:1") == "manual:1:overdue"
    assert not escalates_when_overdue(TaskKind.OTHER, overdue_key("manual:1"))
    # the first-contact watches' tasks are escalations already
    assert not escalates_when_overdue(TaskKind.OTHER, "lead:1:first-contact:escalate")
    assert not escalates_when_overdue(TaskKind.OTHER, "lead:1:first-contact:reassign")


def _callback(kind: TaskKind = TaskKind.DELIVERY_CALLBACK) -> PlannedTask:
    return PlannedTask(
        key="delivery:1:callback-24h",
        kind=kind,
        dealer_id="D001",
        customer_id=uuid.UUID(int=1),
        due_at=NOW,
        assignee_role=StaffRole.CONSULTANT,
        assignee_id="c-1",
        related=RecordRef(RecordKind.CONTRACT, "K-1"),
        script="Call the new owner.",
    )


def test_unreachable_callbacks_are_tried_again_then_handed_to_customer_relations() -> None:
    assert count_unreachable(["unreachable", None, TaskOutcome.UNREACHABLE, "reached"]) == 2
    calendar = BusinessCalendar(DealerPolicy())
    first = _callback()
    second = plan_unreachable_follow_up(first, 1, NOW, calendar, 3)
    assert second is not None
    assert second.key == "delivery:1:callback-24h:attempt-2"
    assert (second.kind, second.assignee_id) == (TaskKind.DELIVERY_CALLBACK, "c-1")
    assert second.due_at == calendar.add_business_days(NOW, 1)
    assert second.script == "Attempt 2: Call the new owner."
    fallback = plan_unreachable_follow_up(first, 3, NOW, calendar, 3)
    assert fallback is not None
    assert fallback.key == "delivery:1:callback-24h:unreachable-fallback"
    assert (fallback.kind, fallback.assignee_role, fallback.assignee_id) == (
        TaskKind.OTHER,
        StaffRole.CUSTOMER_RELATIONS,
        None,
    )
    assert fallback.due_at == NOW
    assert "unreachable on 3 attempts" in fallback.script
    # no rule, other kinds, nothing unreachable: nothing follows
    assert plan_unreachable_follow_up(first, 1, NOW, calendar, None) is None
    lead_task = _callback(TaskKind.LEAD_FOLLOW_UP)
    assert plan_unreachable_follow_up(lead_task, 1, NOW, calendar, 3) is None
    assert plan_unreachable_follow_up(first, 0, NOW, calendar, 3) is None
