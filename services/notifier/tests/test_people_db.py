"""Tasks go to the dealer's people: a role to the person holding it, an away person's work
to their replacement, a dealer without anyone to the placeholder (use cases on a real
PostgreSQL schema)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dealerflow.contracts.care_enums import RecordKind, TaskKind
from dealerflow.notifier import usecases_tasks
from dealerflow.notifier.domain import PlannedTask, RecordRef, StaffRole
from dealerflow.runtime.db import transaction

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
CUSTOMER = uuid.UUID(int=0xC1)
STAFF = [
    {"staff_id": "sm-chen", "roles": ["sales_manager"], "replaced_by": "gm-zhang"},
    {"staff_id": "gm-zhang", "roles": ["gm"]},
    {"staff_id": "c-wang", "roles": ["consultant"], "replaced_by": "c-li"},
    {"staff_id": "c-li", "roles": ["consultant"]},
]


def task(key: str, dealer: str, role: StaffRole, named: str | None = None, due: int = 0):
    return PlannedTask(
        key=key,
        kind=TaskKind.OTHER,
        dealer_id=dealer,
        customer_id=CUSTOMER,
        due_at=START + timedelta(days=due),
        assignee_role=role,
        assignee_id=named,
        related=RecordRef(RecordKind.LEAD, key),
        script="Call the customer.",
    )


async def assignees(db, *planned: PlannedTask) -> list[str]:
    async with transaction(db.pool) as conn:
        uc = db.use_case(conn)
        rows = [await usecases_tasks.schedule_task(uc, p) for p in planned]
    assert all(rows)
    return [row.assignee for row in rows if row is not None]


async def test_a_sales_manager_task_goes_to_the_configured_person(db) -> None:
    db.configure("D001", {"people": {"staff": STAFF}})
    got = await assignees(
        db,
        task("t1", "D001", StaffRole.SALES_MANAGER),
        task("t2", "D002", StaffRole.SALES_MANAGER),  # a dealer without people
    )
    assert got == ["sm-chen", "sales-manager:D002"]
    scheduled = db.of_type("TaskScheduled")
    assert [e.assignee_id for e in scheduled] == got


async def test_an_away_person_s_work_goes_to_their_replacement_on_the_day_it_is_due(
    db,
) -> None:
    away = {"away_from": "2025-03-03", "away_until": "2025-03-05"}
    staff = [{**STAFF[0], **away}, STAFF[1], {**STAFF[2], **away}, STAFF[3]]
    db.configure("D001", {"people": {"staff": staff}})
    got = await assignees(
        db,
        task("t1", "D001", StaffRole.SALES_MANAGER),  # role: sm-chen away, replaced
        task("t2", "D001", StaffRole.CONSULTANT, "c-wang"),  # named, away
        task("t3", "D001", StaffRole.CONSULTANT, "c-wang", due=3),  # due when back
    )
    assert got == ["gm-zhang", "c-li", "c-wang"]
