"""Web-facing hygiene of create_http_app: body size, CORS, security headers, rate limits,
and no exception text in error bodies. No database: the app has no readiness checks."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel

from dealerflow.devinfra.tokens import auth_header, tokens_auth_settings
from dealerflow.runtime.http import create_http_app
from dealerflow.runtime.logging import JsonFormatter
from dealerflow.runtime.problems import problem_type
from dealerflow.runtime.settings import ServiceSettings
from dealerflow.runtime.web import API_CSP, DOCS_CSP

REMOTE = ("203.0.113.7", 40000)  # a documentation address: not loopback
OTHER_REMOTE = ("198.51.100.9", 40000)


class Note(BaseModel):
    text: str


#: A valid token (the routes below declare no roles: administrators only) / none at all.
GOOD = auth_header()
NO_TOKEN = {"Authorization": ""}


def _router(calls: list[str]) -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.post("/notes")
    async def add_note(note: Note) -> dict[str, int]:
        calls.append("add_note")
        return {"length": len(note.text)}

    @router.post("/uploads")
    async def upload(request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        calls.append("upload")
        return {"size": size}

    @router.get("/leads/{lead_id}")
    async def get_lead(lead_id: int, response: Response) -> dict[str, int]:
        response.headers["ETag"] = '"1"'
        return {"lead_id": lead_id}

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret 13812345678")

    return router


def _app(calls: list[str] | None = None, **settings: Any) -> FastAPI:
    return create_http_app(
        title="web",
        version="1",
        settings=ServiceSettings(service_name="webtest", **{**tokens_auth_settings(), **settings}),
        routers=[_router(calls if calls is not None else [])],
    )


def _client(app: FastAPI, client: tuple[str, int] = REMOTE) -> httpx.AsyncClient:
    """A client sending an administrator's token (``NO_TOKEN`` headers drop it)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=client)
    return httpx.AsyncClient(transport=transport, base_url="http://test", headers=GOOD)


def _assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == problem_type(slug)
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    return body


# -- body size -------------------------------------------------------------------------


async def test_a_declared_body_over_the_limit_is_413_before_the_endpoint_runs() -> None:
    calls: list[str] = []
    async with _client(_app(calls, http_max_body_bytes=1000)) as client:
        response = await client.post("/v1/notes", json={"text": "x" * 2000})
        small = await client.post("/v1/notes", json={"text": "x" * 900})
    body = _assert_problem(response, 413, "payload-too-large")
    assert body["max_body_bytes"] == 1000
    assert small.status_code == 200
    assert calls == ["add_note"]  # only the small one reached the endpoint


async def test_a_streamed_body_is_cut_off_when_it_passes_the_limit() -> None:
    pulled: list[int] = []

    async def chunks(count: int) -> AsyncIterator[bytes]:
        for n in range(count):
            pulled.append(n)
            yield b"y" * 300

    calls: list[str] = []
    async with _client(_app(calls, http_max_body_bytes=1000)) as client:
        # no Content-Length: httpx sends an async iterator as a chunked upload
        raw = await client.post("/v1/uploads", content=chunks(50))
        assert "content-length" not in raw.request.headers
        assert len(pulled) == 4  # 4 x 300 > 1000: nothing read after that
        pulled.clear()
        parsed = await client.post(
            "/v1/notes", content=chunks(50), headers={"Content-Type": "application/json"}
        )
        assert len(pulled) == 4
        fits = await client.post("/v1/uploads", content=chunks(3))
    _assert_problem(raw, 413, "payload-too-large")
    # FastAPI's own body parsing fails on the cut body; the answer is still the 413
    _assert_problem(parsed, 413, "payload-too-large")
    assert fits.json() == {"size": 900}
    assert calls == ["upload"]


# -- CORS ------------------------------------------------------------------------------

CONSOLE = "https://console.dealer.example"
PREFLIGHT = {
    "Origin": CONSOLE,
    "Access-Control-Request-Method": "PATCH",
    "Access-Control-Request-Headers": "authorization, idempotency-key, if-match",
}


async def test_cors_is_off_by_default() -> None:
    async with _client(_app()) as client:
        preflight = await client.options("/v1/leads/1", headers=PREFLIGHT)
        simple = await client.get("/v1/leads/1", headers={"Origin": CONSOLE, **GOOD})
    assert "access-control-allow-origin" not in preflight.headers
    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers


async def test_cors_allows_exactly_the_configured_origins() -> None:
    async with _client(_app(http_cors_origins=[CONSOLE])) as client:
        preflight = await client.options("/v1/leads/1", headers=PREFLIGHT)
        stranger = await client.options(
            "/v1/leads/1", headers={**PREFLIGHT, "Origin": "https://evil.example"}
        )
        simple = await client.get("/v1/leads/1", headers={"Origin": CONSOLE, **GOOD})
        unauthorized = await client.get("/v1/leads/1", headers={"Origin": CONSOLE, **NO_TOKEN})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == CONSOLE
    methods = preflight.headers["access-control-allow-methods"].split(", ")
    assert set(methods) == {"GET", "POST", "PUT", "PATCH", "DELETE"}
    allowed = preflight.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "content-type", "idempotency-key", "if-match"):
        assert header in allowed
    assert "access-control-allow-credentials" not in preflight.headers
    assert "access-control-allow-origin" not in stranger.headers
    assert simple.headers["access-control-allow-origin"] == CONSOLE
    exposed = simple.headers["access-control-expose-headers"].lower()
    for header in ("etag", "location", "retry-after"):
        assert header in exposed
    # the console can read error bodies too
    assert unauthorized.status_code == 401
    assert unauthorized.headers["access-control-allow-origin"] == CONSOLE


# -- security headers ------------------------------------------------------------------


def _assert_common_headers(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_api_responses_carry_the_security_headers() -> None:
    async with _client(_app(http_max_body_bytes=10)) as client:
        responses = [
            await client.get("/v1/leads/1", headers=GOOD),
            await client.get("/v1/leads/1", headers=NO_TOKEN),  # 401
            await client.get("/v1/nothing"),  # 404
            await client.post("/v1/notes", json={"text": "too long"}),  # 413
            await client.get("/v1/boom"),  # the generic 500
            await client.get("/healthz"),
            await client.get("/openapi.json"),
        ]
    assert [r.status_code for r in responses] == [200, 401, 404, 413, 500, 200, 200]
    for response in responses:
        _assert_common_headers(response)
        assert response.headers["content-security-policy"] == API_CSP
        assert response.headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in response.headers


async def test_hsts_only_behind_tls() -> None:
    async with _client(_app(http_behind_tls=True)) as client:
        response = await client.get("/healthz")
    assert response.headers["strict-transport-security"].startswith("max-age=")


def _sources(policy: str, directive: str) -> list[str]:
    for part in policy.split(";"):
        name, *values = part.split()
        if name == directive:
            return values
    raise AssertionError(f"{directive} not in {policy}")


def _allowed(url: str, sources: list[str]) -> bool:
    parts = urlsplit(url)
    if not parts.scheme:  # a relative URL: this origin
        return "'self'" in sources
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin in sources or f"{parts.scheme}:" in sources


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_the_docs_pages_get_a_policy_that_admits_what_they_load(path: str) -> None:
    async with _client(_app()) as client:
        response = await client.get(path)
    assert response.status_code == 200
    _assert_common_headers(response)
    policy = response.headers["content-security-policy"]
    assert policy == DOCS_CSP
    html = response.text
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    styles = re.findall(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"', html)
    styles += re.findall(r'<link[^>]*href="([^"]+)"[^>]*rel="stylesheet"', html)
    images = re.findall(r'<link[^>]*rel="shortcut icon"[^>]*href="([^"]+)"', html)
    assert scripts
    for url in scripts:
        assert _allowed(url, _sources(policy, "script-src")), url
    for url in styles:
        assert _allowed(url, _sources(policy, "style-src")), url
    for url in images:
        assert _allowed(url, _sources(policy, "img-src")), url
    if re.search(r"<script>\s*\S", html):  # Swagger UI starts from an inline script
        assert "'unsafe-inline'" in _sources(policy, "script-src")
    assert "'self'" in _sources(policy, "connect-src")  # the page fetches /openapi.json


# -- rate limits -----------------------------------------------------------------------


async def test_probes_are_rate_limited_per_address_and_path() -> None:
    app = _app(http_rate_limit_unauthenticated="3/minute")
    async with _client(app) as client, _client(app, OTHER_REMOTE) as other:
        allowed = [(await client.get("/healthz")).status_code for _ in range(3)]
        refused = await client.get("/healthz")
        ready = await client.get("/metrics")  # another path: its own budget
        elsewhere = await other.get("/healthz")
    assert allowed == [200, 200, 200]
    _assert_problem(refused, 429, "rate-limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    _assert_common_headers(refused)
    assert ready.status_code == 200
    assert elsewhere.status_code == 200


async def test_responses_ending_in_401_are_rate_limited_but_tokens_are_not() -> None:
    async with _client(_app(http_rate_limit_unauthenticated="3/minute")) as client:
        statuses = [
            (await client.get("/v1/leads/1", headers=NO_TOKEN)).status_code for _ in range(3)
        ]
        refused = await client.get("/v1/leads/1", headers={"Authorization": "Bearer bad"})
        with_token = [(await client.get("/v1/leads/1", headers=GOOD)) for _ in range(5)]
    assert statuses == [401, 401, 401]
    body = _assert_problem(refused, 429, "rate-limited")
    assert "www-authenticate" not in refused.headers
    assert "token" not in body["detail"]  # the 401's body is replaced, not appended to
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert [r.status_code for r in with_token] == [200] * 5


async def test_loopback_callers_and_an_empty_setting_are_not_limited() -> None:
    async with _client(_app(http_rate_limit_unauthenticated="2/minute"), ("127.0.0.1", 1)) as c:
        local = [(await c.get("/readyz")).status_code for _ in range(5)]
    async with _client(_app(http_rate_limit_unauthenticated="")) as c:
        unlimited = [(await c.get("/healthz")).status_code for _ in range(5)]
    assert local == [200] * 5
    assert unlimited == [200] * 5


def test_a_malformed_rate_limit_fails_at_start_up() -> None:
    with pytest.raises(ValueError, match="rate limit"):
        ServiceSettings(http_rate_limit_unauthenticated="plenty")


# -- unexpected errors -----------------------------------------------------------------


async def test_an_unexpected_error_is_a_generic_500_and_logged_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="dealerflow.http"):
        async with _client(_app()) as client:
            response = await client.get("/v1/boom", headers={"X-Request-ID": "req-boom"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "Internal Server Error"
    assert body["request_id"] == "req-boom"
    assert "request id" in body["detail"]
    for leaked in ("secret", "13812345678", "5678", "RuntimeError", "Traceback"):
        assert leaked not in response.text
    errors = [r for r in caplog.records if r.exc_info is not None]
    assert len(errors) == 1
    logged = JsonFormatter("webtest").format(errors[0])
    assert "secret *******5678" in logged  # the exception is in the log, masked
    assert "13812345678" not in logged
    assert "req-boom" in logged
