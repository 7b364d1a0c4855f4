"""Staff task texts in the dealer's staff language, from a real event on Kafka."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D-ZH"


async def test_a_zh_cn_dealers_delivery_tasks_are_written_in_chinese(notifier) -> None:
    notifier.configure(
        DEALER,
        {
            "profile": {"staff_locale": "zh-CN"},
            "policy": {
                "contact": {
                    "task_texts": {
                        "satisfaction_callback": {"zh-CN": {"title": "七日回访"}},
                    }
                }
            },
        },
    )
    event = example_for(VehicleDelivered).model_copy(
        update={
            "dealer_id": DEALER,
            "delivery_id": "DLV-ZH",
            "occurred_at": START,
            "delivered_at": START,
            "consultant_id": "c-li-na",
        }
    )
    await notifier.produce(event)

    async def tasks() -> dict[str, dict[str, Any]]:
        found = await notifier.tasks(dealer_id=DEALER, customer_id=str(event.customer_id))
        return {t["kind"]: t for t in found} if len(found) == 3 else {}

    planned = await notifier.eventually(tasks, "the delivery's tasks")
    callback = planned["delivery_callback"]
    assert callback["title"] == "交车24小时回访: delivery DLV-ZH"
    assert callback["script"] == "交车回访：新车使用如何？对车辆功能有无疑问？"
    assert planned["satisfaction_callback"]["title"] == "七日回访: delivery DLV-ZH"
    assert planned["plate_registration"]["script"].startswith("上牌：")
    scheduled = [
        e["event"]
        for e in await notifier.published("TaskScheduled")
        if e["event"].dealer_id == DEALER
    ]
    assert {e.title for e in scheduled} >= {callback["title"]}
    assert {e.script for e in scheduled} >= {callback["script"]}
