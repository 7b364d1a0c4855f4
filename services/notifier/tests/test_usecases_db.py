"""Reaction and task use cases against a real PostgreSQL schema (no Kafka)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dealerflow.contracts.care_enums import TaskOutcome
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.notifier import repository as repo
from dealerflow.notifier import repository_messages as msgs
from dealerflow.notifier import usecases, usecases_leads
from dealerflow.notifier.domain import (
    HandoverFacts,
    LeadAssignmentFacts,
    LeadClosedFacts,
    LeadFacts,
)
from dealerflow.notifier.usecases_handovers import HandedOver, on_vehicles_handed_over
from dealerflow.runtime.db import transaction

from . import one_event

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"
CUSTOMER = uuid.UUID(int=5)
CONTACT = ContactSnapshot.model_validate(
    {"name": "Li Lei", "phone": "+8613900139000", "consent": {"service": True, "marketing": False}}
)


async def pending_timers(db) -> dict[str, str]:
    async with db.pool.acquire() as conn:
        rows = await conn.fetch("SELECT key, kind FROM timers WHERE status = 'pending'")
    return {r["key"]: r["kind"] for r in rows}


async def test_the_same_lead_planned_twice_is_one_task(db) -> None:
    lead = LeadFacts(DEALER, CUSTOMER, "L-1", "walk_in", START, None)
    async with transaction(db.pool) as conn:
        await one_event.on_lead_created(db.use_case(conn), lead, CONTACT)
        # the warning went out already (its timer fired) ...
        await conn.execute("UPDATE timers SET status = 'fired' WHERE key LIKE '%:warn'")
    async with transaction(db.pool) as conn:
        # ... so the same lead again (a new event id) must not re-arm it
        await one_event.on_lead_created(db.use_case(conn), lead, CONTACT)
    async with db.pool.acquire() as conn:
        [task] = await repo.list_tasks(conn, repo.TaskFilter(DEALER), after=None, limit=10)
        [thanks] = await msgs.list_reminders(conn, DEALER, None, after=None, limit=10)
    assert task.assignee == f"consultant:{DEALER}"  # unassigned lead: the consultants' pool
    assert task.due_at == START + timedelta(hours=24)  # walk-in: first call within 24 h
    assert thanks.kind == "thank_you"
    assert thanks.send_at == START + timedelta(hours=2)
    assert len(db.of_type("TaskScheduled")) == 1
    assert len(db.of_type("ReminderScheduled")) == 1
    assert set(await pending_timers(db)) == {
        f"{DEALER}:lead:L-1:first-contact",
        f"{DEALER}:lead:L-1:first-contact:escalate",
        f"{DEALER}:lead:L-1:first-contact:reassign",
        f"{DEALER}:lead:L-1:thank-you",
    }

    async with transaction(db.pool) as conn:
        await usecases_leads.on_lead_assigned(
            db.use_case(conn), LeadAssignmentFacts(DEALER, "L-1", "c-zhao")
        )
        moved = await repo.get_task(conn, DEALER, task.id)
    assert moved is not None
    assert moved.assignee == "c-zhao"


async def test_a_lost_lead_cancels_its_tasks_and_watches(db) -> None:
    async with transaction(db.pool) as conn:
        await one_event.on_lead_created(
            db.use_case(conn), LeadFacts(DEALER, CUSTOMER, "L-2", "online", START, "c-1"), CONTACT
        )
        await usecases_leads.on_lead_closed(db.use_case(conn), LeadClosedFacts(DEALER, "L-2"))
        [task] = await repo.list_tasks(conn, repo.TaskFilter(DEALER), after=None, limit=10)
    assert task.status == "cancelled"
    [cancelled] = db.of_type("TaskCancelled")
    assert (cancelled.task_id, cancelled.reason.value) == (str(task.id), "lead_closed")
    assert await pending_timers(db) == {}


async def test_unreachable_service_callbacks_fall_back_to_a_message(db) -> None:
    handover = HandoverFacts(DEALER, CUSTOMER, "RO-7", START, "sa-1")
    async with transaction(db.pool) as conn:
        await on_vehicles_handed_over([HandedOver(db.use_case(conn), handover, CONTACT)])

    async def open_callback():
        async with db.pool.acquire() as conn:
            rows = await repo.list_tasks(
                conn, repo.TaskFilter(DEALER, statuses=["scheduled", "due"]), after=None, limit=10
            )
        return rows

    db.clock.set(START + timedelta(days=3))
    for day in range(1, 6):
        [task] = await open_callback()
        assert task.business_key == (
            "repair-order:RO-7:callback-3d" + ("" if day == 1 else f":attempt-{day}")
        )
        db.clock.set(max(db.clock.now(), task.due_at))
        async with transaction(db.pool) as conn:
            await usecases.complete_task(
                db.use_case(conn),
                usecases.CompleteTask(DEALER, task.id, TaskOutcome.UNREACHABLE),
            )
    # five unreachable days in a row: no sixth call, a message instead
    assert await open_callback() == []
    async with db.pool.acquire() as conn:
        [fallback] = await msgs.list_reminders(conn, DEALER, CUSTOMER, after=None, limit=10)
    assert fallback.business_key == "repair-order:RO-7:callback-3d:message-fallback"
    assert fallback.kind == "service_follow_up"
    assert fallback.contact is not None
    assert fallback.contact.phone == "+8613900139000"
    assert [e.outcome.value for e in db.of_type("TaskCompleted")] == ["unreachable"] * 5


async def test_completing_while_the_poller_fires_the_due_timer_does_not_deadlock(db) -> None:
    """The poller locks a timer, then updates its task; completing a task must take its
    locks in the same order (timers first) or the two deadlock."""
    import asyncio

    from dealerflow.notifier import usecases_tasks

    async with transaction(db.pool) as conn:
        handover = HandoverFacts(DEALER, CUSTOMER, "RO-8", START, "sa-1")
        await on_vehicles_handed_over([HandedOver(db.use_case(conn), handover, CONTACT)])
        [task] = await repo.list_tasks(conn, repo.TaskFilter(DEALER), after=None, limit=10)
    timer_key = f"{DEALER}:{task.business_key}"

    async with db.pool.acquire() as poller, poller.transaction():
        # what TimerPoller.fire_due does: claim (lock) the due timer ...
        await poller.execute(
            "UPDATE timers SET status = 'fired' WHERE key = $1 AND status = 'pending'", timer_key
        )

        async def complete() -> None:
            async with transaction(db.pool) as conn:
                await usecases.complete_task(
                    db.use_case(conn),
                    usecases.CompleteTask(DEALER, task.id, TaskOutcome.SATISFIED),
                )

        completing = asyncio.create_task(complete())
        await asyncio.sleep(0.5)  # the completion now waits for the timer row
        assert not completing.done()
        # ... then run its handler, which updates the task row
        due = [(DEALER, {"task_id": str(task.id)})]
        await usecases_tasks.fire_tasks_due(db.use_case(poller), due)
    await asyncio.wait_for(completing, 10)
    async with db.pool.acquire() as conn:
        done = await repo.get_task(conn, DEALER, task.id)
    assert done is not None
    assert (done.status, done.outcome) == ("done", "satisfied")
    assert [e.task_id for e in db.of_type("TaskDue")] == [str(task.id)]
