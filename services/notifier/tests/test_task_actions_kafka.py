"""Staff working their tasks on the running notifier (real Kafka and PostgreSQL, tokens of
different roles): a manual task, claimed from the pool, reassigned by a manager, snoozed
within its hard SLA, each published as TaskScheduled; "my tasks"; a closed task is 409;
an overdue task escalates to the manager; who may call what."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from dealerflow.devinfra.tokens import auth_header

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
DEALER = "D001"
AT = {"dealer_id": DEALER}
CUSTOMER = uuid.UUID("00000000-0000-0000-0000-0000000000c1")


def as_(role: str, sub: str, dealer: str = DEALER) -> dict[str, str]:
    return auth_header(roles=[role], dealers=[dealer], sub=sub)


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


MANAGER = as_("sales_manager", "sm-1")
C1 = as_("consultant", "c-1")
C2 = as_("consultant", "c-2")


def manual(**changes: Any) -> dict[str, Any]:
    return {
        "customer_id": str(CUSTOMER),
        "title": "Call back about the trade-in valuation",
        "description": "The customer asked for a second valuation.",
        "due_at": (START + timedelta(hours=4)).isoformat(),
        **changes,
    }


async def test_a_manual_task_is_claimed_reassigned_and_snoozed(notifier) -> None:
    api: httpx.AsyncClient = notifier.client
    # a manager files a task in the consultants' pool
    created = await api.post(
        "/v1/tasks",
        params=AT,
        json=manual(assignee="consultant:D001", assignee_role="consultant"),
        headers=keyed(MANAGER, "new-1"),
    )
    assert created.status_code == 201, created.text
    task = created.json()
    assert (task["kind"], task["assignee"], task["status"]) == (
        "manual",
        "consultant:D001",
        "scheduled",
    )
    assert task["related"] == {"kind": "customer", "id": str(CUSTOMER)}
    assert task["script"] == "The customer asked for a second valuation."
    assert task["planned_due_at"] == task["due_at"]
    assert task["unreachable_attempts"] == 0
    again = await api.post(
        "/v1/tasks",
        params=AT,
        json=manual(assignee="consultant:D001", assignee_role="consultant"),
        headers=keyed(MANAGER, "new-1"),
    )
    assert again.status_code == 201
    assert again.json()["id"] == task["id"]  # the retry gets the same task
    reused = await api.post(
        "/v1/tasks", params=AT, json=manual(title="Other"), headers=keyed(MANAGER, "new-1")
    )
    assert reused.status_code == 422
    assert reused.json()["type"].endswith("/idempotency-key-reused")

    url = f"/v1/tasks/{task['id']}"
    # c-1 takes it from the pool; c-2 may not take it from c-1 afterwards
    claimed = await api.post(f"{url}/claim", params=AT, headers=keyed(C1, "claim-1"))
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["assignee"] == "c-1"
    retried = await api.post(f"{url}/claim", params=AT, headers=keyed(C1, "claim-1"))
    assert retried.json()["assignee"] == "c-1"
    stolen = await api.post(f"{url}/claim", params=AT, headers=keyed(C2, "claim-2"))
    assert stolen.status_code == 403
    assert stolen.headers["content-type"].startswith("application/problem+json")
    assert stolen.json()["type"].endswith("/not-your-task")

    # "my tasks" from the token's subject
    mine = await api.get("/v1/tasks", params={**AT, "assignee": "me"}, headers=C1)
    assert [t["id"] for t in mine.json()["items"]] == [task["id"]]
    theirs = await api.get("/v1/tasks", params={**AT, "assignee": "me"}, headers=C2)
    assert theirs.json()["items"] == []
    managers = await api.get("/v1/tasks", params={**AT, "assignee": "me"}, headers=MANAGER)
    assert managers.json()["items"] == []

    # only managers reassign
    body = {"assignee": "c-2"}
    refused = await api.post(f"{url}/reassign", params=AT, json=body, headers=keyed(C1, "r-0"))
    assert refused.status_code == 403
    moved = await api.post(f"{url}/reassign", params=AT, json=body, headers=keyed(MANAGER, "r-1"))
    assert moved.status_code == 200, moved.text
    assert moved.json()["assignee"] == "c-2"
    mine = await api.get("/v1/tasks", params={**AT, "assignee": "me"}, headers=C2)
    assert [t["id"] for t in mine.json()["items"]] == [task["id"]]

    # snoozed by its assignee, not past the hard SLA (planned due + 7 days by default)
    planned_due = datetime.fromisoformat(task["due_at"])
    not_theirs = await api.post(
        f"{url}/snooze",
        params=AT,
        json={"until": (planned_due + timedelta(days=1)).isoformat(), "reason": "customer_asked"},
        headers=keyed(C1, "s-0"),
    )
    assert not_theirs.status_code == 403
    too_far = await api.post(
        f"{url}/snooze",
        params=AT,
        json={"until": (planned_due + timedelta(days=8)).isoformat(), "reason": "customer_asked"},
        headers=keyed(C2, "s-1"),
    )
    assert too_far.status_code == 422
    assert "hard SLA" in too_far.json()["detail"]
    until = planned_due + timedelta(days=2)
    snoozed = await api.post(
        f"{url}/snooze",
        params=AT,
        json={"until": until.isoformat(), "reason": "customer_away"},
        headers=keyed(C2, "s-2"),
    )
    assert snoozed.status_code == 200, snoozed.text
    after = snoozed.json()
    assert datetime.fromisoformat(after["due_at"]) == until
    assert datetime.fromisoformat(after["planned_due_at"]) == planned_due
    assert (after["snooze_reason"], after["snoozed_by"]) == ("customer_away", "c-2")

    # the old due time passes: nothing falls due; the new one does
    notifier.clock.set(planned_due + timedelta(hours=1))
    notifier.clock.set(until + timedelta(minutes=1))

    async def due() -> bool:
        got = await api.get(url, params=AT)
        return got.json()["status"] == "due"

    await notifier.eventually(due, "the snoozed task falls due at its new time")
    [task_due] = [
        r for r in await notifier.published("TaskDue") if r["event"].task_id == task["id"]
    ]
    assert task_due["event"].due_at == until

    # done: every step is 409
    done = await api.post(f"{url}/complete", params=AT, json={"outcome": "reached"}, headers=C2)
    assert done.status_code == 200, done.text
    for step, json_body, headers in [
        ("claim", None, keyed(C2, "late-1")),
        ("reassign", {"assignee": "c-1"}, keyed(MANAGER, "late-2")),
        (
            "snooze",
            {"until": (until + timedelta(hours=1)).isoformat(), "reason": "other"},
            keyed(C2, "late-3"),
        ),
    ]:
        late = await api.post(f"{url}/{step}", params=AT, json=json_body, headers=headers)
        assert late.status_code == 409, (step, late.text)
        assert late.json()["type"].endswith("/task-not-open")

    scheduled = [
        r["event"]
        for r in await notifier.published("TaskScheduled")
        if r["event"].task_id == task["id"]
    ]
    assert [(e.assignee_id, e.previous_assignee_id) for e in scheduled] == [
        ("consultant:D001", None),  # created
        ("c-1", "consultant:D001"),  # claimed
        ("c-2", "c-1"),  # reassigned
        ("c-2", None),  # snoozed
    ]
    assert scheduled[0].kind.value == "manual"
    assert [e.due_at for e in scheduled] == [planned_due, planned_due, planned_due, until]


async def test_an_overdue_task_escalates_to_the_assignee_s_manager(notifier) -> None:
    notifier.configure(DEALER, {"policy": {"owner_care": {"task_overdue_escalate_after": 7200}}})
    api: httpx.AsyncClient = notifier.client
    created = await api.post(
        "/v1/tasks",
        params=AT,
        json=manual(due_at=(START + timedelta(hours=1)).isoformat()),
        headers=keyed(C1, "own-1"),
    )
    assert created.status_code == 201, created.text
    task = created.json()
    assert (task["assignee"], task["assignee_role"]) == ("c-1", "consultant")
    # a consultant creates tasks for themselves only
    for_other = await api.post(
        "/v1/tasks", params=AT, json=manual(assignee="c-2"), headers=keyed(C1, "own-2")
    )
    assert for_other.status_code == 403
    past = await api.post(
        "/v1/tasks",
        params=AT,
        json=manual(due_at=(START - timedelta(hours=1)).isoformat()),
        headers=keyed(C1, "own-3"),
    )
    assert past.status_code == 422

    async def escalations() -> list[dict[str, Any]]:
        return [
            t
            for t in await notifier.tasks()
            if t["business_key"] == f"{task['business_key']}:overdue"
        ]

    notifier.clock.set(START + timedelta(hours=2))
    await notifier.eventually(lambda: _status(api, task["id"], "due"), "the manual task falls due")
    assert await escalations() == []  # not yet: 2 h after the due time
    notifier.clock.set(START + timedelta(hours=3, minutes=1))
    [escalation] = await notifier.eventually(escalations, "the overdue escalation")
    assert escalation["assignee"] == "sales-manager:D001"
    assert escalation["title"].startswith("Overdue: Call back about the trade-in")

    async def alert() -> list[dict[str, Any]]:
        return [n for n in await notifier.notifications() if n["kind"] == "task_overdue_escalation"]

    [sent] = await notifier.eventually(alert, "the staff alert to the sales manager")
    assert sent["recipient"] == "sales-manager:D001"

    # the outcome of the task makes the escalation moot
    done = await api.post(
        f"/v1/tasks/{task['id']}/complete", params=AT, json={"outcome": "reached"}, headers=C1
    )
    assert done.status_code == 200, done.text
    [moot] = await escalations()
    assert moot["status"] == "cancelled"


async def _status(api: httpx.AsyncClient, task_id: str, status: str) -> bool:
    got = await api.get(f"/v1/tasks/{task_id}", params=AT)
    return bool(got.json()["status"] == status)


async def test_who_may_work_tasks(api: httpx.AsyncClient) -> None:
    created = await api.post("/v1/tasks", params=AT, json=manual(assignee="c-1"))
    assert created.status_code == 201, created.text
    url = f"/v1/tasks/{created.json()['id']}"
    steps: list[tuple[str, dict[str, Any] | None]] = [
        ("/v1/tasks", manual()),
        (f"{url}/claim", None),
        (f"{url}/snooze", {"until": (START + timedelta(days=1)).isoformat(), "reason": "other"}),
        (f"{url}/reassign", {"assignee": "c-2"}),
    ]
    for path, body in steps:
        request = api.build_request("POST", path, params=AT, json=body)
        del request.headers["Authorization"]
        assert (await api.send(request)).status_code == 401, path
        for headers in (as_("integration", "i-1"), as_("gm", "gm-1", dealer="D002")):
            refused = await api.post(path, params=AT, json=body, headers=headers)
            assert refused.status_code == 403, (path, refused.text)
    # reassigning is for managers only
    for role in ("consultant", "advisor", "customer_relations"):
        refused = await api.post(
            f"{url}/reassign", params=AT, json={"assignee": "c-2"}, headers=as_(role, "x-1")
        )
        assert refused.status_code == 403, role
    for role in ("sales_manager", "service_manager", "gm"):
        ok = await api.post(
            f"{url}/reassign", params=AT, json={"assignee": f"to-{role}"}, headers=as_(role, "m")
        )
        assert ok.status_code == 200, (role, ok.text)
    # customer relations claims anyone's task; a bad body is a problem
    cr = await api.post(f"{url}/claim", params=AT, headers=as_("customer_relations", "cr-1"))
    assert cr.json()["assignee"] == "cr-1"
    bad = await api.post(f"{url}/snooze", params=AT, json={"until": "tomorrow", "reason": "x"})
    assert bad.status_code == 422
    unknown = await api.post(f"/v1/tasks/{uuid.uuid4()}/claim", params=AT)
    assert unknown.status_code == 404


async def test_unreachable_attempts_are_counted_and_the_dealer_s_rule_falls_back(notifier) -> None:
    notifier.configure(
        DEALER, {"policy": {"owner_care": {"unreachable_attempts_before_fallback": 2}}}
    )
    api: httpx.AsyncClient = notifier.client
    created = await api.post("/v1/tasks", params=AT, json=manual(), headers=keyed(C1, "u-1"))
    assert created.status_code == 201, created.text
    first = created.json()
    unreachable = {"outcome": "unreachable"}
    done = await api.post(
        f"/v1/tasks/{first['id']}/complete", params=AT, json=unreachable, headers=C1
    )
    assert done.status_code == 200, done.text
    assert done.json()["unreachable_attempts"] == 1

    async def by_key(key: str) -> list[dict[str, Any]]:
        return [t for t in await notifier.tasks() if t["business_key"] == key]

    [second] = await by_key(f"{first['business_key']}:attempt-2")
    assert (second["assignee"], second["kind"], second["status"]) == ("c-1", "manual", "scheduled")
    assert second["unreachable_attempts"] == 1
    assert second["title"] == first["title"]
    assert datetime.fromisoformat(second["due_at"]) == START + timedelta(days=1)  # Tuesday
    assert second["script"].startswith("Attempt 2: ")

    notifier.clock.set(START + timedelta(days=1))
    again = await api.post(
        f"/v1/tasks/{second['id']}/complete", params=AT, json=unreachable, headers=C1
    )
    assert again.json()["unreachable_attempts"] == 2
    assert await by_key(f"{first['business_key']}:attempt-3") == []
    [fallback] = await by_key(f"{first['business_key']}:unreachable-fallback")
    assert (fallback["assignee"], fallback["kind"]) == ("customer-relations:D001", "other")
    assert fallback["title"] == f"Customer unreachable: {first['title']}"
    assert fallback["unreachable_attempts"] == 2
    assert "unreachable on 2 attempts" in fallback["script"]

    async def scheduled() -> list[Any]:
        return [
            r["event"]
            for r in await notifier.published("TaskScheduled")
            if r["event"].task_id == fallback["id"]
        ]

    [event] = await notifier.eventually(scheduled, "the fallback task's TaskScheduled")
    assert event.assignee_id == "customer-relations:D001"
