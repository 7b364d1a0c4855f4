"""The discount-approval task (domain_approvals), pure."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

from dealerflow.contracts.care_enums import RecordKind, TaskKind
from dealerflow.notifier.domain_approvals import (
    ApprovalRequestFacts,
    approval_task_key,
    plan_approval_task,
)
from dealerflow.notifier.domain_types import RecordRef, StaffRole

AT = datetime(2026, 3, 8, 12, 4, tzinfo=timezone(timedelta(hours=8)))


def request(approver_id: str | None) -> ApprovalRequestFacts:
    return ApprovalRequestFacts(
        dealer_id="D001",
        customer_id=uuid.UUID(int=7),
        approval_id="appr-12",
        quote_id="q-4410",
        approver_id=approver_id,
        requested_discount="10000.00 CNY",
        policy_threshold="8000.00 CNY",
        requested_at=AT,
    )


def test_the_named_approver_gets_the_task_due_at_once_about_the_quote() -> None:
    task = plan_approval_task(request("m-zhou"))
    assert task.key == approval_task_key("appr-12") == "discount-approval:appr-12"
    assert task.kind is TaskKind.DISCOUNT_APPROVAL
    assert (task.assignee_role, task.assignee_id) == (StaffRole.SALES_MANAGER, "m-zhou")
    assert task.due_at == AT.astimezone(UTC)
    assert task.related == RecordRef(RecordKind.QUOTE, "q-4410")
    assert "10000.00 CNY" in task.script
    assert "8000.00 CNY" in task.script


def test_a_placeholder_approver_leaves_the_task_to_the_role() -> None:
    manager = plan_approval_task(request("sales-manager:D001"))
    assert (manager.assignee_role, manager.assignee_id) == (StaffRole.SALES_MANAGER, None)
    gm = plan_approval_task(request("gm:D001"))
    assert (gm.assignee_role, gm.assignee_id) == (StaffRole.GM, None)
    nobody = plan_approval_task(request(None))
    assert (nobody.assignee_role, nobody.assignee_id) == (StaffRole.SALES_MANAGER, None)
