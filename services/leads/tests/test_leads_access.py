"""Who may call what on the leads service: every /v1 route declares its roles; per route
family a request without a token is 401, a token without the role or for another dealer
is 403, and the right role works; another dealer's lead looked up by id is 404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts

from dealerflow.devinfra.tokens import auth_header
from dealerflow.leads.app import DEFINITION
from dealerflow.runtime.auth import allowed_roles
from dealerflow.runtime.service import build_app

D1 = "gz-tianhe-03"
D2 = "sz-futian-01"
NO_TOKEN = {"Authorization": ""}

ADF = """<?xml version="1.0" encoding="UTF-8"?>
<?adf version="1.0"?>
<adf>
  <prospect status="new">
    <requestdate>2026-03-01T10:15:32+08:00</requestdate>
    <vehicle interest="buy" status="new"><make>BYD</make><model>Han EV</model></vehicle>
    <customer><contact><name part="full">张伟</name><phone>139 1234 5678</phone></contact>
    </customer>
    <vendor><id source="dealerflow">{dealer}</id></vendor>
  </prospect>
</adf>
"""


def token(role: str, dealer: str = D1, sub: str | None = None) -> dict[str, str]:
    return auth_header(roles=[role], dealers=[dealer], sub=sub or f"{role}-1")


def test_every_v1_route_declares_its_roles() -> None:
    app = build_app(DEFINITION, DEFINITION.settings_factory(), run_background=False)
    contexts = [c for c in iter_route_contexts(app.routes) if (c.path or "").startswith("/v1")]
    assert contexts
    undeclared = [c.path for c in contexts if allowed_roles(c.original_route) is None]
    assert undeclared == []


async def _status(leads: Any, method: str, path: str, headers: dict[str, str], **kw: Any) -> int:
    response = await leads.http.request(method, path, headers=headers, **kw)
    if response.status_code in (401, 403):
        assert response.headers["content-type"] == "application/problem+json"
    if response.status_code == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    return response.status_code


def submission(dealer: str = D1, phone: str = "13500001111") -> dict[str, Any]:
    return {"dealer_id": dealer, "customer": {"name": "陈静", "phones": [phone]}}


async def test_submitting_a_lead(leads: Any) -> None:
    body = submission()
    assert await _status(leads, "POST", "/v1/leads", NO_TOKEN, json=body) == 401
    assert await _status(leads, "POST", "/v1/leads", token("advisor"), json=body) == 403
    assert await _status(leads, "POST", "/v1/leads", token("consultant", D2), json=body) == 403
    query = {"dealer_id": D1}
    other = token("integration", D2)
    assert await _status(leads, "POST", "/v1/leads", other, json=body, params=query) == 403
    for role, phone in (("consultant", "13500001111"), ("integration", "13500002222")):
        sent = submission(phone=phone)
        assert await _status(leads, "POST", "/v1/leads", token(role), json=sent) == 201


async def test_an_adf_document_for_another_dealer_is_403(leads: Any) -> None:
    xml = {"Content-Type": "application/xml"}
    document = ADF.replace("{dealer}", D1).encode()
    refused = {**token("integration", D2), **xml}
    assert await _status(leads, "POST", "/v1/leads", refused, content=document) == 403
    allowed = {**token("integration", D1), **xml}
    assert await _status(leads, "POST", "/v1/leads", allowed, content=document) == 201


async def test_reading_leads_and_consultants(leads: Any) -> None:
    answer = await leads.http.post("/v1/leads", json=submission())
    assert answer.status_code == 201, answer.text
    lead_id = answer.json()["lead_id"]
    reads = [
        ("/v1/leads", {"dealer_id": D1}),
        (f"/v1/leads/{lead_id}", {"dealer_id": D1}),
        (f"/v1/dealers/{D1}/consultants", {}),
    ]
    no_role = auth_header(roles=[], dealers=[D1], sub="nobody")
    for path, query in reads:
        assert await _status(leads, "GET", path, NO_TOKEN, params=query) == 401, path
        assert await _status(leads, "GET", path, no_role, params=query) == 403, path
        assert await _status(leads, "GET", path, token("gm", D2), params=query) == 403, path
        for role in ("consultant", "advisor", "customer_relations", "integration"):
            assert await _status(leads, "GET", path, token(role), params=query) == 200, path
    # another dealer's lead, asked for as that dealer's: not found (its existence hidden)
    theirs = {"dealer_id": D2}
    path = f"/v1/leads/{lead_id}"
    assert await _status(leads, "GET", path, token("gm", D2), params=theirs) == 404


async def test_steps_on_a_lead_need_their_roles_and_the_dealer(leads: Any) -> None:
    staff = [{"staff_id": c, "roles": ["consultant"]} for c in ("c-a", "c-b")]
    await leads.configure(D1, {"people": {"staff": staff}})
    created = await leads.http.post("/v1/leads", json=submission())
    assert created.status_code == 201, created.text
    lead = f"/v1/leads/{created.json()['lead_id']}"
    when = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    contact = {"channel": "phone", "outcome": "reached", "next_contact_at": when}
    appointment = {"purpose": "test_drive", "scheduled_for": when, "appointment_id": "ap-1"}
    # (path, body, a role refused, the role that works, the answer) in an order that works
    steps: list[tuple[str, dict[str, Any], str, str, int]] = [
        (f"{lead}/contacts", contact, "advisor", "consultant", 201),
        (f"{lead}/appointments", appointment, "gm", "consultant", 201),
        (f"{lead}/decline-invitation", {"reason": "too busy"}, "advisor", "sales_manager", 200),
        (f"{lead}/assign", {"consultant_id": "c-b"}, "consultant", "gm", 200),
        (f"{lead}/convert", {"contract_id": "ct-1"}, "advisor", "integration", 200),
    ]
    q = {"dealer_id": D1}
    for path, body, refused, allowed, ok in steps:
        kw = {"json": body, "params": q}
        assert await _status(leads, "POST", path, NO_TOKEN, **kw) == 401, path
        assert await _status(leads, "POST", path, token(refused), **kw) == 403, path
        other_dealer = token(allowed, D2)
        assert await _status(leads, "POST", path, other_dealer, **kw) == 403, path
        assert await _status(leads, "POST", path, token(allowed), **kw) == ok, path


async def test_marking_a_lead_lost_and_who_reassigned_it(leads: Any) -> None:
    staff = [{"staff_id": c, "roles": ["consultant"]} for c in ("c-a", "c-b")]
    await leads.configure(D1, {"people": {"staff": staff}})
    created = await leads.http.post("/v1/leads", json=submission(phone="13500004444"))
    lead = f"/v1/leads/{created.json()['lead_id']}"
    kw: dict[str, Any] = {"json": {"reason": "bought_elsewhere"}, "params": {"dealer_id": D1}}
    assert await _status(leads, "POST", f"{lead}/lost", NO_TOKEN, **kw) == 401
    assert await _status(leads, "POST", f"{lead}/lost", token("gm"), **kw) == 403
    assert await _status(leads, "POST", f"{lead}/lost", token("consultant", D2), **kw) == 403

    reassigned = await leads.http.post(
        f"{lead}/assign",
        params={"dealer_id": D1},
        json={"consultant_id": "c-b"},
        headers=token("sales_manager", sub="sm-zhou"),
    )
    assert reassigned.status_code == 200, reassigned.text
    detail = await leads.http.get(lead, params={"dealer_id": D1})
    assert [a["assigned_by"] for a in detail.json()["assignments"]][-1] == "sm-zhou"

    assert await _status(leads, "POST", f"{lead}/lost", token("consultant"), **kw) == 200


@pytest.mark.parametrize("role", ["consultant", "sales_manager"])
async def test_a_worker_role_logs_contacts(leads: Any, role: str) -> None:
    await leads.configure(D1, {"people": {"staff": [{"staff_id": "c-a", "roles": ["consultant"]}]}})
    created = await leads.http.post("/v1/leads", json=submission(phone="13500005555"))
    path = f"/v1/leads/{created.json()['lead_id']}/contacts"
    when = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body = {"channel": "phone", "outcome": "unreachable", "next_contact_at": when}
    headers = token(role)
    assert await _status(leads, "POST", path, headers, json=body, params={"dealer_id": D1}) == 201
