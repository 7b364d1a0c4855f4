"""The OpenAPI of every service documents its errors as they are (schemathesis found
that it did not: problem+json answers documented as ``application/json``, with no
schema, and 400/413/503 undocumented; tests/api/test_openapi_fuzz.py)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import jsonschema
import pytest
from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ValidationError

from dealerflow.devinfra.tokens import auth_header, tokens_auth_settings
from dealerflow.runtime.auth import Role, allow, public
from dealerflow.runtime.http import PROBLEM_SCHEMA, create_http_app
from dealerflow.runtime.problems import PROBLEM_CONTENT_TYPE
from dealerflow.runtime.request_models import MAX_AMOUNT, MoneyIn
from dealerflow.runtime.settings import ServiceSettings


class Thing(BaseModel):
    name: str


def _app() -> Any:
    router = APIRouter(prefix="/v1")

    @router.get("/things/{thing_id}", dependencies=[allow(Role.GM)])
    async def get_thing(thing_id: int) -> Thing:
        return Thing(name=str(thing_id))

    @router.post("/things", status_code=201, dependencies=[allow(Role.GM)])
    async def create_thing(thing: Thing) -> Thing:
        return thing

    settings = ServiceSettings(service_name="openapitest", **tokens_auth_settings())
    return create_http_app(title="t", version="1", settings=settings, routers=[router])


def test_every_error_response_is_a_documented_problem() -> None:
    document = _app().openapi()
    assert document["components"]["schemas"]["Problem"] == PROBLEM_SCHEMA
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert response["content"] == {
                        PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
                    }, (method, path, status)


def test_common_problems_are_documented() -> None:
    paths = _app().openapi()["paths"]
    read = paths["/v1/things/{thing_id}"]["get"]["responses"]
    write = paths["/v1/things"]["post"]["responses"]
    assert {"401", "403", "422", "429", "503"} <= set(read)
    assert not {"400", "413"} & set(read)  # no body to get wrong
    assert {"400", "401", "403", "413", "422", "503"} <= set(write)


def test_no_reference_is_left_unresolved() -> None:
    document = _app().openapi()
    text = repr(document)
    referred = set(re.findall(r"#/components/schemas/([A-Za-z0-9_]+)", text))
    assert referred <= set(document["components"]["schemas"])
    assert "HTTPValidationError" not in document["components"]["schemas"]


async def test_the_answers_match_the_problem_schema() -> None:
    app = _app()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", headers=auth_header()
    ) as client:
        answers = [
            await client.get("/v1/things/x"),  # 422
            await client.get("/v1/things/1", headers={"Authorization": ""}),  # 401
            await client.post(
                "/v1/things", content=b"{not json", headers={"Content-Type": "application/json"}
            ),  # 422 json_invalid
        ]
    assert [a.status_code for a in answers] == [422, 401, 422]
    for answer in answers:
        assert answer.headers["content-type"] == PROBLEM_CONTENT_TYPE
        jsonschema.validate(answer.json(), PROBLEM_SCHEMA)


def test_a_page_route_documents_its_refusals_as_pages_and_problems() -> None:
    router = APIRouter()

    @router.get(
        "/s/{token}",
        response_class=HTMLResponse,
        dependencies=[public()],
        responses={404: {"description": "Unknown link"}},
    )
    async def page(token: str) -> HTMLResponse:
        return HTMLResponse("<p>ok</p>")

    settings = ServiceSettings(service_name="openapitest", **tokens_auth_settings())
    app = create_http_app(title="t", version="1", settings=settings, routers=[router])
    content = app.openapi()["paths"]["/s/{token}"]["get"]["responses"]["404"]["content"]
    assert set(content) == {"text/html", PROBLEM_CONTENT_TYPE}


def test_request_money_is_bounded_by_the_columns() -> None:
    assert MoneyIn(amount="999999999999.99", currency="CNY").amount == MAX_AMOUNT
    with pytest.raises(ValidationError):
        MoneyIn(amount="1000000000000", currency="CNY")
