"""The notifier's migrations on a real PostgreSQL schema: data written under an earlier
version keeps its meaning."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from dealerflow.contracts.care_enums import TaskOutcome
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.notifier.app import DEFINITION
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases import CompleteTask, complete_task
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.migrations import migrate

pytestmark = pytest.mark.integration

AT = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)


async def _nowhere(event: DomainEvent) -> str:
    raise AssertionError(f"a replayed completion publishes nothing, not {event.type}")


async def test_completion_keys_move_to_the_runtime_idempotency_table(
    pg_dsn: str, pg_schema: str
) -> None:
    migrations = DEFINITION.migrations()
    before = [m for m in migrations if not (m.component == "notifier" and m.version >= 2)]
    await migrate(pg_dsn, pg_schema, before)
    done, open_task = uuid.uuid4(), uuid.uuid4()
    conn = await asyncpg.connect(pg_dsn, server_settings={"search_path": pg_schema})
    try:
        for task_id, status, key in [(done, "done", "retry-7"), (open_task, "scheduled", None)]:
            await conn.execute(
                """
                INSERT INTO tasks (id, dealer_id, customer_id, business_key, kind, title,
                    assignee, assignee_role, due_at, status, outcome, completion_key,
                    created_at, updated_at, completed_at)
                VALUES ($1, 'D001', $2, $3, 'service_callback', 't', 'sa-1', 'advisor', $4,
                    $5, $6, $7, $4, $4, $8)
                """,
                task_id,
                uuid.uuid4(),
                f"k-{task_id}",
                AT,
                status,
                "reached" if status == "done" else None,
                key,
                AT if status == "done" else None,
            )
        await migrate(pg_dsn, pg_schema, migrations)
        settings = NotifierSettings()
        uc = UseCaseContext(
            conn=conn,
            clock=ManualClock(AT),
            settings=settings,
            dealers=DEFINITION.dealer_configuration(settings),
            publisher=_nowhere,
        )
        cmd = CompleteTask("D001", done, TaskOutcome.REACHED, idempotency_key="retry-7")
        async with conn.transaction():
            replayed = await complete_task(uc, cmd)  # a retry of the pre-migration request
        claims = await conn.fetch("SELECT dealer_id, scope, key, resource_id FROM idempotency_keys")
        columns = await conn.fetch(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = $1 AND table_name = 'tasks'",
            pg_schema,
        )
    finally:
        await conn.close()
    assert [tuple(r) for r in claims] == [
        ("D001", f"task-completion:{done}", "key:retry-7", str(done))
    ]
    assert (replayed.id, replayed.status) == (done, "done")
    # kept (unused) for one release so replicas of the previous one survive a rolling deploy
    assert "completion_key" in {r["column_name"] for r in columns}
