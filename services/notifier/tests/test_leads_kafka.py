"""Leads events from Kafka, through to tasks, watches, staff alerts and customer reminders:
LeadCreated / LeadContacted (first contact), LeadGraded / LeadLost (follow-up cadence),
AppointmentScheduled (reminders).

Runs the whole notifier against real Kafka and PostgreSQL with a ManualClock: the test
moves time and the service's own timer poller fires what fell due.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.enums import LeadGrade
from dealerflow.contracts.events.leads import (
    AppointmentScheduled,
    LeadContacted,
    LeadCreated,
    LeadGraded,
    LeadLost,
)
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"


def lead_created(lead_id: str, **changes: Any) -> LeadCreated:
    return example_for(LeadCreated).model_copy(
        update={
            "dealer_id": DEALER,
            "lead_id": lead_id,
            "occurred_at": START,
            "created_at": START,
            "consultant_id": "c-li-na",
            **changes,
        }
    )


def lead_contacted(lead_id: str, at: datetime) -> LeadContacted:
    return example_for(LeadContacted).model_copy(
        update={
            "dealer_id": DEALER,
            "lead_id": lead_id,
            "occurred_at": at,
            "contacted_at": at,
            "consultant_id": "c-li-na",
        }
    )


def iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_online_lead_gets_task_warning_escalation_then_contact_closes_all(
    notifier,
) -> None:
    await notifier.produce(lead_created("L-1"))

    async def first_contact_task() -> list[dict[str, Any]]:
        return [t for t in await notifier.tasks() if t["kind"] == "lead_first_contact"]

    [task] = await notifier.eventually(first_contact_task, "the first-contact task")
    # online lead: 15 business minutes from 10:00 local
    assert parse(task["due_at"]) == START + timedelta(minutes=15)
    assert task["assignee"] == "c-li-na"
    assert task["status"] == "scheduled"
    assert task["business_key"] == "lead:L-1:first-contact"
    assert task["related"] == {"kind": "lead", "id": "L-1"}

    # 80 % of the SLA: the consultant is warned, nothing else happens
    notifier.clock.set(START + timedelta(minutes=12))

    async def warning() -> list[dict[str, Any]]:
        return [
            n
            for n in await notifier.notifications()
            if n["kind"] == "first_contact_warning" and n["status"] == "sent"
        ]

    [warn] = await notifier.eventually(warning, "the 80 % warning to the consultant")
    assert warn["audience"] == "staff"
    assert warn["recipient"] == "c-li-na"
    assert (await notifier.tasks(status="due")) == []

    # breach: the task is due and the sales manager gets an escalation task and an alert
    notifier.clock.set(START + timedelta(minutes=15))

    async def escalated() -> list[dict[str, Any]]:
        return [t for t in await notifier.tasks() if t["assignee"] == f"sales-manager:{DEALER}"]

    [escalation] = await notifier.eventually(escalated, "the escalation task")
    assert escalation["business_key"] == "lead:L-1:first-contact:escalate"
    assert escalation["related"] == {"kind": "lead", "id": "L-1"}

    async def first_task_due() -> bool:
        return [t["status"] for t in await first_contact_task()] == ["due"]

    await notifier.eventually(first_task_due, "status due on the first-contact task")
    alerts = [n for n in await notifier.notifications() if n["kind"] == "first_contact_escalation"]
    assert [a["recipient"] for a in alerts] == [f"sales-manager:{DEALER}"]

    # the contact is recorded late: the task is done (reached) and the escalation is moot
    await notifier.produce(lead_contacted("L-1", START + timedelta(minutes=20)))

    async def closed() -> bool:
        return [t["status"] for t in await first_contact_task()] == ["done"]

    await notifier.eventually(closed, "the first-contact task to be closed")
    [done] = await first_contact_task()
    assert done["outcome"] == "reached"
    assert done["completed_by"] == "c-li-na"
    [moot] = await notifier.tasks(assignee=f"sales-manager:{DEALER}")
    assert moot["status"] == "cancelled"

    # the reassign watch (second breach, 10:30 local) was cancelled with the rest
    notifier.clock.set(START + timedelta(hours=2))
    async with notifier.pool.acquire() as conn:
        pending = await conn.fetchval("SELECT count(*) FROM timers WHERE status = 'pending'")
    assert pending == 0
    assert len(await notifier.tasks()) == 2


async def test_contact_before_due_cancels_the_watches(notifier) -> None:
    await notifier.produce(lead_created("L-2"))

    async def task_of(lead: str) -> list[dict[str, Any]]:
        return [t for t in await notifier.tasks() if t["business_key"].startswith(f"lead:{lead}")]

    await notifier.eventually(lambda: task_of("L-2"), "the first-contact task")
    notifier.clock.set(START + timedelta(minutes=5))
    await notifier.produce(lead_contacted("L-2", START + timedelta(minutes=5)))

    async def done() -> bool:
        return [t["status"] for t in await task_of("L-2")] == ["done"]

    await notifier.eventually(done, "the task closed by LeadContacted")
    [task] = await task_of("L-2")
    assert task["outcome"] == "reached"

    async with notifier.pool.acquire() as conn:
        rows = await conn.fetch("SELECT key, status FROM timers ORDER BY key")
    statuses = {r["key"]: r["status"] for r in rows}
    assert statuses == {
        f"{DEALER}:lead:L-2:first-contact": "cancelled",
        f"{DEALER}:lead:L-2:first-contact:warn": "cancelled",
        f"{DEALER}:lead:L-2:first-contact:escalate": "cancelled",
        f"{DEALER}:lead:L-2:first-contact:reassign": "cancelled",
    }

    # long after the SLA: no warning, no escalation, the task stays done
    notifier.clock.set(START + timedelta(days=1))
    await notifier.produce(lead_created("L-3"))  # a marker: once it is handled, L-2 is too
    await notifier.eventually(lambda: task_of("L-3"), "the marker lead's task")
    [task] = await task_of("L-2")
    assert task["status"] == "done"
    assert [n for n in await notifier.notifications() if n["related"]["id"] == "L-2"] == []


def lead_graded(lead_id: str, grade: str, at: datetime) -> LeadGraded:
    return example_for(LeadGraded).model_copy(
        update={
            "dealer_id": DEALER,
            "lead_id": lead_id,
            "grade": LeadGrade(grade),
            "occurred_at": at,
            "graded_at": at,
            "consultant_id": "c-li-na",
        }
    )


async def test_a_new_grade_replaces_the_follow_ups_and_a_lost_lead_cancels_them(notifier) -> None:
    await notifier.produce(lead_graded("L-7", "A", START))

    async def open_follow_ups() -> list[dict[str, Any]]:
        return [
            t
            for t in await notifier.tasks()
            if t["related"] == {"kind": "lead", "id": "L-7"}
            and t["status"] in ("scheduled", "due")
            and t["kind"] != "lead_lost_review"  # the manager's, planned by the loss
        ]

    [a_task] = await notifier.eventually(open_follow_ups, "grade A's follow-up call")
    assert a_task["kind"] == "lead_follow_up"
    assert parse(a_task["due_at"]) == START + timedelta(days=3)
    assert a_task["assignee"] == "c-li-na"

    # re-graded H an hour later: A's call goes, H's call in 2 days and its re-grade prompt
    hot_at = START + timedelta(hours=1)
    await notifier.produce(lead_graded("L-7", "H", hot_at))

    async def replaced() -> dict[str, dict[str, Any]]:
        found = {t["kind"]: t for t in await open_follow_ups()}
        return found if set(found) == {"lead_follow_up", "lead_regrade"} else {}

    hot = await notifier.eventually(replaced, "grade H's follow-up and re-grade prompt")
    assert parse(hot["lead_follow_up"]["due_at"]) == hot_at + timedelta(days=2)
    assert parse(hot["lead_regrade"]["due_at"]) == hot_at + timedelta(days=7)
    [superseded] = await notifier.published("TaskCancelled")
    assert superseded["event"].task_id == a_task["id"]
    assert superseded["event"].reason.value == "superseded"

    lost = example_for(LeadLost).model_copy(
        update={"dealer_id": DEALER, "lead_id": "L-7", "occurred_at": hot_at, "lost_at": hot_at}
    )
    await notifier.produce(lost)

    async def all_closed() -> bool:
        return await open_follow_ups() == []

    await notifier.eventually(all_closed, "the follow-ups to go with the lost lead")
    cancelled = {
        e["event"].task_id: e["event"].reason.value
        for e in await notifier.published("TaskCancelled")
    }
    assert cancelled == {
        a_task["id"]: "superseded",
        hot["lead_follow_up"]["id"]: "lead_closed",
        hot["lead_regrade"]["id"]: "lead_closed",
    }
    async with notifier.pool.acquire() as conn:
        pending = await conn.fetch(
            "SELECT key FROM timers WHERE status = 'pending' AND key LIKE '%L-7%'"
        )
    # only the sales manager's review of the loss is left (test_cadence_kafka)
    assert [r["key"] for r in pending] == [f"{DEALER}:lead:L-7:lost-review@20250303T030000Z"]


async def test_appointment_reminders_are_planned_once_and_sent_before_it(notifier) -> None:
    starts = START + timedelta(days=2)  # Wednesday 10:00 in Shanghai
    booked = example_for(AppointmentScheduled).model_copy(
        update={
            "dealer_id": DEALER,
            "appointment_id": "APT-1",
            "lead_id": "L-8",
            "occurred_at": START,
            "scheduled_for": starts,
            "location": "Showroom 2",
        }
    )
    await notifier.produce(booked)
    await notifier.produce(booked)  # an outside producer's second copy (a new event id)

    async def reminders() -> list[dict[str, Any]]:
        response = await notifier.client.get(
            "/v1/reminders", params={"dealer_id": DEALER, "customer_id": str(booked.customer_id)}
        )
        items: list[dict[str, Any]] = response.json()["items"]
        return items if len(items) == 2 else []

    planned = await notifier.eventually(reminders, "the two appointment reminders")
    # a marker after both copies: once it is handled, both copies were
    marker_booking = {
        "appointment_id": "APT-MARK",
        "customer_id": uuid.uuid4(),
        "scheduled_for": starts + timedelta(days=30),
    }
    await notifier.produce(booked.model_copy(update=marker_booking))

    async def marker() -> bool:
        response = await notifier.client.get("/v1/reminders", params={"dealer_id": DEALER})
        return any("APT-MARK" in r["business_key"] for r in response.json()["items"])

    await notifier.eventually(marker, "the marker appointment")
    assert sorted((r["business_key"], parse(r["send_at"])) for r in await reminders()) == [
        ("appointment:APT-1:reminder-24h@20250305T020000Z", starts - timedelta(hours=24)),
        ("appointment:APT-1:reminder-2h@20250305T020000Z", starts - timedelta(hours=2)),
    ]
    assert {r["kind"] for r in planned} == {"test_drive"}  # the example's purpose
    assert {r["params"]["appointment_time"] for r in planned} == {"2025-03-05 10:00"}
    assert len(await notifier.published("ReminderScheduled")) == 4  # two per appointment

    notifier.clock.set(starts - timedelta(hours=24))

    async def sent() -> list[dict[str, Any]]:
        return [n for n in await notifier.notifications() if n["status"] == "sent"]

    [message] = await notifier.eventually(sent, "the 24 h reminder")
    assert message["business_key"] == "appointment:APT-1:reminder-24h@20250305T020000Z"
    assert message["recipient"] == "+8613800138000"
    assert "2025-03-05 10:00" in message["body"]
    [notification_sent] = await notifier.published("NotificationSent")
    assert notification_sent["event"].kind.value == "test_drive"
