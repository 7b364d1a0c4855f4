"""The notifier's batch timer handlers against a real PostgreSQL schema (no Kafka): the
same due timers give the same rows (tasks, timers, outbox) fired as one batch as fired
one at a time (what the poller does when a batch fails, and what the per-timer handlers
did)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from dealerflow.contracts.care_enums import RecordKind, TaskCancelReason, TaskKind, TaskOutcome
from dealerflow.contracts.envelope import decode
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.notifier import repository as repo
from dealerflow.notifier import timers, usecases_tasks
from dealerflow.notifier.domain_alerts import TASK_DUE
from dealerflow.notifier.domain_types import PlannedTask, RecordRef, StaffRole
from dealerflow.runtime.db import ALL_DEALERS, DbConnection, act_for, transaction
from dealerflow.runtime.outbox import decode_headers
from dealerflow.runtime.service import ServiceContext, timer_batch_handlers_of
from dealerflow.runtime.timers import Timer

from .conftest import START, configured

pytestmark = pytest.mark.integration

QUIET = "D002"  # a dealer without overdue escalations


class _Rollback(Exception):
    pass


def _planned(dealer_id: str, key: str, kind: TaskKind, due_in: timedelta) -> PlannedTask:
    return PlannedTask(
        key=key,
        kind=kind,
        dealer_id=dealer_id,
        customer_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{dealer_id}:{key}"),
        due_at=START + due_in,
        assignee_role=StaffRole.ADVISOR,
        assignee_id="sa-1",
        related=RecordRef(RecordKind.REPAIR_ORDER, key),
        script="call the owner",
    )


async def _state(conn: DbConnection) -> dict[str, Any]:
    """Everything a task-due timer may change, without the ids a sequence hands out."""
    tasks = await conn.fetch("SELECT * FROM tasks ORDER BY dealer_id, business_key")
    pending = await conn.fetch(
        "SELECT key, kind, dealer_id, due_at, payload::text, status FROM timers"
        " WHERE kind <> $1 ORDER BY id",
        TASK_DUE,
    )
    outbox = []
    for row in await conn.fetch("SELECT topic, key, value, headers::text FROM outbox ORDER BY id"):
        envelope = decode(row["value"], decode_headers(row["headers"]))
        outbox.append((row["topic"], row["key"], envelope.event.model_dump(mode="json")))
    return {
        "tasks": [dict(r) for r in tasks],
        "timers": [dict(r) for r in pending],
        "outbox": outbox,
    }


async def _due_timers(conn: DbConnection) -> list[Timer]:
    rows = await conn.fetch(
        "SELECT id, key, kind, dealer_id, due_at, payload::text AS payload FROM timers"
        " WHERE kind = $1 AND status = 'pending' ORDER BY due_at, id",
        TASK_DUE,
    )
    return [
        Timer(
            r["id"], r["key"], r["kind"], r["dealer_id"], r["due_at"], json.loads(r["payload"]), 0
        )
        for r in rows
    ]


async def _fired(db: Any, conn: DbConnection, groups: Sequence[Sequence[Timer]]) -> dict[str, Any]:
    """The state after firing ``groups`` (each one call of the batch handler) under a
    savepoint, rolled back after."""
    ctx = ServiceContext(
        settings=db.settings,
        clock=db.clock,
        topics=TopicRegistry("test."),
        source="/dealerflow/notifier",
        dealers=configured(db.dealers).dealer_configuration(db.settings),
        pool=db.pool,
    )
    handler = timer_batch_handlers_of(ctx, timers.batch_handlers(ctx))[TASK_DUE]
    found: dict[str, Any] = {}
    try:
        async with conn.transaction():
            for group in groups:
                await act_for(conn, [t.dealer_id for t in group])  # as the poller does
                await handler(conn, group)
            await act_for(conn, ALL_DEALERS)
            found = await _state(conn)
            raise _Rollback
    except _Rollback:
        pass
    return found


async def test_task_due_timers_give_the_same_rows_as_one_batch_and_one_by_one(db) -> None:
    db.configure(QUIET, {"policy": {"owner_care": {"task_overdue_escalate_after": None}}})
    plans = [
        _planned("D001", "ro:1:callback", TaskKind.SERVICE_CALLBACK, timedelta(hours=1)),
        _planned(QUIET, "ro:2:callback", TaskKind.SERVICE_CALLBACK, timedelta(hours=1)),
        _planned("D001", "lead:3:first-contact", TaskKind.LEAD_FIRST_CONTACT, timedelta(hours=2)),
        _planned("D001", "ro:4:callback", TaskKind.SERVICE_CALLBACK, timedelta(hours=3)),
        _planned("D001", "ro:5:callback", TaskKind.SERVICE_CALLBACK, timedelta(hours=3)),
        _planned(QUIET, "ro:6:callback", TaskKind.DELIVERY_CALLBACK, timedelta(hours=4)),
    ]
    async with transaction(db.pool) as conn:
        created = {}
        for plan in plans:
            task = await usecases_tasks.schedule_task(db.use_case(conn), plan)
            assert task is not None
            created[plan.key] = task
        # done and cancelled before their due times: their timers find nothing to do
        done = await usecases_tasks.lock_task(db.use_case(conn), "D001", key="ro:4:callback")
        assert done is not None
        await usecases_tasks.record_outcome(
            db.use_case(conn),
            done,
            outcome=TaskOutcome.SATISFIED,
            note=None,
            completed_by="sa-1",
            completed_at=START,
        )
        await usecases_tasks.cancel_tasks(
            db.use_case(conn),
            repo.TaskSelection("D001", key_prefix="ro:5:"),
            TaskCancelReason.NO_LONGER_NEEDED,
        )
        # a second timer for the same task (e.g. left over by a retry): it fires once
        await conn.execute(
            "INSERT INTO timers (key, kind, dealer_id, due_at, payload) VALUES"
            " ('D001:ro:1:callback:again', $1, 'D001', $2, $3::jsonb)",
            TASK_DUE,
            START + timedelta(hours=1),
            f'{{"task_id": "{created["ro:1:callback"].id}"}}',
        )
    db.clock.set(START + timedelta(days=1))

    async with db.pool.acquire() as conn, conn.transaction():
        await act_for(conn, ALL_DEALERS)
        await conn.execute("DELETE FROM outbox")  # the TaskScheduled of the set-up
        due = await _due_timers(conn)
        # the timers of the done and the cancelled task were cancelled with them
        assert len(due) == 5
        one_by_one = await _fired(db, conn, [[t] for t in due])
        as_a_batch = await _fired(db, conn, [due])

    assert as_a_batch == one_by_one
    # and what they agree on is what the task-due timers are for
    statuses = {t["business_key"]: t["status"] for t in one_by_one["tasks"]}
    assert statuses == {
        "ro:1:callback": "due",
        "ro:2:callback": "due",
        "lead:3:first-contact": "due",
        "ro:4:callback": "done",
        "ro:5:callback": "cancelled",
        "ro:6:callback": "due",
    }
    task_due = [event for _, _, event in one_by_one["outbox"] if event["type"] == "TaskDue"]
    expected_order = ["ro:1:callback", "ro:2:callback", "lead:3:first-contact", "ro:6:callback"]
    assert [e["task_id"] for e in task_due] == [str(created[k].id) for k in expected_order]
    # overdue escalations: D001's follow-up only (first contact has its own watches, the
    # quiet dealer has none)
    assert [(t["key"], t["status"]) for t in one_by_one["timers"] if "overdue" in t["key"]] == [
        ("D001:ro:1:callback:overdue", "pending")
    ]
