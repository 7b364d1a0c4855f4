"""Issue 9, done when: for every operation in every service's OpenAPI, a request without a
token is 401 and a token for another dealer is 403; every operation declares its roles,
the bearer scheme and its 401/403 problems. (That the right role and dealer work is shown
by each service's own tests, which need real data.)

The apps are built HTTP-only and never started: authentication answers before any
handler, so no database is touched.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from dealerflow.devinfra.tokens import auth_header, tokens_auth_settings
from dealerflow.runtime.auth import allowed_roles, is_public
from dealerflow.runtime.service import ServiceDefinition, build_app
from tests.architecture.codebase import SERVICES

OTHER = "D-other"
#: Operations about no single dealer: dealer groups (administrators only) and the list of
#: stores (only what the token covers).
NOT_DEALER_SCOPED = ("/v1/dealer-groups",)
NOT_DEALER_SCOPED_OPS = {("GET", "/v1/dealers")}
SOME_ID = "00000000-0000-4000-8000-000000000001"
#: The only operations open without a token (``public()``): pages a customer opens from a
#: message, each checking the signed token in its link itself, and the message providers'
#: delivery receipts, each authenticated the provider's way (signature or secret path).
PUBLIC_OPERATIONS = {
    ("notifier", "GET", "/v1/unsubscribe/{token}"),
    ("notifier", "POST", "/v1/unsubscribe/{token}"),
    ("notifier", "POST", "/v1/receipts/aliyun/{token}"),
    ("notifier", "POST", "/v1/receipts/tencent/{token}"),
    ("notifier", "POST", "/v1/receipts/twilio"),
    ("notifier", "GET", "/v1/receipts/wechat"),
    ("notifier", "POST", "/v1/receipts/wechat"),
}


def app_of(package: str) -> FastAPI:
    definition: ServiceDefinition[Any] = importlib.import_module(f"{package}.app").DEFINITION
    settings = definition.settings_factory(
        **tokens_auth_settings(), http_rate_limit_unauthenticated=""
    )
    return build_app(definition, settings, run_background=False)


APPS = {service.name: app_of(service.dotted) for service in SERVICES}


def operations() -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for name, app in APPS.items():
        for path, methods in app.openapi()["paths"].items():
            if path.startswith("/v1"):
                for method, operation in methods.items():
                    yield name, method.upper(), path, operation


OPERATIONS = [op for op in operations() if not op[3].get("x-public")]
PUBLIC = {(name, method, path) for name, method, path, op in operations() if op.get("x-public")}
IDS = [f"{name} {method} {path}" for name, method, path, _ in OPERATIONS]


def _request(app: FastAPI, method: str, path: str, operation: dict[str, Any]) -> dict[str, Any]:
    """A request naming dealer ``OTHER`` wherever the operation takes a dealer id."""
    url = path
    params: dict[str, str] = {}
    for parameter in operation.get("parameters", []):
        value = OTHER if parameter["name"] == "dealer_id" else SOME_ID
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", value)
        elif parameter["in"] == "query" and parameter["name"] == "dealer_id":
            params["dealer_id"] = OTHER
    body: dict[str, Any] | None = None
    content = operation.get("requestBody", {}).get("content", {})
    if content:
        body = {"dealer_id": OTHER} if _takes_dealer(app, content) else {}
    return {"method": method, "url": url, "params": params, "json": body}


def _takes_dealer(app: FastAPI, content: dict[str, Any]) -> bool:
    schema = next(iter(content.values())).get("schema", {})
    ref = schema.get("$ref")
    if ref:
        schema = app.openapi()["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return "dealer_id" in schema.get("properties", {})


def names_a_dealer(request: dict[str, Any]) -> bool:
    return (
        OTHER in request["url"]
        or "dealer_id" in request["params"]
        or bool(request["json"] and "dealer_id" in request["json"])
    )


@pytest.mark.parametrize("service", sorted(APPS))
def test_every_v1_route_declares_its_roles(service: str) -> None:
    # The OpenAPI shows an undeclared route as admin-only (how it is served), so the
    # declaration itself is checked on the routes.
    undeclared = [
        context.path
        for context in iter_route_contexts(APPS[service].routes)
        if (context.path or "").startswith("/v1")
        and allowed_roles(context.original_route) is None
        and not is_public(context.original_route)
    ]
    assert undeclared == []


def test_only_the_listed_operations_are_public() -> None:
    assert PUBLIC == PUBLIC_OPERATIONS


@pytest.mark.parametrize(("service", "method", "path"), sorted(PUBLIC_OPERATIONS))
async def test_a_public_operation_refuses_a_made_up_token(
    service: str, method: str, path: str
) -> None:
    transport = httpx.ASGITransport(app=APPS[service], raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.request(method, path.replace("{token}", "bm90.c2lnbmVk"))
    assert answer.status_code == 404, answer.text


@pytest.mark.parametrize(("service", "method", "path", "operation"), OPERATIONS, ids=IDS)
async def test_every_operation_needs_a_token_and_refuses_another_dealer(
    service: str, method: str, path: str, operation: dict[str, Any]
) -> None:
    assert operation.get("security") == [{"bearer": []}]
    assert operation.get("x-roles"), "the operation declares no roles"
    assert {"401", "403"} <= set(operation["responses"])
    app = APPS[service]
    request = _request(app, method, path, operation)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        anonymous = await client.request(**request)
        assert anonymous.status_code == 401, anonymous.text
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        if not names_a_dealer(request):
            assert path.startswith(NOT_DEALER_SCOPED) or (method, path) in NOT_DEALER_SCOPED_OPS, (
                f"{method} {path} names no dealer"
            )
            return
        mine = auth_header(roles=["admin"], dealers=["D-mine"], sub="admin-of-d-mine")
        foreign = await client.request(**request, headers=mine)
        assert foreign.status_code == 403, foreign.text
        assert foreign.json()["type"].endswith("/dealer-not-covered")
