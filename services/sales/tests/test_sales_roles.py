"""Who may call each sales operation: 401 without a token, 403 without the role or for
another dealer, and the work done with the right role (the caller recorded as the actor)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from dealerflow.devinfra.tokens import auth_header
from dealerflow.runtime.auth import allowed_roles
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.service import build_app
from dealerflow.sales.app import DEFINITION

Body = Callable[..., dict[str, Any]]
ANY_ID = uuid.uuid4()
MONEY = {"amount": "1000.00", "currency": "CNY"}


def acting(*roles: str, dealer: str = "D001", sub: str | None = None) -> dict[str, str]:
    """The header of a staff member of ``dealer`` in ``roles``."""
    return auth_header(roles=list(roles), dealers=[dealer], sub=sub or f"{'-'.join(roles)}-1")


NO_TOKEN = {"Authorization": ""}

# (method, path, JSON body or query, an allowed role, a role refused): every operation.
OPERATIONS: list[tuple[str, str, dict[str, Any], str, str | None]] = [
    ("POST", "/v1/quotes", {"dealer_id": "D001"}, "consultant", "advisor"),
    ("GET", f"/v1/quotes/{ANY_ID}", {"dealer_id": "D001"}, "advisor", "integration"),
    ("GET", "/v1/quotes", {"dealer_id": "D001"}, "advisor", "integration"),
    (
        "POST",
        f"/v1/quotes/{ANY_ID}/approval",
        {"dealer_id": "D001"},
        "sales_manager",
        "consultant",
    ),
    ("POST", "/v1/test-drives", {"dealer_id": "D001"}, "consultant", "advisor"),
    ("GET", f"/v1/test-drives/{ANY_ID}", {"dealer_id": "D001"}, "gm", "integration"),
    ("POST", "/v1/visits", {"dealer_id": "D001"}, "consultant", "advisor"),
    ("GET", "/v1/visits", {"dealer_id": "D001"}, "advisor", "integration"),
    ("GET", f"/v1/visits/{ANY_ID}", {"dealer_id": "D001"}, "customer_relations", "integration"),
    ("POST", f"/v1/visits/{ANY_ID}/needs", {"dealer_id": "D001"}, "consultant", "advisor"),
    ("POST", f"/v1/visits/{ANY_ID}/departure", {"dealer_id": "D001"}, "gm", "advisor"),
    ("PUT", "/v1/test-drive-vehicles/TD-01", {"dealer_id": "D001"}, "gm", "consultant"),
    ("GET", "/v1/test-drive-vehicles", {"dealer_id": "D001"}, "advisor", "integration"),
    ("GET", "/v1/test-drive-vehicles/TD-01", {"dealer_id": "D001"}, "consultant", None),
    ("DELETE", "/v1/test-drive-vehicles/TD-01", {"dealer_id": "D001"}, "gm", "consultant"),
    (
        "GET",
        "/v1/test-drive-vehicles/TD-01/bookings",
        {"dealer_id": "D001", "from": "2025-03-03T00:00:00Z", "to": "2025-03-04T00:00:00Z"},
        "advisor",
        "integration",
    ),
    ("POST", f"/v1/test-drives/{ANY_ID}/start", {"dealer_id": "D001"}, "consultant", "advisor"),
    ("POST", f"/v1/test-drives/{ANY_ID}/complete", {"dealer_id": "D001"}, "gm", "advisor"),
    ("POST", f"/v1/test-drives/{ANY_ID}/cancel", {"dealer_id": "D001"}, "consultant", "advisor"),
    ("POST", "/v1/contracts", {"dealer_id": "D001"}, "consultant", "advisor"),
    ("GET", "/v1/contracts", {"dealer_id": "D001"}, "integration", None),
    ("GET", f"/v1/contracts/{ANY_ID}", {"dealer_id": "D001"}, "advisor", None),
    ("POST", f"/v1/contracts/{ANY_ID}/amend", {"dealer_id": "D001"}, "consultant", "advisor"),
    ("POST", f"/v1/contracts/{ANY_ID}/cancel", {"dealer_id": "D001"}, "gm", "consultant"),
    (
        "POST",
        f"/v1/contracts/{ANY_ID}/payments",
        {"dealer_id": "D001"},
        "integration",
        "consultant",
    ),
    (
        "POST",
        f"/v1/contracts/{ANY_ID}/invoice",
        {"dealer_id": "D001"},
        "sales_manager",
        "consultant",
    ),
    (
        "POST",
        f"/v1/contracts/{ANY_ID}/payments/{ANY_ID}/confirmation",
        {"dealer_id": "D001"},
        "gm",
        "consultant",
    ),
    (
        "POST",
        f"/v1/contracts/{ANY_ID}/loan-approval",
        {"dealer_id": "D001"},
        "sales_manager",
        "integration",
    ),
    (
        "POST",
        f"/v1/contracts/{ANY_ID}/refunds",
        {"dealer_id": "D001"},
        "gm",
        "consultant",
    ),
    (
        "POST",
        f"/v1/contracts/{ANY_ID}/deliveries/schedule",
        {"dealer_id": "D001"},
        "consultant",
        "customer_relations",
    ),
    ("POST", f"/v1/contracts/{ANY_ID}/deliver", {"dealer_id": "D001"}, "consultant", "advisor"),
    ("PUT", f"/v1/contracts/{ANY_ID}/pdi", {"dealer_id": "D001"}, "sales_manager", "advisor"),
    ("GET", f"/v1/contracts/{ANY_ID}/pdi", {"dealer_id": "D001"}, "advisor", None),
]


async def call(
    api: httpx.AsyncClient, method: str, path: str, data: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    if method in ("GET", "DELETE"):
        return await api.request(method, path, params=data, headers=headers)
    return await api.request(method, path, json=data, headers=headers)


def test_every_v1_route_declares_who_may_call_it() -> None:
    app = build_app(DEFINITION, DEFINITION.settings_factory(), run_background=False)
    v1 = [c for c in iter_route_contexts(app.routes) if (c.path or "").startswith("/v1")]
    assert len(v1) == len(OPERATIONS)
    assert [c.path for c in v1 if allowed_roles(c.original_route) is None] == []


@pytest.mark.integration
@pytest.mark.parametrize(("method", "path", "data", "allowed", "refused"), OPERATIONS)
async def test_each_operation_needs_a_token_the_role_and_the_dealer(
    api: httpx.AsyncClient,
    method: str,
    path: str,
    data: dict[str, Any],
    allowed: str,
    refused: str | None,
) -> None:
    anonymous = await call(api, method, path, data, NO_TOKEN)
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    # A role the operation does not grant (every role is granted some reads: no roles).
    wrong_role = await call(api, method, path, data, acting(*([refused] if refused else [])))
    assert wrong_role.status_code == 403, wrong_role.text
    assert wrong_role.json()["type"].endswith("role-not-allowed")
    other_dealer = await call(api, method, path, data, acting(allowed, dealer="D002"))
    assert other_dealer.status_code == 403, other_dealer.text
    assert other_dealer.json()["type"].endswith("dealer-not-covered")


async def actors(outbox: Any) -> list[tuple[str, str | None]]:
    return [(env.event.type, env.meta.actor) for _, env in await outbox.records()]


@pytest.mark.integration
async def test_the_sale_goes_through_with_each_role_doing_its_part(
    api: httpx.AsyncClient,
    outbox: Any,
    contract_body: Body,
    full_checklist: dict[str, Any],
    clock: ManualClock,
    record_pdi: Callable[..., Awaitable[httpx.Response]],
) -> None:
    consultant = acting("consultant", sub="consultant-wu")
    manager = acting("sales_manager", sub="manager-zhou")
    dms = acting("integration", sub="dms")
    body = {k: v for k, v in contract_body().items() if k != "consultant_id"}
    signed = await api.post("/v1/contracts", json=body, headers=consultant)
    assert signed.status_code == 201, signed.text
    assert signed.json()["consultant_id"] == "consultant-wu"
    contract = f"/v1/contracts/{signed.json()['contract_id']}"
    amended = await api.post(
        f"{contract}/amend",
        json={
            "dealer_id": "D001",
            "planned_delivery_on": "2025-03-21",
            "customer_agreed": True,
            "dealer_agreed": True,
        },
        headers=consultant,
    )
    assert amended.status_code == 200, amended.text

    def payment(kind: str, amount: str) -> dict[str, Any]:
        return {
            "dealer_id": "D001",
            "kind": kind,
            "method": "bank_transfer",
            "amount": {"amount": amount, "currency": "CNY"},
        }

    paid = await api.post(
        f"{contract}/payments", json=payment("deposit", "50000.00"), headers=manager
    )
    assert paid.status_code == 201, paid.text
    paid = await api.post(f"{contract}/payments", json=payment("balance", "150000.00"), headers=dms)
    assert paid.status_code == 201, paid.text
    invoice = {"dealer_id": "D001", "invoice_number": "INV-1", "invoice_title": "王芳"}
    assert (await api.post(f"{contract}/invoice", json=invoice, headers=manager)).status_code == 200
    schedule = {"dealer_id": "D001", "scheduled_for": "2025-03-21T02:00:00Z"}
    scheduled = await api.post(f"{contract}/deliveries/schedule", json=schedule, headers=consultant)
    assert scheduled.status_code == 200, scheduled.text
    clock.advance(timedelta(days=18))
    await record_pdi(api, signed.json()["contract_id"], headers=consultant)
    handover = {"dealer_id": "D001", "checklist": full_checklist, "odometer_km": 8}
    delivered = await api.post(f"{contract}/deliver", json=handover, headers=consultant)
    assert delivered.status_code == 200, delivered.text
    assert await actors(outbox) == [
        ("ContractSigned", "consultant-wu"),
        ("ContractAmended", "consultant-wu"),
        ("PaymentReceived", "manager-zhou"),
        ("PaymentReceived", "dms"),
        ("InvoiceIssued", "manager-zhou"),
        ("DeliveryScheduled", "consultant-wu"),
        ("VehicleDelivered", "consultant-wu"),
    ]
    listed = await api.get("/v1/contracts", params={"dealer_id": "D001"}, headers=dms)
    assert [c["contract_id"] for c in listed.json()["items"]] == [signed.json()["contract_id"]]
    read = await api.get(contract, params={"dealer_id": "D001"}, headers=acting("advisor"))
    assert read.json()["status"] == "delivered"


@pytest.mark.integration
async def test_only_a_manager_cancels_and_refunds(
    api: httpx.AsyncClient, outbox: Any, contract_body: Body
) -> None:
    signed = await api.post("/v1/contracts", json=contract_body(), headers=acting("consultant"))
    contract = f"/v1/contracts/{signed.json()['contract_id']}"
    cancel = {"dealer_id": "D001", "reason": "changed mind", "cancelled_by": "customer"}
    refused = await api.post(f"{contract}/cancel", json=cancel, headers=acting("consultant"))
    assert refused.status_code == 403
    cancelled = await api.post(
        f"{contract}/cancel", json=cancel, headers=acting("gm", sub="gm-sun")
    )
    assert cancelled.status_code == 200, cancelled.text
    assert (await actors(outbox))[-1] == ("ContractCancelled", "gm-sun")
