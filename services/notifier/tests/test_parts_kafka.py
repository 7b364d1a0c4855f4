"""The reorder task from Kafka, through the whole notifier on real Kafka and PostgreSQL:
PartStockLow opens one task for the parts manager (placeholder when the dealer lists
none; a redelivery adds none); a later crossing replaces the open task, and a receipt that
lifts the part above its reorder point (PartStockReplenished) cancels it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.events.service import PartStockLow, PartStockReplenished
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


async def test_stock_low_opens_the_reorder_task_and_a_later_crossing_replaces_it(
    notifier: Any,
) -> None:
    low = example_for(PartStockLow).model_copy(
        update={"dealer_id": "D001", "occurred_at": START, "detected_at": START}
    )
    customer = str(low.customer_id)
    await notifier.produce(low)
    await notifier.produce(low)  # redelivered under another event id: still one task

    async def reorder_tasks(count: int) -> list[dict[str, Any]] | None:
        found = [
            t for t in await notifier.tasks(customer_id=customer) if t["kind"] == "parts_reorder"
        ]
        return found if len(found) == count else None

    [task] = await notifier.eventually(lambda: reorder_tasks(1), "the reorder task")
    assert task["assignee"] == "parts-manager:D001"
    assert task["related"] == {"kind": "part", "id": low.part_number}
    assert task["status"] in ("scheduled", "due")

    later = START + timedelta(days=3)
    await notifier.produce(low.model_copy(update={"occurred_at": later, "detected_at": later}))
    tasks = await notifier.eventually(lambda: reorder_tasks(2), "the second reorder task")
    by_status = {t["status"]: t for t in tasks}
    assert by_status["cancelled"]["id"] == task["id"]


async def test_a_receipt_above_the_reorder_point_cancels_the_open_reorder_task(
    notifier: Any,
) -> None:
    low = example_for(PartStockLow).model_copy(
        update={"dealer_id": "D001", "occurred_at": START, "detected_at": START}
    )
    customer = str(low.customer_id)
    await notifier.produce(low)

    async def reorder_task(*statuses: str) -> dict[str, Any] | None:
        for t in await notifier.tasks(customer_id=customer):
            if t["kind"] == "parts_reorder" and t["status"] in statuses:
                return t
        return None

    opened = await notifier.eventually(lambda: reorder_task("scheduled", "due"), "the reorder task")
    later = START + timedelta(days=2)
    back = example_for(PartStockReplenished).model_copy(
        update={
            "dealer_id": "D001",
            "customer_id": low.customer_id,
            "part_number": low.part_number,
            "occurred_at": later,
            "replenished_at": later,
        }
    )
    await notifier.produce(back)
    cancelled = await notifier.eventually(lambda: reorder_task("cancelled"), "the task cancelled")
    assert cancelled["id"] == opened["id"]
