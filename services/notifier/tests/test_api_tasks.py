"""The task and notification API on a real PostgreSQL schema (HTTP only)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.care_enums import RecordKind, TaskKind, TaskOutcome
from dealerflow.notifier import usecases, usecases_tasks
from dealerflow.notifier.domain import LeadFacts, PlannedTask, RecordRef, StaffRole
from dealerflow.runtime.db import transaction

from . import one_event

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
DEALER = "D001"
ALICE = uuid.UUID("00000000-0000-0000-0000-00000000000a")
BOB = uuid.UUID("00000000-0000-0000-0000-00000000000b")


def planned(key: str, due: timedelta, assignee: str, customer: uuid.UUID, dealer: str = DEALER):
    return PlannedTask(
        key=key,
        kind=TaskKind.SERVICE_CALLBACK,
        dealer_id=dealer,
        customer_id=customer,
        due_at=START + due,
        assignee_role=StaffRole.ADVISOR,
        assignee_id=assignee,
        related=RecordRef(RecordKind.REPAIR_ORDER, key),
        script="Call the customer.",
    )


async def seed(db) -> dict[str, Any]:
    rows = {}
    async with transaction(db.pool) as conn:
        uc = db.use_case(conn)
        for key, due, who, customer in [
            ("t1", timedelta(hours=1), "sa-1", ALICE),
            ("t2", timedelta(hours=2), "sa-2", BOB),
            ("t3", timedelta(hours=2), "sa-1", ALICE),  # same due time as t2: id decides
            ("t4", timedelta(hours=3), "sa-2", ALICE),
            ("t5", timedelta(hours=4), "sa-1", BOB),
        ]:
            rows[key] = await usecases_tasks.schedule_task(uc, planned(key, due, who, customer))
        await usecases_tasks.schedule_task(
            uc, planned("other", timedelta(0), "sa-1", ALICE, "D002")
        )
        # t1 done, t2 due
        await usecases.complete_task(
            uc,
            usecases.CompleteTask(DEALER, rows["t1"].id, TaskOutcome.REACHED),
        )
        await usecases_tasks.fire_tasks_due(uc, [(DEALER, {"task_id": str(rows["t2"].id)})])
    return rows


def keys(items: list[dict[str, Any]]) -> list[str]:
    return [t["business_key"] for t in items]


async def test_list_filters_and_stable_pagination(db, api) -> None:
    rows = await seed(db)
    tie = sorted(["t2", "t3"], key=lambda k: rows[k].id)
    expected = ["t1", *tie, "t4", "t5"]

    everything = (await api.get("/v1/tasks", params={"dealer_id": DEALER})).json()
    assert keys(everything["items"]) == expected
    assert everything["next_cursor"] is None

    walked, cursor, pages = [], None, 0
    while True:
        params: dict[str, Any] = {"dealer_id": DEALER, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await api.get("/v1/tasks", params=params)).json()
        walked += keys(page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == expected
    assert pages == 3

    async def listed(**params: Any) -> list[str]:
        response = await api.get("/v1/tasks", params={"dealer_id": DEALER, **params})
        assert response.status_code == 200, response.text
        return keys(response.json()["items"])

    assert await listed(assignee="sa-1") == ["t1", "t3", "t5"]
    assert await listed(customer_id=str(BOB)) == ["t2", "t5"]
    assert await listed(status="done") == ["t1"]
    assert await listed(status="due") == ["t2"]
    assert sorted(await listed(status=["scheduled", "due"])) == ["t2", "t3", "t4", "t5"]
    window = {
        "due_from": (START + timedelta(hours=2)).isoformat(),
        "due_to": (START + timedelta(hours=4)).isoformat(),
    }
    assert await listed(**window) == [*tie, "t4"]
    assert await listed(assignee="sa-2", customer_id=str(ALICE), **window) == ["t4"]
    other = (await api.get("/v1/tasks", params={"dealer_id": "D002"})).json()
    assert keys(other["items"]) == ["other"]


async def test_bad_requests_are_problems(db, api) -> None:
    rows = await seed(db)
    missing_dealer = await api.get("/v1/tasks")
    assert missing_dealer.status_code == 422
    assert missing_dealer.headers["content-type"].startswith("application/problem+json")
    assert (
        await api.get("/v1/tasks", params={"dealer_id": DEALER, "limit": 201})
    ).status_code == 422
    assert (await api.get("/v1/tasks", params={"dealer_id": "bad dealer"})).status_code == 422
    bad_cursor = await api.get("/v1/tasks", params={"dealer_id": DEALER, "cursor": "x!"})
    assert bad_cursor.status_code == 422  # runtime.pagination's default answer
    assert bad_cursor.json()["type"].endswith("/invalid-cursor")
    naive = await api.get("/v1/tasks", params={"dealer_id": DEALER, "due_from": "2025-03-03T10:00"})
    assert naive.status_code == 422

    t1 = rows["t1"].id
    got = await api.get(f"/v1/tasks/{t1}", params={"dealer_id": DEALER})
    assert got.status_code == 200
    assert got.json()["outcome"] == "reached"
    assert (await api.get(f"/v1/tasks/{t1}", params={"dealer_id": "D002"})).status_code == 404
    assert (
        await api.get(f"/v1/tasks/{uuid.uuid4()}", params={"dealer_id": DEALER})
    ).status_code == 404
    assert (await api.get("/v1/tasks/not-a-uuid", params={"dealer_id": DEALER})).status_code == 422

    done_twice = await api.post(
        f"/v1/tasks/{t1}/complete", params={"dealer_id": DEALER}, json={"outcome": "reached"}
    )
    assert done_twice.status_code == 409
    extra_field = await api.post(
        f"/v1/tasks/{rows['t3'].id}/complete",
        params={"dealer_id": DEALER},
        json={"outcome": "reached", "score": 3},
    )
    assert extra_field.status_code == 422


async def test_the_dealer_s_policy_drives_planning(db) -> None:
    db.configure(DEALER, {"policy": {"leads": {"warn_at_fraction": 0.5}}})
    # the warning now fires at 50 % of 15 minutes for D001, at 80 % for D002 (defaults)
    async with transaction(db.pool) as conn:
        lead = LeadFacts(DEALER, ALICE, "L-9", "online", START, "c-1")
        await one_event.on_lead_created(db.use_case(conn), lead, None)
        warn_at = await conn.fetchval(
            "SELECT due_at FROM timers WHERE key = $1", f"{DEALER}:lead:L-9:first-contact:warn"
        )
        other = LeadFacts("D002", ALICE, "L-9", "online", START, "c-1")
        await one_event.on_lead_created(db.use_case(conn), other, None)
        other_warn = await conn.fetchval(
            "SELECT due_at FROM timers WHERE key = $1", "D002:lead:L-9:first-contact:warn"
        )
    assert warn_at == START + timedelta(minutes=7, seconds=30)
    assert other_warn == START + timedelta(minutes=12)


async def test_a_completion_retried_with_its_idempotency_key_is_answered_with_the_task(
    db, api
) -> None:
    rows = await seed(db)

    async def complete(task: str, key: str, **body: Any) -> Any:
        return await api.post(
            f"/v1/tasks/{rows[task].id}/complete",
            params={"dealer_id": DEALER},
            json={"outcome": "reached", **body},
            headers={"Idempotency-Key": key},
        )

    first = await complete("t3", "k-1")
    assert first.status_code == 200, first.text
    retried = await complete("t3", "k-1")
    assert retried.status_code == 200
    assert retried.json() == first.json()
    assert (await complete("t3", "k-2")).status_code == 409
    # the key of one task's completion is not the key of another's
    elsewhere = await complete("t4", "k-1")
    assert elsewhere.status_code == 200
    assert elsewhere.json()["id"] == str(rows["t4"].id)
    # a refused completion leaves no claim behind: the same key can then complete the task
    refused = await complete("t5", "k-3", outcome="dissatisfied")
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/task-rule")
    accepted = await complete("t5", "k-3", outcome="dissatisfied", note="wants the manager")
    assert accepted.status_code == 200
    assert accepted.json()["outcome"] == "dissatisfied"
    async with db.pool.acquire() as conn:
        claims = await conn.fetch("SELECT scope, key FROM idempotency_keys")
    assert sorted(tuple(r) for r in claims) == sorted(
        (f"task-completion:{rows[task].id}", key)
        for task, key in [("t3", "key:k-1"), ("t4", "key:k-1"), ("t5", "key:k-3")]
    )
