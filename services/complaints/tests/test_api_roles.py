"""Who may call what (bearer tokens, real PostgreSQL and Kafka): per route family, no token
is 401, a role the operation does not name is 403, a token for another dealer is 403, and
the right role gets through; staff actions record the caller when the body names nobody."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dealerflow.contracts.events.complaints import ComplaintAcknowledged, ComplaintClosed
from dealerflow.devinfra.tokens import auth_header

pytestmark = pytest.mark.integration

STORE = "sh-pudong-01"
DEALER = {"dealer_id": STORE}


def as_(role: str, sub: str = "staff-1", dealer: str = STORE) -> dict[str, str]:
    """The header of ``sub`` holding ``role`` at ``dealer`` only."""
    return auth_header(roles=[role] if role else [], dealers=[dealer], sub=sub)


async def anonymous(client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> httpx.Response:
    """The request without any Authorization header (the harness client sends an admin's)."""
    request = client.build_request(method, url, **kw)
    del request.headers["Authorization"]
    return await client.send(request)


def history(detail: dict[str, Any], action: str) -> list[str | None]:
    return [h["actor"] for h in detail["history"] if h["action"] == action]


async def test_opening_and_reading_need_a_staff_or_integration_token(harness: Any) -> None:
    body = harness.complaint_body()
    client = harness.client
    unauthenticated = await anonymous(client, "POST", "/v1/complaints", json=body)
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["WWW-Authenticate"].startswith("Bearer")
    assert unauthenticated.headers["content-type"].startswith("application/problem+json")
    no_role = await client.post("/v1/complaints", json=body, headers=as_(""))
    assert no_role.status_code == 403
    assert no_role.json()["type"].endswith("role-not-allowed")
    elsewhere = await client.post(
        "/v1/complaints", json=body, headers=as_("consultant", dealer="bj-chaoyang-02")
    )
    assert elsewhere.status_code == 403
    assert elsewhere.json()["type"].endswith("dealer-not-covered")
    assert await harness.db("SELECT 1 FROM complaints") == []

    by_consultant = await client.post("/v1/complaints", json=body, headers=as_("consultant"))
    assert by_consultant.status_code == 201, by_consultant.text
    by_crm = await client.post("/v1/complaints", json=body, headers=as_("integration", "crm"))
    assert by_crm.status_code == 201, by_crm.text
    cid = by_crm.json()["id"]

    # reads: every staff role of the dealer, and the dealer system for list and detail
    one = f"/v1/complaints/{cid}"
    for url in ("/v1/complaints", one, "/v1/complaints/stats"):
        assert (await anonymous(client, "GET", url, params=DEALER)).status_code == 401, url
        other = as_("advisor", dealer="bj-chaoyang-02")
        assert (await client.get(url, params=DEALER, headers=other)).status_code == 403, url
        ok = await client.get(url, params=DEALER, headers=as_("advisor"))
        assert ok.status_code == 200, url
    assert (await client.get(one, params=DEALER, headers=as_("integration"))).status_code == 200
    listed = await client.get("/v1/complaints", params=DEALER, headers=as_("integration"))
    assert len(listed.json()["items"]) == 2
    stats = await client.get("/v1/complaints/stats", params=DEALER, headers=as_("integration"))
    assert stats.status_code == 403  # analysis is for the store's staff


async def test_customer_relations_and_managers_handle_and_are_recorded_as_the_doers(
    harness: Any,
) -> None:
    cid = (await harness.open_complaint())["id"]
    url = f"/v1/complaints/{cid}"
    client = harness.client
    ack = {**DEALER, "channel": "phone"}

    assert (await anonymous(client, "POST", f"{url}/acknowledge", json=ack)).status_code == 401
    for role in ("consultant", "advisor", "integration"):
        denied = await client.post(f"{url}/acknowledge", json=ack, headers=as_(role))
        assert denied.status_code == 403, role
    other = as_("customer_relations", dealer="bj-chaoyang-02")
    assert (await client.post(f"{url}/acknowledge", json=ack, headers=other)).status_code == 403

    cr = as_("customer_relations", "cr-li")
    acked = await client.post(f"{url}/acknowledge", json=ack, headers=cr)
    assert acked.status_code == 200, acked.text
    assert history(acked.json(), "acknowledged") == ["cr-li"]
    paused = await client.post(f"{url}/pause", json={**DEALER, "reason": "abroad"}, headers=cr)
    assert paused.status_code == 200, paused.text
    denied = await client.post(f"{url}/resume", json=DEALER, headers=as_("consultant"))
    assert denied.status_code == 403
    resumed = await client.post(f"{url}/resume", json=DEALER, headers=as_("gm", "gm-zhao"))
    assert resumed.status_code == 200, resumed.text
    informed = await client.post(f"{url}/inform", json=DEALER, headers=cr)
    assert informed.status_code == 200, informed.text
    # a body that names someone wins over the caller
    assign = {**DEALER, "handler_id": "cr-wu", "department": "customer_relations"}
    assigned = await client.post(f"{url}/assign", json=assign, headers=as_("sales_manager", "sm"))
    assert assigned.status_code == 200, assigned.text
    done = assigned.json()
    assert done["handler_id"] == "cr-wu"
    assert (history(done, "paused"), history(done, "resumed")) == (["cr-li"], ["gm-zhao"])
    assert history(done, "customer_informed") == ["cr-li"]
    assert history(done, "assigned") == ["sm"]

    await harness.complaints_events(
        lambda seen: harness.seen_of(ComplaintAcknowledged, cid), what="ComplaintAcknowledged"
    )
    event = next(e for e in harness.seen if isinstance(e.event, ComplaintAcknowledged))
    assert event.event.handler_id == "cr-li"
    assert event.meta.actor == "cr-li"


async def test_a_consultant_cannot_close_a_complaint_a_service_manager_can(harness: Any) -> None:
    cid = (await harness.open_complaint())["id"]
    url = f"/v1/complaints/{cid}"
    client = harness.client
    acked = await client.post(f"{url}/acknowledge", json={**DEALER, "channel": "phone"})
    assert acked.status_code == 200, acked.text
    resolve = {**DEALER, "responsibility": "dealer", "measures": ["fixed"], "resolution": "ok"}
    resolved = await client.post(
        f"{url}/resolve", json=resolve, headers=as_("service_manager", "svm")
    )
    assert resolved.status_code == 200, resolved.text
    assert history(resolved.json(), "resolved") == ["svm"]

    close = {**DEALER, "customer_confirmed": True}
    assert (await anonymous(client, "POST", f"{url}/close", json=close)).status_code == 401
    for role in ("consultant", "customer_relations"):
        denied = await client.post(f"{url}/close", json=close, headers=as_(role))
        assert denied.status_code == 403, role
    other = as_("service_manager", dealer="bj-chaoyang-02")
    assert (await client.post(f"{url}/close", json=close, headers=other)).status_code == 403
    closed = await client.post(f"{url}/close", json=close, headers=as_("service_manager", "svm"))
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert history(closed.json(), "closed") == ["svm"]

    reopen = {**DEALER, "reason": "the noise is back"}
    assert (await anonymous(client, "POST", f"{url}/reopen", json=reopen)).status_code == 401
    denied = await client.post(f"{url}/reopen", json=reopen, headers=as_("consultant"))
    assert denied.status_code == 403
    other = as_("customer_relations", dealer="bj-chaoyang-02")
    assert (await client.post(f"{url}/reopen", json=reopen, headers=other)).status_code == 403
    reopened = await client.post(
        f"{url}/reopen", json=reopen, headers=as_("customer_relations", "cr-li")
    )
    assert reopened.status_code == 200, reopened.text
    assert history(reopened.json(), "reopened") == ["cr-li"]

    await harness.complaints_events(
        lambda seen: harness.seen_of(ComplaintClosed, cid), what="ComplaintClosed"
    )
    assert harness.seen_of(ComplaintClosed, cid)[0].closed_by == "svm"
