"""The discount-approval task: DiscountApprovalRequested opens it for the dealer's
approver, DiscountApprovalDecided closes it (the decision and the task are one piece of
work). Rules: :mod:`domain_approvals`."""

from __future__ import annotations

from dealerflow.contracts.care_enums import TaskCancelReason
from dealerflow.notifier import domain_approvals
from dealerflow.notifier import repository as repo
from dealerflow.notifier.domain_approvals import ApprovalRequestFacts
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases_tasks import cancel_tasks, schedule_task
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]


async def on_discount_approval_requested(uc: Uc, request: ApprovalRequestFacts) -> None:
    """The approver's task, once per approval request (a redelivery plans no second)."""
    await schedule_task(uc, domain_approvals.plan_approval_task(request))


async def on_discount_approval_decided(uc: Uc, dealer_id: str, approval_id: str) -> None:
    """The manager decided in sales: the open approval task is no longer needed."""
    selected = repo.TaskSelection(
        dealer_id, key_prefix=domain_approvals.approval_task_key(approval_id)
    )
    await cancel_tasks(uc, selected, TaskCancelReason.NO_LONGER_NEEDED)
