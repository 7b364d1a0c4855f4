"""Who may call what on the dealers service: every /v1 route declares its roles; per
route family a request without a token is 401, a token without the role or for another
store is 403, and the right role works; changes are recorded as the token's subject."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import iter_route_contexts

from dealerflow.dealers.app import DEFINITION
from dealerflow.devinfra.tokens import auth_header
from dealerflow.runtime.auth import allowed_roles
from dealerflow.runtime.service import build_app

D1 = "sh-pudong-01"
D2 = "bj-chaoyang-01"
GROUP = "/v1/dealer-groups/east"
NO_TOKEN = {"Authorization": ""}
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


def gm(dealer: str = D1, sub: str = "gm-wang") -> dict[str, str]:
    return auth_header(roles=["gm"], dealers=[dealer], sub=sub)


def consultant(dealer: str = D1) -> dict[str, str]:
    return auth_header(roles=["consultant"], dealers=[dealer], sub="consultant-li")


def test_every_v1_route_declares_its_roles() -> None:
    app = build_app(DEFINITION, DEFINITION.settings_factory(), run_background=False)
    undeclared = [
        (context.path, sorted(context.methods or ()))
        for context in iter_route_contexts(app.routes)
        if (context.path or "").startswith("/v1") and allowed_roles(context.original_route) is None
    ]
    assert undeclared == []


async def _status(dealers: Any, method: str, path: str, headers: dict[str, str], **kw: Any) -> int:
    response = await dealers.client.request(method, path, headers=headers, **kw)
    if response.status_code in (401, 403):
        assert response.headers["content-type"] == "application/problem+json"
    if response.status_code == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    return response.status_code


RULES = {"sales": {"quote_valid_days": 9}}

#: (method, path, body) of each route family of a store
STORE_FAMILIES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", f"/v1/dealers/{D1}", None),
    ("GET", f"/v1/dealers/{D1}/rules", None),
    ("PATCH", f"/v1/dealers/{D1}/rules", RULES),
    ("PUT", f"/v1/dealers/{D1}/profile", {"name": "浦东店"}),
    ("PUT", f"/v1/dealers/{D1}/calendar/years/2027", {"holidays": ["2027-01-01"]}),
    ("GET", f"/v1/dealers/{D1}/history", None),
]


@pytest.mark.parametrize(("method", "path", "body"), STORE_FAMILIES)
async def test_a_store_without_a_token_is_401_and_for_another_store_403(
    dealers: Any, method: str, path: str, body: dict[str, Any] | None
) -> None:
    assert await _status(dealers, method, path, NO_TOKEN, json=body) == 401
    assert await _status(dealers, method, path, gm(D2), json=body) == 403
    assert await _status(dealers, method, path, gm(D1), json=body) == 200


async def test_every_staff_role_and_integrations_read_a_store_only_a_gm_changes_it(
    dealers: Any,
) -> None:
    readers = ["consultant", "advisor", "customer_relations", "sales_manager"]
    for role in [*readers, "service_manager", "gm", "integration"]:
        token = auth_header(roles=[role], dealers=[D1], sub=f"{role}-1")
        assert await _status(dealers, "GET", f"/v1/dealers/{D1}/people", token) == 200
    for role in [*readers, "service_manager", "integration"]:
        token = auth_header(roles=[role], dealers=[D1], sub=f"{role}-1")
        patch = {"json": RULES, "headers": {**token, **MERGE_PATCH}}
        response = await dealers.client.patch(f"/v1/dealers/{D1}/rules", **patch)
        assert response.status_code == 403, (role, response.text)
        assert await _status(dealers, "GET", f"/v1/dealers/{D1}/history", token) == 403


async def test_a_gm_patches_its_own_stores_rules_but_not_another_store(dealers: Any) -> None:
    response = await dealers.client.patch(
        f"/v1/dealers/{D1}/rules", json=RULES, headers={**gm(D1), **MERGE_PATCH}
    )
    assert response.status_code == 200, response.text
    assert response.json()["configuration"]["sales"]["quote_valid_days"] == 9

    refused = await dealers.client.patch(
        f"/v1/dealers/{D2}/rules", json=RULES, headers={**gm(D1), **MERGE_PATCH}
    )
    assert refused.status_code == 403
    refused = await dealers.client.patch(
        f"/v1/dealers/{D1}/rules", json=RULES, headers={**consultant(D1), **MERGE_PATCH}
    )
    assert refused.status_code == 403
    unchanged = await dealers.ok("GET", f"/v1/dealers/{D2}")
    assert unchanged["configuration_version"] == 0


async def test_history_shows_the_tokens_subject_as_changed_by(dealers: Any) -> None:
    await dealers.ok("PUT", f"/v1/dealers/{D1}/profile", json={"name": "浦东店"}, headers=gm())
    await dealers.ok(
        "PATCH",
        f"/v1/dealers/{D1}/rules",
        json=RULES,
        headers={**gm(sub="gm-zhou"), **MERGE_PATCH, "X-Staff-Id": "someone-else"},
    )
    history = await dealers.ok("GET", f"/v1/dealers/{D1}/history", headers=gm())
    assert [e["changed_by"] for e in history["items"]] == ["gm-zhou", "gm-wang"]
    assert [e.changed_by for e in await dealers.published()] == ["gm-wang", "gm-zhou"]


#: (method, path, body) of each route family of a group
GROUP_FAMILIES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", GROUP, None),
    ("PUT", f"{GROUP}/rules", RULES),
    ("PATCH", f"{GROUP}/calendar", {"time_zone": "Asia/Harbin"}),
    ("PUT", f"{GROUP}/calendar/years/2027", {"holidays": ["2027-01-01"]}),
    ("GET", f"{GROUP}/history", None),
]


@pytest.mark.parametrize(("method", "path", "body"), GROUP_FAMILIES)
async def test_dealer_groups_are_admin_only(
    dealers: Any, method: str, path: str, body: dict[str, Any] | None
) -> None:
    assert await _status(dealers, method, path, NO_TOKEN, json=body) == 401
    every_store_gm = auth_header(roles=["gm"], dealers=["*"], sub="gm-all")
    assert await _status(dealers, method, path, every_store_gm, json=body) == 403
    group_gm = auth_header(roles=["gm"], dealers=[], dealer_group="east", sub="gm-east")
    assert await _status(dealers, method, path, group_gm, json=body) == 403
    admin = auth_header(roles=["admin"], dealers=["*"], sub="admin-1")
    assert await _status(dealers, method, path, admin, json=body) == 200


async def test_the_list_shows_only_the_stores_the_token_covers(dealers: Any) -> None:
    for dealer, group in ((D1, "east"), (D2, "north"), ("sh-xuhui-02", "east")):
        body = {"name": dealer, "group_id": group}
        await dealers.ok("PUT", f"/v1/dealers/{dealer}/profile", json=body)

    async def listed(headers: dict[str, str]) -> list[str]:
        page = await dealers.ok("GET", "/v1/dealers", headers=headers)
        return [d["dealer_id"] for d in page["items"]]

    assert await _status(dealers, "GET", "/v1/dealers", NO_TOKEN) == 401
    admin_only = auth_header(roles=["admin"], dealers=[], sub="admin-1")
    assert await listed(admin_only) == []
    assert await listed(consultant(D1)) == [D1]
    group_token = auth_header(roles=["sales_manager"], dealers=[D2], dealer_group="east")
    assert await listed(group_token) == [D2, D1, "sh-xuhui-02"]
    assert await listed(auth_header(roles=["integration"], dealers=["*"])) == [
        D2,
        D1,
        "sh-xuhui-02",
    ]
