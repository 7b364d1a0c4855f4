"""A complaint's work in the notifier, from the complaints topic of an outside producer,
on real Kafka and PostgreSQL: the handler's task and the "we received it" message at once,
a new handler taking the task over, the handler's breach alert, an acknowledgement
cancelling the acknowledge clock's escalation, the verification callback after the
resolution, and a new handling task when the complaint reopens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.care_enums import SlaClock
from dealerflow.contracts.events.complaints import (
    ComplaintAcknowledged,
    ComplaintAssigned,
    ComplaintEscalated,
    ComplaintOpened,
    ComplaintReopened,
    ComplaintResolved,
    ComplaintSlaBreached,
)
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"
COMPLAINT = "9d1c3b8e-4f63-4d8a-9a37-2d1b5e0c7a11"


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def event(cls: Any, **changes: Any) -> Any:
    return example_for(cls).model_copy(
        update={"dealer_id": DEALER, "complaint_id": COMPLAINT, "occurred_at": START, **changes}
    )


async def test_a_complaint_from_opening_to_reopening(notifier: Any) -> None:
    opened = event(
        ComplaintOpened,
        handler_id="cr-wang",
        opened_at=START,
        acknowledge_due_at=START + timedelta(minutes=30),
        resolve_due_at=START + timedelta(hours=24),
    )
    customer = str(opened.customer_id)
    await notifier.produce(opened)
    await notifier.produce(opened)  # re-published under a new id: nothing twice

    async def of_kind(kind: str, n: int = 1) -> list[dict[str, Any]] | None:
        found = [t for t in await notifier.tasks(customer_id=customer) if t["kind"] == kind]
        return found if len(found) >= n else None

    [handling] = await notifier.eventually(
        lambda: of_kind("complaint_handling"), "the handling task"
    )
    assert handling["assignee"] == "cr-wang"
    assert parse(handling["due_at"]) == START + timedelta(minutes=30)
    assert handling["related"] == {"kind": "complaint", "id": COMPLAINT}
    assert "2025-03-03 02:30 UTC" in handling["script"]

    async def received() -> list[dict[str, Any]] | None:
        found = [
            n
            for n in await notifier.notifications(customer_id=customer)
            if n["kind"] == "complaint_update"
        ]
        return found or None

    [message] = await notifier.eventually(received, "the we-received-it message")
    assert message["audience"] == "customer"
    assert "9D1C3B8E" in (message["body"] or "")

    # a new handler takes the handling task over
    await notifier.produce(
        event(
            ComplaintAssigned,
            handler_id="cr-zhao",
            previous_handler_id="cr-wang",
            assigned_at=START + timedelta(minutes=5),
        )
    )

    async def moved() -> dict[str, Any] | None:
        [task] = await of_kind("complaint_handling") or [None]
        return task if task and task["assignee"] == "cr-zhao" else None

    await notifier.eventually(moved, "the handling task with the new handler")

    # the acknowledge clock breaches: the handler is told, the manager gets a task
    due = START + timedelta(minutes=30)
    breach = event(
        ComplaintSlaBreached,
        clock=SlaClock.ACKNOWLEDGE,
        handler_id="cr-zhao",
        due_at=due,
        breached_at=due,
    )
    await notifier.produce(breach)
    await notifier.produce(breach)  # the same breach again: one message
    escalated = event(
        ComplaintEscalated,
        level=1,
        clock=SlaClock.ACKNOWLEDGE,
        due_at=due,
        escalated_at=due,
        to_staff_id="m-after-sales",
    )
    await notifier.produce(escalated)

    async def breach_alerts() -> list[dict[str, Any]] | None:
        found = [
            n
            for n in await notifier.notifications(customer_id=customer)
            if n["kind"] == "complaint_sla_breach"
        ]
        return found or None

    [alert] = await notifier.eventually(breach_alerts, "the handler's breach alert")
    assert alert["recipient"] == "cr-zhao"
    [escalation] = await notifier.eventually(
        lambda: of_kind("complaint_escalation"), "the escalation task"
    )
    assert escalation["business_key"] == f"complaint:{COMPLAINT}:escalation:1:acknowledge"

    await notifier.produce(event(ComplaintAcknowledged, handler_id="cr-zhao", acknowledged_at=due))

    async def escalation_cancelled() -> bool:
        [task] = await of_kind("complaint_escalation") or [{}]
        return task.get("status") == "cancelled"

    await notifier.eventually(escalation_cancelled, "the acknowledge escalation cancelled")
    assert len(await breach_alerts() or []) == 1

    # resolution: the handling task is done with, the verification callback is planned
    resolved_at = START + timedelta(hours=6)
    await notifier.produce(event(ComplaintResolved, resolved_at=resolved_at))
    [verification] = await notifier.eventually(
        lambda: of_kind("complaint_verification"), "the verification callback"
    )
    assert parse(verification["due_at"]) == resolved_at + timedelta(days=3)
    assert verification["related"] == {"kind": "complaint", "id": COMPLAINT}
    assert verification["assignee"] == "customer-relations:D001"  # nobody holds the role
    [handling_after] = await of_kind("complaint_handling") or []
    assert handling_after["status"] == "cancelled"

    # the customer is not satisfied: a new handling task, due at once
    reopened_at = START + timedelta(days=3, hours=1)
    await notifier.produce(
        event(
            ComplaintReopened,
            handler_id="cr-zhao",
            reopen_count=1,
            reopened_at=reopened_at,
        )
    )
    tasks = await notifier.eventually(
        lambda: of_kind("complaint_handling", 2), "the handling task of the reopening"
    )
    [again] = [t for t in tasks if t["id"] != handling["id"]]
    assert again["assignee"] == "cr-zhao"
    assert parse(again["due_at"]) == reopened_at
    assert again["business_key"] == f"complaint:{COMPLAINT}:handling:reopened-1"
