"""Discount approval, signing on a quote and the quote list through the HTTP API on a
real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from dealerflow.contracts.events.sales import DiscountApprovalDecided, DiscountApprovalRequested
from dealerflow.devinfra.tokens import auth_header
from dealerflow.runtime.clock import ManualClock

pytestmark = pytest.mark.integration

Body = Callable[..., dict[str, Any]]

QUOTE = {
    "dealer_id": "D001",
    "customer_phone": "13800138000",
    "consultant_id": "consultant-li",
    "lead_id": "lead-1001",
    "vehicle": {"model": "Aurora X5", "configuration": "Luxury", "colour": "white"},
    "vehicle_price": "200000.00",
    "discount": "5000.00",
}
BEYOND = dict(QUOTE, discount="12000.00")  # 6 % is beyond the default 5 %
MANAGER = auth_header(roles=["sales-manager"], dealers=["D001"], sub="m-zhou")


async def _quote(api: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post("/v1/quotes", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _decide(
    api: httpx.AsyncClient, quote_id: str, decision: str, key: str | None = None, **extra: Any
) -> httpx.Response:
    headers = dict(MANAGER) | ({"Idempotency-Key": key} if key else {})
    return await api.post(
        f"/v1/quotes/{quote_id}/approval",
        json={"dealer_id": "D001", "decision": decision, **extra},
        headers=headers,
    )


async def test_a_manager_approves_once_and_the_decision_is_published(
    api: httpx.AsyncClient, outbox: Any
) -> None:
    quote = await _quote(api, BEYOND)
    decided = await _decide(api, quote["quote_id"], "approve", key="k-1", note="loyal customer")
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["approval"]["status"] == "approved"
    assert body["approval"]["decided_by"] == "m-zhou"
    assert body["approval"]["note"] == "loyal customer"
    assert body["expired"] is False
    # the retry with its key changes nothing; another decision is 409
    again = await _decide(api, quote["quote_id"], "approve", key="k-1", note="loyal customer")
    assert again.status_code == 200, again.text
    other = await _decide(api, quote["quote_id"], "reject", key="k-2")
    assert other.status_code == 409
    assert other.json()["approval_status"] == "approved"
    events = await outbox.events()
    requested = next(e for e in events if isinstance(e, DiscountApprovalRequested))
    [decision] = [e for e in events if isinstance(e, DiscountApprovalDecided)]
    assert decision.approval_id == requested.approval_id == quote["approval_id"]
    assert (decision.decision, decision.decided_by) == ("approved", "m-zhou")


async def test_only_managers_decide_and_only_what_needs_approval(
    api: httpx.AsyncClient, outbox: Any
) -> None:
    quote = await _quote(api, BEYOND)
    consultant = auth_header(roles=["consultant"], dealers=["D001"])
    refused = await api.post(
        f"/v1/quotes/{quote['quote_id']}/approval",
        json={"dealer_id": "D001", "decision": "approve"},
        headers=consultant,
    )
    assert refused.status_code == 403
    within = await _quote(api, QUOTE)
    nothing = await _decide(api, within["quote_id"], "approve")
    assert nothing.status_code == 409
    assert nothing.json()["approval_status"] == "not_required"
    missing = await _decide(api, str(uuid.uuid4()), "approve")
    assert missing.status_code == 404
    bad = await _decide(api, quote["quote_id"], "maybe")
    assert bad.status_code == 422
    assert not [e for e in await outbox.events() if isinstance(e, DiscountApprovalDecided)]


async def test_no_contract_on_a_quote_awaiting_or_failing_approval(
    api: httpx.AsyncClient, outbox: Any, contract_body: Body
) -> None:
    pending = await _quote(api, BEYOND)
    signing = await api.post("/v1/contracts", json=contract_body(quote_id=pending["quote_id"]))
    assert signing.status_code == 409, signing.text
    assert signing.json()["approval_status"] == "pending"
    assert "awaits" in signing.json()["detail"]
    rejected = await _decide(api, pending["quote_id"], "reject", note="too deep")
    assert rejected.json()["approval"]["status"] == "rejected"
    signing = await api.post("/v1/contracts", json=contract_body(quote_id=pending["quote_id"]))
    assert signing.status_code == 409
    assert signing.json()["approval_status"] == "rejected"
    approved = await _quote(api, BEYOND)
    await _decide(api, approved["quote_id"], "approve")
    signed = await api.post("/v1/contracts", json=contract_body(quote_id=approved["quote_id"]))
    assert signed.status_code == 201, signed.text
    within = await _quote(api, QUOTE)
    signed = await api.post("/v1/contracts", json=contract_body(quote_id=within["quote_id"]))
    assert signed.status_code == 201, signed.text
    assert [e.type for e in await outbox.events() if e.type == "ContractSigned"] == [
        "ContractSigned",
        "ContractSigned",
    ]


async def test_an_expired_quote_cannot_be_signed(
    api: httpx.AsyncClient, clock: ManualClock, contract_body: Body
) -> None:
    quote = await _quote(api, QUOTE)
    beyond = await _quote(api, BEYOND)
    assert quote["valid_until"] == "2025-03-10"  # issued 2025-03-03, 7 days by default
    clock.advance(timedelta(days=7))  # 2025-03-10 10:00 Shanghai: the last day
    fetched = await api.get("/v1/quotes", params={"dealer_id": "D001", "lead_id": "lead-1001"})
    assert [q["expired"] for q in fetched.json()["items"]] == [False, False]
    clock.advance(timedelta(days=1))
    fetched = await api.get("/v1/quotes", params={"dealer_id": "D001", "lead_id": "lead-1001"})
    assert [q["expired"] for q in fetched.json()["items"]] == [True, True]
    signing = await api.post(
        "/v1/contracts",
        json=contract_body(quote_id=quote["quote_id"], planned_delivery_on="2025-03-30"),
    )
    assert signing.status_code == 409, signing.text
    assert signing.json()["expired"] is True
    assert "expired" in signing.json()["detail"]
    # an expired quote is quoted anew, not approved
    late = await _decide(api, beyond["quote_id"], "approve")
    assert late.status_code == 409, late.text
    assert late.json()["approval_status"] == "pending"
    assert "expired" in late.json()["detail"]


async def test_the_quotes_of_a_customer_or_a_lead_page_newest_first(
    api: httpx.AsyncClient, clock: ManualClock
) -> None:
    ids = []
    for _ in range(3):
        ids.append((await _quote(api, QUOTE))["quote_id"])
        clock.advance(timedelta(minutes=1))
    other = await _quote(api, dict(QUOTE, customer_phone="13900139000", lead_id="lead-2002"))
    customer_id = (await api.get(f"/v1/quotes/{ids[0]}", params={"dealer_id": "D001"})).json()[
        "customer_id"
    ]
    first = await api.get(
        "/v1/quotes", params={"dealer_id": "D001", "customer_id": customer_id, "limit": 2}
    )
    assert first.status_code == 200, first.text
    page = first.json()
    assert [q["quote_id"] for q in page["items"]] == [ids[2], ids[1]]
    assert page["items"][0]["approval"]["status"] == "not_required"
    second = await api.get(
        "/v1/quotes",
        params={
            "dealer_id": "D001",
            "customer_id": customer_id,
            "limit": 2,
            "cursor": page["next_cursor"],
        },
    )
    assert [q["quote_id"] for q in second.json()["items"]] == [ids[0]]
    assert second.json()["next_cursor"] is None
    by_lead = await api.get("/v1/quotes", params={"dealer_id": "D001", "lead_id": "lead-2002"})
    assert [q["quote_id"] for q in by_lead.json()["items"]] == [other["quote_id"]]
    elsewhere = await api.get("/v1/quotes", params={"dealer_id": "D002", "lead_id": "lead-2002"})
    assert elsewhere.json()["items"] == []


async def test_a_quote_shows_its_approval_status(api: httpx.AsyncClient, outbox: Any) -> None:
    quote = await _quote(api, BEYOND)
    url = f"/v1/quotes/{quote['quote_id']}"
    pending = await api.get(url, params={"dealer_id": "D001"})
    assert pending.status_code == 200, pending.text
    assert pending.json()["approval"] == {
        "status": "pending",
        "decided_by": None,
        "decided_at": None,
        "note": None,
    }
    decided = await _decide(api, quote["quote_id"], "reject", key="k-g", note="too much")
    assert decided.status_code == 200, decided.text
    rejected = (await api.get(url, params={"dealer_id": "D001"})).json()["approval"]
    assert (rejected["status"], rejected["decided_by"], rejected["note"]) == (
        "rejected",
        "m-zhou",
        "too much",
    )
    assert rejected["decided_at"] is not None
    within = await _quote(api, QUOTE)
    plain = await api.get(f"/v1/quotes/{within['quote_id']}", params={"dealer_id": "D001"})
    assert plain.json()["approval"]["status"] == "not_required"
    missing = await api.get(f"/v1/quotes/{uuid.uuid4()}", params={"dealer_id": "D001"})
    assert missing.status_code == 404
