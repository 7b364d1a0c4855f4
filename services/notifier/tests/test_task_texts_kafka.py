"""Staff task texts and staff alerts in the dealer's staff language, from real events on
Kafka."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.care_enums import SlaClock
from dealerflow.contracts.events.complaints import ComplaintEscalated, ComplaintSlaBreached
from dealerflow.contracts.events.leads import LeadCreated
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
    assert callback["title"] == "交车24小时回访: 交车 DLV-ZH"
    assert callback["script"] == "交车回访：新车使用如何？对车辆功能有无疑问？"
    assert planned["satisfaction_callback"]["title"] == "七日回访: 交车 DLV-ZH"
    assert planned["plate_registration"]["script"].startswith("上牌：")
    scheduled = [
        e["event"]
        for e in await notifier.published("TaskScheduled")
        if e["event"].dealer_id == DEALER
    ]
    assert {e.title for e in scheduled} >= {callback["title"]}
    assert {e.script for e in scheduled} >= {callback["script"]}


async def test_a_zh_cn_dealers_staff_alerts_are_written_in_chinese(notifier) -> None:
    """A complaint escalated (ComplaintEscalated) and its handler's breach alert
    (ComplaintSlaBreached): the staff messages in the staff language, one in the
    dealer's own wording."""
    dealer, complaint = "D-ZH-ALERTS", "5b8f2c1e-0d7a-4e1b-9c3d-7a6e5f4d3c21"
    notifier.configure(
        dealer,
        {
            "profile": {"staff_locale": "zh-CN"},
            "policy": {
                "contact": {
                    "task_texts": {
                        "alert.complaint_escalated": {
                            "zh-CN": {"title": "请处理升级投诉{complaint_id}"}
                        },
                    }
                }
            },
        },
    )
    due = START + timedelta(minutes=30)
    facts = {"dealer_id": dealer, "complaint_id": complaint, "occurred_at": due}
    breach = example_for(ComplaintSlaBreached).model_copy(
        update={
            **facts,
            "clock": SlaClock.ACKNOWLEDGE,
            "handler_id": "cr-zhao",
            "due_at": due,
            "breached_at": due,
        }
    )
    escalated = example_for(ComplaintEscalated).model_copy(
        update={
            **facts,
            "customer_id": breach.customer_id,
            "level": 1,
            "clock": SlaClock.ACKNOWLEDGE,
            "due_at": due,
            "escalated_at": due,
            "to_staff_id": "m-after-sales",
        }
    )
    await notifier.produce(breach)
    await notifier.produce(escalated)

    async def alerts() -> dict[str, dict[str, Any]]:
        found = await notifier.notifications(dealer_id=dealer, customer_id=str(breach.customer_id))
        staff = {n["kind"]: n for n in found if n["audience"] == "staff"}
        return staff if len(staff) == 2 else {}

    told = await notifier.eventually(alerts, "the breach and escalation alerts")
    handler, manager = told["complaint_sla_breach"], told["complaint_escalation"]
    assert handler["recipient"] == "cr-zhao"
    assert handler["locale"] == "zh-CN"
    assert handler["subject"] == "投诉时限已超时（acknowledge）"
    assert complaint in handler["body"]
    assert "正在升级" in handler["body"]
    assert manager["subject"] == f"请处理升级投诉{complaint}"  # the dealer's wording
    assert manager["body"].endswith("请接手处理并联系客户。")  # the built-in body


async def test_a_zh_cn_dealers_first_contact_escalation_is_titled_in_chinese(notifier) -> None:
    """The manager's task of a missed first contact (LeadCreated, then the SLA breach)
    and its staff alert: titles and record names in the staff language."""
    dealer = "D-ZH-LEADS"
    notifier.configure(dealer, {"profile": {"staff_locale": "zh-CN"}})
    created = example_for(LeadCreated).model_copy(
        update={
            "dealer_id": dealer,
            "lead_id": "L-ZH",
            "occurred_at": START,
            "created_at": START,
            "consultant_id": "c-li-na",
        }
    )
    await notifier.produce(created)

    async def first_contact() -> list[dict[str, Any]]:
        found = await notifier.tasks(dealer_id=dealer, customer_id=str(created.customer_id))
        return [t for t in found if t["kind"] == "lead_first_contact"]

    [task] = await notifier.eventually(first_contact, "the first-contact task")
    assert task["title"] == "首次联系: 线索 L-ZH"
    notifier.clock.set(START + timedelta(minutes=15))  # an online lead's SLA: 15 minutes

    async def escalated() -> list[dict[str, Any]]:
        found = await notifier.tasks(dealer_id=dealer, customer_id=str(created.customer_id))
        return [t for t in found if t["assignee"] == f"sales-manager:{dealer}"]

    [escalation] = await notifier.eventually(escalated, "the escalation task")
    assert escalation["title"] == "首次联系超时: 线索 L-ZH"
    assert escalation["script"].startswith("首次联系超时。线索 L-ZH的首次联系应于")

    async def alert() -> list[dict[str, Any]]:
        found = await notifier.notifications(dealer_id=dealer, customer_id=str(created.customer_id))
        return [n for n in found if n["kind"] == "first_contact_escalation"]

    [told] = await notifier.eventually(alert, "the escalation alert")
    assert (told["locale"], told["subject"]) == ("zh-CN", "已超时：首次联系: 线索 L-ZH")
