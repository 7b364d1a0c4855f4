"""NUL and lone surrogates are 422 with the field; JSON nested too deeply is 400.

No database: the checks run before any endpoint (an app-wide dependency of
create_http_app), so the endpoints here only count that they were (not) reached.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel

from dealerflow.devinfra.tokens import auth_header, tokens_auth_settings
from dealerflow.runtime.http import create_http_app
from dealerflow.runtime.problems import problem_type
from dealerflow.runtime.request_values import MAX_JSON_DEPTH
from dealerflow.runtime.settings import ServiceSettings
from dealerflow.runtime.storable import find_unstorable


class Customer(BaseModel):
    name: str
    tags: list[str] = []


class NewLead(BaseModel):
    customer: Customer
    note: str = ""
    extra: dict[str, Any] = {}


def _app(reached: list[str]) -> FastAPI:
    router = APIRouter(prefix="/v1")

    @router.post("/leads")
    async def create(lead: NewLead) -> dict[str, str]:
        reached.append("create")
        return {"name": lead.customer.name}

    @router.post("/leads/{lead_id}/close")
    async def close(lead_id: str) -> dict[str, str]:  # a step without a body model
        reached.append("close")
        return {"lead_id": lead_id}

    @router.get("/leads")
    async def search(q: str = "") -> dict[str, str]:
        reached.append("search")
        return {"q": q}

    @router.post("/raw")
    async def raw(request: Request) -> dict[str, int]:  # parses its body by itself
        reached.append("raw")
        return {"size": len(await request.body())}

    settings = ServiceSettings(service_name="valuestest", **tokens_auth_settings())
    return create_http_app(title="values", version="1", settings=settings, routers=[router])


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t", headers=auth_header())


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["type"] == problem_type("validation-error")
    errors: list[dict[str, Any]] = body["errors"]
    return errors


def _deep(levels: int) -> str:
    return '{"customer": {"name": "x"}, "extra": {"a": ' + "[" * levels + "]" * levels + "}}"


def test_the_walk_finds_the_first_unstorable_value_without_recursion() -> None:
    value: Any = "fine"
    for _ in range(10_000):
        value = [value]
    assert find_unstorable(value) is None  # 10,000 deep: no RecursionError
    found = find_unstorable({"a": [1, {"b": "x\x00y"}]}, ("body",))
    assert found is not None
    assert (found.loc, found.code_point) == (("body", "a", 1, "b"), 0)
    key = find_unstorable({"ok": 1, "bad\ud800": 2})
    assert key is not None
    assert key.code_point == 0xD800


async def test_nul_in_a_json_string_is_422_with_the_field() -> None:
    reached: list[str] = []
    async with _client(_app(reached)) as client:
        escaped = await client.post(
            "/v1/leads",
            content=b'{"customer": {"name": "Wang\\u0000Wei"}}',
            headers={"Content-Type": "application/json"},
        )
        surrogate = await client.post(
            "/v1/leads",
            content=b'{"customer": {"name": "x", "tags": ["ok", "\\udc80"]}}',
            headers={"Content-Type": "application/json"},
        )
        fine = await client.post("/v1/leads", json={"customer": {"name": "Wang Wei"}})
    assert _errors(escaped) == [
        {
            "loc": ["body", "customer", "name"],
            "msg": "contains U+0000, a character that cannot be stored",
            "type": "unstorable_character",
        }
    ]
    assert "Wang" not in escaped.text  # the value is not echoed
    assert _errors(surrogate)[0]["loc"] == ["body", "customer", "tags", "1"]
    assert fine.status_code == 200
    assert reached == ["create"]


async def test_nul_in_query_path_form_and_untyped_bodies_is_422() -> None:
    reached: list[str] = []
    async with _client(_app(reached)) as client:
        query = await client.get("/v1/leads", params={"q": "a\x00b"})
        path = await client.post("/v1/leads/L%00X/close")
        form = await client.post(
            "/v1/raw",
            content=b"From=%2B8613800000000&Body=TD%00",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        sniffed = await client.post("/v1/raw", content=b'{"name": "a\\u0000"}')
        text = await client.post(
            "/v1/raw", content=b"<adf>\x00</adf>", headers={"Content-Type": "text/xml"}
        )
        binary = await client.post(
            "/v1/raw", content=b"\x00\x01", headers={"Content-Type": "application/octet-stream"}
        )
    assert _errors(query)[0]["loc"] == ["query", "q"]
    assert _errors(path)[0]["loc"] == ["path", "lead_id"]
    assert _errors(form)[0]["loc"] == ["body", "Body"]
    assert _errors(sniffed)[0]["loc"] == ["body", "name"]
    assert _errors(text)[0]["loc"] == ["body"]
    assert binary.status_code == 200  # bytes are not text: the endpoint decides
    assert reached == ["raw"]


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH + 1, 5_000])
async def test_json_nested_too_deeply_is_400_with_the_reason(levels: int) -> None:
    reached: list[str] = []
    async with _client(_app(reached)) as client:
        modelled = await client.post(
            "/v1/leads", content=_deep(levels), headers={"Content-Type": "application/json"}
        )
        step = await client.post(
            "/v1/leads/L1/close",
            content=_deep(levels),
            headers={"Content-Type": "application/json"},
        )
        fits = await client.post(
            "/v1/leads",
            content=_deep(MAX_JSON_DEPTH - 3),
            headers={"Content-Type": "application/json"},
        )
    for response in (modelled, step):
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["type"] == problem_type("nesting-too-deep")
        assert "nested deeper than" in body["detail"]
    assert fits.status_code == 200, fits.text
    assert reached == ["create"]
