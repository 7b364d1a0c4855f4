"""Who may call each service-center operation: 401 without a token, 403 without the role
or for another dealer, and the repair order worked through by an advisor (the caller
recorded as advisor, technician and inspector when the body names nobody)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from dealerflow.devinfra.tokens import auth_header
from dealerflow.runtime.auth import allowed_roles
from dealerflow.runtime.service import build_app
from dealerflow.service_center.app import DEFINITION

Body = Callable[..., dict[str, Any]]
Step = Callable[..., Any]
RO = f"/v1/repair-orders/{uuid.uuid4()}"
SA = f"/v1/service-appointments/{uuid.uuid4()}"
NO_TOKEN = {"Authorization": ""}


def acting(*roles: str, dealer: str = "D001", sub: str | None = None) -> dict[str, str]:
    """The header of a staff member of ``dealer`` in ``roles``."""
    return auth_header(roles=list(roles), dealers=[dealer], sub=sub or f"{'-'.join(roles)}-1")


# (method, path, an allowed role, a role refused): every operation. The dealer is named
# in the query (reads) or the body (steps).
OPERATIONS: list[tuple[str, str, str, str | None]] = [
    ("POST", "/v1/repair-orders", "integration", "consultant"),
    ("GET", "/v1/repair-orders", "consultant", None),
    ("GET", RO, "integration", None),
    ("POST", f"{RO}/diagnosis", "advisor", "consultant"),
    ("POST", f"{RO}/quote", "service_manager", "sales_manager"),
    ("POST", f"{RO}/approve", "advisor", "gm"),
    ("POST", f"{RO}/complete", "advisor", "integration"),
    ("POST", f"{RO}/quality-check", "service_manager", "customer_relations"),
    ("POST", f"{RO}/handover", "advisor", "consultant"),
    ("PUT", f"{RO}/detailing", "advisor", "sales_manager"),
    ("GET", "/v1/vehicles/LSVAU2180N2183294/history", "integration", None),
    ("PUT", "/v1/parts/OF-1001", "advisor", "consultant"),
    ("GET", "/v1/parts", "consultant", None),
    ("GET", "/v1/parts/OF-1001", "integration", None),
    ("POST", "/v1/stock-counts", "service_manager", "consultant"),
    ("GET", f"{RO}/parts", "consultant", None),
    ("POST", f"{RO}/parts/issue", "advisor", "consultant"),
    ("POST", f"{RO}/parts/return", "service_manager", "gm"),
    ("POST", "/v1/purchase-orders", "advisor", "consultant"),
    ("GET", f"/v1/purchase-orders/{uuid.uuid4()}", "integration", None),
    ("POST", f"/v1/purchase-orders/{uuid.uuid4()}/receipt", "service_manager", "consultant"),
    ("GET", "/v1/service-slots", "consultant", None),
    ("POST", "/v1/service-appointments", "customer_relations", "consultant"),
    ("GET", "/v1/service-appointments", "integration", None),
    ("GET", SA, "advisor", None),
    ("POST", f"{SA}/reschedule", "integration", "gm"),
    ("POST", f"{SA}/cancel", "service_manager", "sales_manager"),
]


async def call(
    api: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> httpx.Response:
    if method == "GET":
        return await api.get(path, params={"dealer_id": "D001"}, headers=headers)
    return await api.request(method, path, json={"dealer_id": "D001"}, headers=headers)


def test_every_v1_route_declares_who_may_call_it() -> None:
    app = build_app(DEFINITION, DEFINITION.settings_factory(), run_background=False)
    v1 = [c for c in iter_route_contexts(app.routes) if (c.path or "").startswith("/v1")]
    assert len(v1) == len(OPERATIONS)
    assert [c.path for c in v1 if allowed_roles(c.original_route) is None] == []


@pytest.mark.integration
@pytest.mark.parametrize(("method", "path", "allowed", "refused"), OPERATIONS)
async def test_each_operation_needs_a_token_the_role_and_the_dealer(
    api: httpx.AsyncClient, method: str, path: str, allowed: str, refused: str | None
) -> None:
    anonymous = await call(api, method, path, NO_TOKEN)
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    # A role the operation does not grant (every role may read: a token with no roles).
    wrong_role = await call(api, method, path, acting(*([refused] if refused else [])))
    assert wrong_role.status_code == 403, wrong_role.text
    assert wrong_role.json()["type"].endswith("role-not-allowed")
    other_dealer = await call(api, method, path, acting(allowed, dealer="D002"))
    assert other_dealer.status_code == 403, other_dealer.text
    assert other_dealer.json()["type"].endswith("dealer-not-covered")


@pytest.mark.integration
async def test_an_advisor_works_a_repair_order_through_as_themselves(
    api: httpx.AsyncClient, ro_body: Body, outbox: Any, workflow: Step
) -> None:
    zhao = acting("advisor", sub="advisor-zhao")
    consultant = acting("consultant")
    body = {k: v for k, v in ro_body(concerns=["刹车异响"]).items() if k != "advisor_id"}
    refused = await api.post("/v1/repair-orders", json=body, headers=consultant)
    assert refused.status_code == 403  # a consultant cannot open a repair order
    opened = await api.post("/v1/repair-orders", json=body, headers=zhao)
    assert opened.status_code == 201, opened.text
    assert opened.json()["advisor_id"] == "advisor-zhao"
    ro_id = opened.json()["repair_order_id"]

    diagnosed = await workflow(ro_id, "diagnosis", findings=["pads worn"], headers=zhao)
    assert diagnosed.json()["diagnosis"]["technician_id"] == "advisor-zhao"
    line = {"item_id": "L1", "kind": "labour", "description": "Pads", "labour_hours": "1"}
    manager = acting("service_manager", sub="manager-qian")
    quoted = await workflow(ro_id, "quote", lines=[line], headers=manager)
    assert quoted.status_code == 200, quoted.text
    decision = {"approved_item_ids": ["L1"], "method": "signature"}
    assert (await workflow(ro_id, "approve", **decision, headers=zhao)).status_code == 200
    work = {"technician_ids": ["tech-sun"], "work_summary": "pads", "labour_hours": "1.0"}
    assert (await workflow(ro_id, "complete", **work, headers=zhao)).status_code == 200
    checked = await workflow(ro_id, "quality-check", passed=True, headers=manager)
    assert checked.json()["quality_checks"][-1]["inspector_id"] == "manager-qian"
    handover = {"amount_paid": quoted.json()["quote"]["total"], "invoice_number": "SV-1"}
    handed = await workflow(ro_id, "handover", **handover, headers=zhao)
    assert handed.status_code == 200, handed.text

    assert [(env.event.type, env.meta.actor) for _, env in await outbox.records()] == [
        ("RepairOrderOpened", "advisor-zhao"),
        ("DiagnosisCompleted", "advisor-zhao"),
        ("RepairQuoted", "manager-qian"),
        ("RepairApproved", "advisor-zhao"),
        ("RepairCompleted", "advisor-zhao"),
        ("QualityCheckPassed", "manager-qian"),
        ("VehicleHandedOver", "advisor-zhao"),
        ("ServiceTierChanged", "advisor-zhao"),
    ]
    # Every staff member of the dealer, and a DMS, reads it; another dealer finds nothing.
    path = f"/v1/repair-orders/{ro_id}"
    read = await api.get(path, params={"dealer_id": "D001"}, headers=consultant)
    assert read.json()["status"] == "handed_over"
    listed = await api.get(
        "/v1/repair-orders", params={"dealer_id": "D001"}, headers=acting("integration")
    )
    assert [ro["repair_order_id"] for ro in listed.json()["items"]] == [ro_id]
    elsewhere = await api.get(
        path, params={"dealer_id": "D002"}, headers=acting("advisor", dealer="D002")
    )
    assert elsewhere.status_code == 404
