"""A lead's first contact missed again, through the notifier on real Kafka and PostgreSQL
with a ManualClock: the reassign watch publishes the first-contact task's TaskDue again
with the breaches counted, and a LeadAssigned with reason sla_breach moves the task and
tells the previous and the new consultant (another reason tells nobody)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.enums import AssignmentReason
from dealerflow.contracts.events.leads import LeadAssigned, LeadCreated
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"


def lead_created(lead_id: str) -> LeadCreated:
    return example_for(LeadCreated).model_copy(
        update={
            "dealer_id": DEALER,
            "lead_id": lead_id,
            "occurred_at": START,
            "created_at": START,
            "consultant_id": "c-li-na",
        }
    )


def lead_assigned(lead_id: str, reason: AssignmentReason, at: datetime) -> LeadAssigned:
    return example_for(LeadAssigned).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": lead_created(lead_id).customer_id,
            "lead_id": lead_id,
            "consultant_id": "c-wang",
            "previous_consultant_id": "c-li-na",
            "reason": reason,
            "assigned_by": "system",
            "occurred_at": at,
            "assigned_at": at,
        }
    )


async def test_the_reassign_watch_reports_the_second_breach(notifier: Any) -> None:
    await notifier.produce(lead_created("L-21"))

    async def first_contact() -> list[dict[str, Any]]:
        return [
            t
            for t in await notifier.tasks()
            if t["kind"] == "lead_first_contact" and t["related"]["id"] == "L-21"
        ]

    [task] = await notifier.eventually(first_contact, "the first-contact task")

    def due_of_task(found: list[dict[str, Any]]) -> list[int]:
        return sorted(d["event"].breaches for d in found if d["event"].task_id == task["id"])

    # online: due after 15 business minutes (breach 1), the reassign watch 15 more (breach 2)
    notifier.clock.set(START + timedelta(minutes=15))

    async def breaches(count: int) -> list[int] | None:
        found = due_of_task(await notifier.published("TaskDue", within_s=0.5))
        return found if len(found) >= count else None

    assert await notifier.eventually(lambda: breaches(1), "TaskDue at the due time") == [1]
    notifier.clock.set(START + timedelta(minutes=30))
    assert await notifier.eventually(lambda: breaches(2), "TaskDue at the watch") == [1, 2]

    async def reassign_task() -> list[dict[str, Any]]:
        return [
            t
            for t in await notifier.tasks()
            if t["business_key"] == "lead:L-21:first-contact:reassign"
        ]

    [manager_task] = await notifier.eventually(reassign_task, "the manager's reassign task")
    assert manager_task["assignee"] == f"sales-manager:{DEALER}"
    # nothing reports it again: a lead created later, overdue at once, shows the poller
    # went past every timer of L-21
    notifier.clock.set(START + timedelta(hours=3))
    await notifier.produce(lead_created("L-22"))

    async def marker_breached() -> bool:
        found = await notifier.published("TaskDue", within_s=0.5)
        return any(d["event"].related.id == "L-22" and d["event"].breaches == 2 for d in found)

    await notifier.eventually(marker_breached, "the later lead's second breach")
    assert due_of_task(await notifier.published("TaskDue")) == [1, 2]


async def test_a_breach_reassignment_tells_both_consultants(notifier: Any) -> None:
    await notifier.produce(lead_created("L-23"))

    async def task_of(lead: str) -> list[dict[str, Any]]:
        return [t for t in await notifier.tasks() if t["related"]["id"] == lead]

    await notifier.eventually(lambda: task_of("L-23"), "the first-contact task")
    at = START + timedelta(minutes=31)
    notifier.clock.set(at)
    await notifier.produce(lead_assigned("L-23", AssignmentReason.SLA_BREACH, at))

    async def told() -> list[dict[str, Any]] | None:
        found = [
            n
            for n in await notifier.notifications()
            if n["kind"] == "lead_reassigned_sla_breach" and n["status"] == "sent"
        ]
        return found if len(found) == 2 else None

    messages = await notifier.eventually(told, "both consultants told")
    assert sorted(n["recipient"] for n in messages) == ["c-li-na", "c-wang"]
    assert {n["related"]["id"] for n in messages} == {"L-23"}
    [first_contact] = [t for t in await task_of("L-23") if t["kind"] == "lead_first_contact"]
    assert first_contact["assignee"] == "c-wang"  # the open task moved with the lead

    # a manual reassignment of another lead tells nobody (the marker: its task moved)
    await notifier.produce(lead_created("L-24"))
    await notifier.eventually(lambda: task_of("L-24"), "the other lead's task")
    await notifier.produce(lead_assigned("L-24", AssignmentReason.MANUAL, at))

    async def moved() -> bool:
        first = [t for t in await task_of("L-24") if t["kind"] == "lead_first_contact"]
        return [t["assignee"] for t in first] == ["c-wang"]

    await notifier.eventually(moved, "the manual reassignment handled")
    kinds = [n["kind"] for n in await notifier.notifications() if n["related"]["id"] == "L-24"]
    assert "lead_reassigned_sla_breach" not in kinds
