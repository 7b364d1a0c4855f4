"""Who may call what on the notifier (bearer tokens, real PostgreSQL, HTTP only): per route
family, no token is 401, a role the operation does not name is 403, a token for another
dealer is 403, the dealer's staff get through; a consultant or advisor works only their
own tasks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from dealerflow.contracts.care_enums import RecordKind, TaskKind
from dealerflow.devinfra.tokens import auth_header
from dealerflow.notifier import usecases_tasks
from dealerflow.notifier.domain import PlannedTask, RecordRef, StaffRole
from dealerflow.runtime.db import transaction

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
DEALER = "D001"
AT = {"dealer_id": DEALER}
CUSTOMER = uuid.UUID("00000000-0000-0000-0000-00000000000a")


def as_(role: str, sub: str = "staff-1", dealer: str = DEALER) -> dict[str, str]:
    """The header of ``sub`` holding ``role`` at ``dealer`` only."""
    return auth_header(roles=[role], dealers=[dealer], sub=sub)


async def anonymous(client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> httpx.Response:
    """The request without any Authorization header (the test client sends an admin's)."""
    request = client.build_request(method, url, **kw)
    del request.headers["Authorization"]
    return await client.send(request)


async def seed(db: Any) -> dict[str, uuid.UUID]:
    """Callbacks of consultant c-1 (t1, t3) and c-2 (t2) at D001."""
    ids = {}
    async with transaction(db.pool) as conn:
        uc = db.use_case(conn)
        for key, hours, who in [("t1", 1, "c-1"), ("t2", 2, "c-2"), ("t3", 3, "c-1")]:
            planned = PlannedTask(
                key=key,
                kind=TaskKind.DELIVERY_CALLBACK,
                dealer_id=DEALER,
                customer_id=CUSTOMER,
                due_at=START + timedelta(hours=hours),
                assignee_role=StaffRole.CONSULTANT,
                assignee_id=who,
                related=RecordRef(RecordKind.CONTRACT, key),
                script="Call the customer.",
            )
            task = await usecases_tasks.schedule_task(uc, planned)
            assert task is not None
            ids[key] = task.id
    return ids


def keys(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [t["business_key"] for t in response.json()["items"]]


async def test_a_consultant_lists_reads_and_completes_only_their_own_tasks(db, api) -> None:
    ids = await seed(db)
    c1, c2 = as_("consultant", "c-1"), as_("consultant", "c-2")

    assert (await anonymous(api, "GET", "/v1/tasks", params=AT)).status_code == 401
    assert (await api.get("/v1/tasks", params=AT, headers=as_("integration"))).status_code == 403
    elsewhere = as_("consultant", "c-1", dealer="D002")
    assert (await api.get("/v1/tasks", params=AT, headers=elsewhere)).status_code == 403

    assert keys(await api.get("/v1/tasks", params=AT, headers=c1)) == ["t1", "t3"]
    assert keys(await api.get("/v1/tasks", params=AT, headers=c2)) == ["t2"]
    mine = {**AT, "assignee": "c-1"}
    assert keys(await api.get("/v1/tasks", params=mine, headers=c1)) == ["t1", "t3"]
    theirs = await api.get("/v1/tasks", params={**AT, "assignee": "c-2"}, headers=c1)
    assert theirs.status_code == 403
    assert theirs.json()["type"].endswith("/not-your-task")
    advisor = as_("advisor", "c-1")  # front line too
    assert keys(await api.get("/v1/tasks", params=AT, headers=advisor)) == ["t1", "t3"]
    # the managers (and customer relations) see everyone's
    manager = as_("sales_manager", "sm-1")
    assert keys(await api.get("/v1/tasks", params=AT, headers=manager)) == ["t1", "t2", "t3"]
    both = auth_header(roles=["consultant", "customer_relations"], dealers=[DEALER], sub="c-1")
    assert keys(await api.get("/v1/tasks", params=AT, headers=both)) == ["t1", "t2", "t3"]
    of_c2 = {**AT, "assignee": "c-2"}
    assert keys(await api.get("/v1/tasks", params=of_c2, headers=manager)) == ["t2"]

    t2 = f"/v1/tasks/{ids['t2']}"
    assert (await anonymous(api, "GET", t2, params=AT)).status_code == 401
    assert (await api.get(t2, params=AT, headers=as_("integration"))).status_code == 403
    assert (await api.get(t2, params=AT, headers=elsewhere)).status_code == 403
    assert (await api.get(t2, params=AT, headers=c1)).status_code == 403
    assert (await api.get(t2, params=AT, headers=c2)).status_code == 200
    assert (await api.get(t2, params=AT, headers=manager)).status_code == 200

    reached = {"outcome": "reached"}
    for headers in (as_("integration"), elsewhere, c1):
        refused = await api.post(f"{t2}/complete", params=AT, json=reached, headers=headers)
        assert refused.status_code == 403, refused.text
    refused = await anonymous(api, "POST", f"{t2}/complete", params=AT, json=reached)
    assert refused.status_code == 401
    assert (await api.get(t2, params=AT)).json()["status"] == "scheduled"

    done = await api.post(f"/v1/tasks/{ids['t1']}/complete", params=AT, json=reached, headers=c1)
    assert done.status_code == 200, done.text
    assert done.json()["completed_by"] == "c-1"  # the caller, without naming themselves
    by_manager = await api.post(f"{t2}/complete", params=AT, json=reached, headers=manager)
    assert by_manager.status_code == 200, by_manager.text
    assert by_manager.json()["completed_by"] == "sm-1"
    named = {"outcome": "reached", "completed_by": "c-1"}
    on_behalf = await api.post(
        f"/v1/tasks/{ids['t3']}/complete", params=AT, json=named, headers=manager
    )
    assert on_behalf.json()["completed_by"] == "c-1"  # a body naming someone wins


async def test_notifications_and_reminders_are_read_by_the_dealer_s_staff(db, api) -> None:
    for url in ("/v1/notifications", "/v1/reminders"):
        assert (await anonymous(api, "GET", url, params=AT)).status_code == 401, url
        assert (await api.get(url, params=AT, headers=as_("integration"))).status_code == 403
        other = as_("advisor", dealer="D002")
        assert (await api.get(url, params=AT, headers=other)).status_code == 403, url
        for role in ("advisor", "consultant", "customer_relations", "gm"):
            response = await api.get(url, params=AT, headers=as_(role))
            assert response.status_code == 200, (url, role)
            assert response.json()["items"] == []


async def test_a_customer_tier_is_read_by_the_dealer_s_staff(api: httpx.AsyncClient) -> None:
    tier = f"/v1/customers/{CUSTOMER}/tier"
    assert (await anonymous(api, "GET", tier, params=AT)).status_code == 401
    assert (await api.get(tier, params=AT, headers=as_("integration"))).status_code == 403
    elsewhere = as_("customer_relations", dealer="D002")
    assert (await api.get(tier, params=AT, headers=elsewhere)).status_code == 403
    for role in ("consultant", "advisor", "customer_relations", "gm"):
        response = await api.get(tier, params=AT, headers=as_(role))
        assert response.status_code == 200, role
        assert response.json()["tier"] == "regular"
