"""The parts manager's reorder task planned from PartStockLow."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from dealerflow.contracts.care_enums import RecordKind, TaskKind
from dealerflow.notifier.domain_parts import StockLowFacts, plan_reorder_task, reorder_task_prefix
from dealerflow.notifier.domain_types import StaffRole

AT = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)


def test_the_reorder_task_is_for_the_parts_manager_at_once() -> None:
    facts = StockLowFacts("D001", uuid.uuid4(), "OF-1001", "Oil filter", 4, 5, AT)
    task = plan_reorder_task(facts)
    assert task.kind is TaskKind.PARTS_REORDER
    assert task.assignee_role is StaffRole.PARTS_MANAGER
    assert task.assignee_id is None
    assert task.due_at == AT
    assert (task.related.kind, task.related.id) == (RecordKind.PART, "OF-1001")
    assert task.key.startswith(reorder_task_prefix("OF-1001"))
    assert "4 on hand" in task.script


def test_a_redelivery_plans_the_same_task() -> None:
    facts = StockLowFacts("D001", uuid.uuid4(), "OF-1001", "Oil filter", 4, 5, AT)
    assert plan_reorder_task(facts).key == plan_reorder_task(facts).key
