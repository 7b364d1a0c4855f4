"""The discount-approval task from Kafka, through the whole notifier on real Kafka and
PostgreSQL: DiscountApprovalRequested opens the approver's task once (a redelivery adds
none), DiscountApprovalDecided closes it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from dealerflow.contracts.events.sales import DiscountApprovalDecided, DiscountApprovalRequested
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


async def test_the_approval_request_opens_the_managers_task_and_the_decision_closes_it(
    notifier: Any,
) -> None:
    requested = example_for(DiscountApprovalRequested).model_copy(
        update={
            "dealer_id": "D001",
            "occurred_at": START,
            "requested_at": START,
            "approver_id": "sales-manager:D001",
        }
    )
    customer = str(requested.customer_id)
    await notifier.produce(requested)
    await notifier.produce(requested)  # redelivered under another event id: still one task

    async def opened() -> list[dict[str, Any]] | None:
        found = [
            t
            for t in await notifier.tasks(customer_id=customer)
            if t["kind"] == "discount_approval"
        ]
        return found or None

    [task] = await notifier.eventually(opened, "the approval task")
    assert task["assignee"] == "sales-manager:D001"
    assert task["related"] == {"kind": "quote", "id": requested.quote_id}
    assert task["status"] in ("scheduled", "due")

    decided = example_for(DiscountApprovalDecided).model_copy(
        update={
            "dealer_id": "D001",
            "customer_id": requested.customer_id,
            "approval_id": requested.approval_id,
            "quote_id": requested.quote_id,
            "occurred_at": START,
            "decided_at": START,
        }
    )
    await notifier.produce(decided)

    async def closed() -> list[dict[str, Any]] | None:
        found = [
            t
            for t in await notifier.tasks(customer_id=customer)
            if t["kind"] == "discount_approval" and t["status"] == "cancelled"
        ]
        return found or None

    [done] = await notifier.eventually(closed, "the approval task closed")
    assert done["id"] == task["id"]
    assert len(await notifier.tasks(customer_id=customer)) == 1
