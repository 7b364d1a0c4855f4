"""create_http_app: probes, metrics, problem details, request ids, tracing."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import APIRouter, HTTPException
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import CollectorRegistry, Counter
from pydantic import BaseModel, Field

from dealerflow.devinfra.tokens import auth_header, tokens_auth_settings
from dealerflow.runtime.http import (
    ReadinessCheck,
    create_http_app,
    kafka_check,
    postgres_check,
)
from dealerflow.runtime.problems import Problem, problem_type
from dealerflow.runtime.settings import ServiceSettings
from dealerflow.runtime.telemetry import setup_tracing

pytestmark = pytest.mark.integration


class NewLead(BaseModel):
    name: str = Field(min_length=1)
    phone: str = Field(pattern=r"^\+\d{8,15}$")
    budget: int = Field(ge=0)


def _router() -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.get("/leads/{lead_id}")
    async def get_lead(lead_id: int) -> dict[str, int]:
        if lead_id == 404:
            raise Problem(
                404,
                "Lead not found",
                "No lead with id 404",
                type=problem_type("lead-not-found"),
                extensions={"lead_id": lead_id},
            )
        if lead_id == 403:
            raise HTTPException(status_code=403, detail="not your dealer")
        if lead_id == 500:
            raise RuntimeError("password=hunter2 host=db.internal")
        logging.getLogger("test.leads").info("lead %s served", lead_id)
        return {"lead_id": lead_id}

    @router.post("/leads", status_code=201)
    async def create_lead(lead: NewLead) -> dict[str, str]:
        return {"name": lead.name}

    return router


def _settings() -> ServiceSettings:
    return ServiceSettings(service_name="httptest", **tokens_auth_settings())


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def client(
    pg_pool: asyncpg.Pool, kafka_bootstrap: str, spans: InMemorySpanExporter
) -> AsyncIterator[httpx.AsyncClient]:
    registry = CollectorRegistry()
    Counter("leads_created", "test counter", registry=registry).inc(3)
    app = create_http_app(
        title="test",
        version="1.2.3",
        settings=_settings(),
        readiness=[postgres_check(pg_pool), kafka_check(kafka_bootstrap)],
        routers=[_router()],
        tracer_provider=setup_tracing("httptest", exporter=spans, set_global=False),
        registry=registry,
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=auth_header()
    ) as c:
        yield c


async def test_healthz_is_alive(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "alive", "service": "httptest"}


async def test_readyz_ok_with_real_postgres_and_kafka(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "checks": {"postgres": "ok", "kafka": "ok"}}


async def test_readyz_503_when_postgres_unreachable(kafka_bootstrap: str) -> None:
    # min_size=0: creating the pool does not connect, acquiring does (and fails).
    dead_pool = await asyncpg.create_pool(
        "postgresql://postgres@127.0.0.1:1/postgres", min_size=0, max_size=1, timeout=2
    )
    try:
        app = create_http_app(
            title="t",
            version="1",
            settings=_settings(),
            readiness=[postgres_check(dead_pool, timeout_s=2), kafka_check(kafka_bootstrap)],
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=auth_header()
        ) as c:
            response = await c.get("/readyz")
    finally:
        await dead_pool.close()
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == problem_type("not-ready")
    assert body["status"] == 503
    assert "postgres" in body["detail"]
    assert body["checks"]["kafka"] == "ok"
    assert body["checks"]["postgres"] != "ok"


async def test_readyz_reports_a_hanging_check_as_timed_out() -> None:
    import asyncio

    async def hangs() -> None:
        await asyncio.sleep(10)

    app = create_http_app(
        title="t",
        version="1",
        settings=_settings(),
        readiness=[ReadinessCheck("slow", hangs, timeout_s=0.2)],
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=auth_header()
    ) as c:
        response = await c.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["slow"].startswith("timed out")


async def test_metrics_serves_the_registry(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "leads_created_total 3.0" in response.text


async def test_problem_is_rendered_as_rfc9457(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/leads/404")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == problem_type("lead-not-found")
    assert body["title"] == "Lead not found"
    assert body["detail"] == "No lead with id 404"
    assert body["instance"] == "/v1/leads/404"
    assert body["lead_id"] == 404
    assert body["request_id"] == response.headers["x-request-id"]


async def test_http_exception_becomes_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/leads/403")
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body == {
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
        "detail": "not your dealer",
        "instance": "/v1/leads/403",
        "request_id": response.headers["x-request-id"],
    }


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["title"] == "Not Found"


async def test_validation_error_lists_fields_without_echoing_input(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/v1/leads", json={"name": "", "phone": "13812345678x", "budget": -1}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == problem_type("validation-error")
    locations = sorted(tuple(e["loc"]) for e in body["errors"])
    assert locations == [("body", "budget"), ("body", "name"), ("body", "phone")]
    assert all(e["msg"] and e["type"] for e in body["errors"])
    assert "13812345678" not in response.text


async def test_path_parameter_validation_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/leads/abc")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["path", "lead_id"]


async def test_unhandled_error_is_a_generic_500(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="dealerflow.http"):
        response = await client.get("/v1/leads/500", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "req-500"
    body = response.json()
    assert body["title"] == "Internal Server Error"
    assert body["request_id"] == "req-500"
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    # ...but the log has the details, tagged with the request id.
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors
    assert errors[0].exc_info is not None
    assert errors[0].request_id == "req-500"  # type: ignore[attr-defined]


async def test_request_id_is_accepted_or_generated(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        given = await client.get("/v1/leads/7", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    served = [r for r in caplog.records if r.name == "test.leads"]
    assert [r.request_id for r in served] == ["abc-123"]  # type: ignore[attr-defined]

    access = [r for r in caplog.records if r.name == "dealerflow.http"]
    assert [r.getMessage() for r in access] == ["GET /v1/leads/7 200"]
    assert access[0].status == 200  # type: ignore[attr-defined]
    caplog.clear()
    with caplog.at_level(logging.INFO):
        await client.get("/healthz")
    assert not [r for r in caplog.records if r.name == "dealerflow.http"]  # probes: DEBUG

    generated = await client.get("/v1/leads/7")
    assert len(generated.headers["x-request-id"]) == 32

    forged = await client.get("/v1/leads/7", headers={"X-Request-ID": "x\nlevel=ERROR"})
    assert forged.headers["x-request-id"] != "x\nlevel=ERROR"
    assert len(forged.headers["x-request-id"]) == 32


async def test_requests_are_traced_and_continue_incoming_trace(
    client: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = await client.get(
        "/v1/leads/9",
        headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01", "X-Request-ID": "r9"},
    )
    assert response.status_code == 200
    server = [s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert len(server) == 1
    assert format(server[0].context.trace_id, "032x") == trace_id
    assert server[0].attributes is not None
    assert server[0].attributes["http.request.header.x_request_id"] == "r9"
    assert server[0].resource.attributes["service.name"] == "httptest"

    spans.clear()
    await client.get("/healthz")
    assert not spans.get_finished_spans()  # probes are not traced
