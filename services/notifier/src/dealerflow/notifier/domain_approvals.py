"""The sales manager's discount-approval task (DOMAIN.md 2): opened by
DiscountApprovalRequested, closed by DiscountApprovalDecided. Pure rules, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from dealerflow.contracts.care_enums import RecordKind, TaskKind
from dealerflow.notifier.domain_task_texts import staff_text
from dealerflow.notifier.domain_types import PlannedTask, RecordRef, StaffRole


@dataclass(frozen=True, slots=True)
class ApprovalRequestFacts:
    """What the notifier needs of DiscountApprovalRequested."""

    dealer_id: str
    customer_id: UUID
    approval_id: str
    quote_id: str
    approver_id: str | None  # the dealer's approver sales chose (maybe a placeholder)
    requested_discount: str  # "12000.00 CNY"
    policy_threshold: str
    requested_at: datetime


def approval_task_key(approval_id: str) -> str:
    """Business key of the approval task: one per approval request."""
    return f"discount-approval:{approval_id}"


def plan_approval_task(request: ApprovalRequestFacts) -> PlannedTask:
    """The approver's task, due at once: approve or reject the quote's discount. A
    placeholder approver (``gm:D001``, ``sales-manager:D001``: the dealer lists nobody in
    the role) leaves the task to whoever holds the role on the day."""
    placeholder = request.approver_id is not None and ":" in request.approver_id
    role = (
        StaffRole.GM
        if placeholder and str(request.approver_id).startswith("gm:")
        else StaffRole.SALES_MANAGER
    )
    return PlannedTask(
        key=approval_task_key(request.approval_id),
        kind=TaskKind.DISCOUNT_APPROVAL,
        dealer_id=request.dealer_id,
        customer_id=request.customer_id,
        due_at=request.requested_at.astimezone(UTC),
        assignee_role=role,
        assignee_id=None if placeholder else request.approver_id,
        related=RecordRef(RecordKind.QUOTE, request.quote_id),
        **staff_text(
            TaskKind.DISCOUNT_APPROVAL,
            requested=request.requested_discount,
            threshold=request.policy_threshold,
        ),
    )
