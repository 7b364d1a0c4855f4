"""The grade cadence's use cases against a real PostgreSQL schema (no Kafka): a newer
grade replaces the open follow-ups, a repeated or older one changes nothing, and the
follow-ups follow a reassigned lead and go with a closed one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dealerflow.contracts.care_enums import RecordKind, TaskKind, TaskOutcome
from dealerflow.notifier import repository as repo
from dealerflow.notifier import usecases, usecases_leads, usecases_tasks
from dealerflow.notifier.domain import (
    LeadAssignmentFacts,
    LeadClosedFacts,
    LeadFacts,
    LeadGradeFacts,
    PlannedTask,
    RecordRef,
    StaffRole,
)
from dealerflow.notifier.records import TaskRow
from dealerflow.runtime.db import transaction

from . import one_event

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"
CUSTOMER = uuid.UUID(int=7)


def graded(grade: str, at: datetime, lead_id: str = "L-1") -> LeadGradeFacts:
    return LeadGradeFacts(DEALER, CUSTOMER, lead_id, grade, at, "c-li-na")


async def grade(db, facts: LeadGradeFacts) -> None:
    async with transaction(db.pool) as conn:
        await usecases_leads.on_lead_graded(db.use_case(conn), facts)


async def tasks(db) -> dict[str, TaskRow]:
    async with db.pool.acquire() as conn:
        rows = await repo.list_tasks(conn, repo.TaskFilter(DEALER), after=None, limit=50)
    return {t.business_key: t for t in rows}


async def open_tasks(db) -> dict[str, TaskRow]:
    return {k: t for k, t in (await tasks(db)).items() if t.is_open}


async def pending_timers(db) -> set[str]:
    async with db.pool.acquire() as conn:
        rows = await conn.fetch("SELECT key FROM timers WHERE status = 'pending'")
    return {r["key"] for r in rows}


async def test_a_newer_grade_replaces_the_open_follow_ups_of_the_earlier_one(db) -> None:
    await grade(db, graded("A", START))
    [a_key] = await open_tasks(db)
    assert a_key == "lead:L-1:follow-up@20250303T020000Z"
    assert (await tasks(db))[a_key].due_at == START + timedelta(days=3)
    assert await pending_timers(db) == {f"{DEALER}:{a_key}"}

    hot_at = START + timedelta(days=1)
    await grade(db, graded("H", hot_at))
    hot = await open_tasks(db)
    assert {(t.kind, t.due_at, t.assignee) for t in hot.values()} == {
        (TaskKind.LEAD_FOLLOW_UP.value, hot_at + timedelta(days=2), "c-li-na"),
        (TaskKind.LEAD_REGRADE.value, hot_at + timedelta(days=7), "c-li-na"),
    }
    assert (await tasks(db))[a_key].status == "cancelled"
    [superseded] = db.of_type("TaskCancelled")
    assert (superseded.task_id, superseded.reason.value) == (
        str((await tasks(db))[a_key].id),
        "superseded",
    )
    assert await pending_timers(db) == {f"{DEALER}:{k}" for k in hot}

    # the same grade again (an outside producer's copy) and the older one (republished
    # late): nothing is cancelled, nothing is planned twice
    await grade(db, graded("H", hot_at))
    await grade(db, graded("A", START))
    assert set(await open_tasks(db)) == set(hot)
    assert len(db.of_type("TaskCancelled")) == 1
    assert len(db.of_type("TaskScheduled")) == 3

    # a grade without a cadence only cancels
    await grade(db, graded("N", hot_at + timedelta(hours=3)))
    assert await open_tasks(db) == {}
    assert len(db.of_type("TaskCancelled")) == 3
    assert await pending_timers(db) == set()
    # ... and an older cadence grade after it changes nothing either
    await grade(db, graded("B", hot_at + timedelta(hours=1)))
    assert await open_tasks(db) == {}


async def test_a_done_follow_up_stays_done_and_other_leads_are_not_touched(db) -> None:
    await grade(db, graded("B", START))
    await grade(db, graded("B", START, lead_id="L-10"))  # shares a prefix with L-1
    [done_key] = [k for k in await open_tasks(db) if k.startswith("lead:L-1:")]
    async with transaction(db.pool) as conn:
        await usecases.complete_task(
            db.use_case(conn),
            usecases.CompleteTask(DEALER, (await tasks(db))[done_key].id, TaskOutcome.REACHED),
        )
    await grade(db, graded("C", START + timedelta(days=7)))
    after = await tasks(db)
    assert after[done_key].status == "done"
    assert after["lead:L-10:follow-up@20250303T020000Z"].status == "scheduled"
    new_key = "lead:L-1:follow-up@20250310T020000Z"
    assert after[new_key].due_at == START + timedelta(days=7 + 14)
    assert db.of_type("TaskCancelled") == []


async def test_follow_ups_follow_a_reassigned_lead_and_go_with_a_closed_one(db) -> None:
    async with transaction(db.pool) as conn:
        uc = db.use_case(conn)
        await one_event.on_lead_created(
            uc, LeadFacts(DEALER, CUSTOMER, "L-2", "online", START, "c-li-na"), None
        )
        # a manager's task about the lead stays with the manager
        await usecases_tasks.schedule_task(
            uc,
            PlannedTask(
                key="lead:L-2:manager-review",
                kind=TaskKind.LEAD_FIRST_CONTACT,
                dealer_id=DEALER,
                customer_id=CUSTOMER,
                due_at=START,
                assignee_role=StaffRole.SALES_MANAGER,
                assignee_id="m-wang",
                related=RecordRef(RecordKind.LEAD, "L-2"),
                script="",
            ),
        )
    await grade(db, graded("H", START, lead_id="L-2"))
    async with transaction(db.pool) as conn:
        await usecases_leads.on_lead_assigned(
            db.use_case(conn), LeadAssignmentFacts(DEALER, "L-2", "c-zhao")
        )
    assert {k: t.assignee for k, t in (await open_tasks(db)).items()} == {
        "lead:L-2:first-contact": "c-zhao",
        "lead:L-2:manager-review": "m-wang",
        "lead:L-2:follow-up@20250303T020000Z": "c-zhao",
        "lead:L-2:regrade@20250303T020000Z": "c-zhao",
    }

    async with transaction(db.pool) as conn:
        await usecases_leads.on_lead_closed(db.use_case(conn), LeadClosedFacts(DEALER, "L-2"))
    assert await open_tasks(db) == {}
    cancelled = {e.task_id: e.reason.value for e in db.of_type("TaskCancelled")}
    assert cancelled == {str(t.id): "lead_closed" for t in (await tasks(db)).values()}
    assert await pending_timers(db) == set()
