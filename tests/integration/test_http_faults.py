"""Every service's API meets faults with a 4xx or a 503, never a 500.

Each service's HTTP app runs with its pool pointed at a closed port (the shared
PostgreSQL keeps running for everybody else):

- every ``GET /v1`` route without path parameters answers 503 ``dependency-unavailable``
  with ``Retry-After`` (or a 4xx it decides before touching the database);
- every ``POST``/``PUT``/``PATCH`` ``/v1`` route refuses a JSON body holding U+0000 with
  422 naming the field, and one nested 5,000 deep with 400 ``nesting-too-deep``, before
  anything reaches the database (which would answer 503).

And ``/readyz`` means the same everywhere: every service checks PostgreSQL, Kafka (its
outbox relay publishes there, even where it consumes nothing), its outbox relay and
its timer poller (dealerflow.runtime.readiness); a real running service (sales) is
ready, and not ready once its relay stops.
"""

from __future__ import annotations

import asyncio
import importlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from dealerflow.devinfra.service_testing import running_service, service_settings
from dealerflow.devinfra.tokens import auth_header
from dealerflow.runtime.outages import RETRY_AFTER_S
from dealerflow.runtime.problems import problem_type
from dealerflow.runtime.service import ServiceDefinition, build_app

pytestmark = pytest.mark.integration

SERVICES = ["leads", "sales", "service_center", "complaints", "notifier", "dealers"]
CLOSED_PORT_DSN = "postgresql://postgres@127.0.0.1:1/dealerflow"


def _app(package: str, kafka_bootstrap: str, *, run_background: bool = False) -> FastAPI:
    definition = _definition(package)
    settings = service_settings(
        definition.settings_factory,
        pg_dsn=CLOSED_PORT_DSN,
        pg_schema="outage",
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix="outage.",
    )
    return build_app(definition, settings, run_background=run_background)


def _routes(app: FastAPI, methods: set[str]) -> list[tuple[str, str]]:
    return sorted(
        (method, context.path)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute) and context.path.startswith("/v1")
        for method in methods & set(context.methods or ())
    )


def _definition(package: str) -> ServiceDefinition[Any]:
    definition: ServiceDefinition[Any] = importlib.import_module(
        f"dealerflow.{package}.app"
    ).DEFINITION
    return definition


@asynccontextmanager
async def _against_a_dead_database(
    package: str, kafka_bootstrap: str
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The service's app with its pool at a closed port (the lifespan is not run:
    nothing else connects) and an administrator's client to it."""
    app = _app(package, kafka_bootstrap)
    dead = await asyncpg.create_pool(CLOSED_PORT_DSN, min_size=0, max_size=2, timeout=2)
    app.state.ctx.pool = dead
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=auth_header()
        ) as client:
            yield app, client
    finally:
        await dead.close()


@pytest.mark.parametrize("package", SERVICES)
async def test_every_list_route_is_503_while_the_database_is_down(
    package: str, kafka_bootstrap: str
) -> None:
    statuses: dict[str, int] = {}
    async with _against_a_dead_database(package, kafka_bootstrap) as (app, client):
        paths = [path for _, path in _routes(app, {"GET"}) if "{" not in path]
        assert paths, f"{package} has no GET /v1 list route to try"
        for path in paths:
            response = await client.get(path, params={"dealer_id": "D1"})
            statuses[path] = response.status_code
            if response.status_code == 503:
                assert response.headers["retry-after"] == str(RETRY_AFTER_S)
                body = response.json()
                assert body["type"] == problem_type("dependency-unavailable"), body
                assert body["dependency"] == "postgres"
    assert not {p: s for p, s in statuses.items() if s >= 500 and s != 503}, statuses
    assert any(s == 503 for s in statuses.values()), statuses


@pytest.mark.parametrize("package", SERVICES)
async def test_every_write_route_refuses_nul_and_deep_json_before_the_database(
    package: str, kafka_bootstrap: str
) -> None:
    nul = b'{"dealer_id": "D1", "note": "a\\u0000b"}'
    deep = b'{"dealer_id": "D1", "note": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    json_type = {"Content-Type": "application/json"}
    answers: dict[tuple[str, str], tuple[int, int]] = {}
    async with _against_a_dead_database(package, kafka_bootstrap) as (app, client):
        routes = _routes(app, {"POST", "PUT", "PATCH"})
        assert routes, f"{package} has no write route"
        for method, path in routes:
            url = re.sub(r"\{[^}]+\}", "X1", path)
            refused = await client.request(method, url, content=nul, headers=json_type)
            too_deep = await client.request(method, url, content=deep, headers=json_type)
            answers[(method, path)] = (refused.status_code, too_deep.status_code)
            if refused.status_code == 422:
                error = refused.json()["errors"][0]
                assert (error["loc"], error["type"]) == (
                    ["body", "note"],
                    "unstorable_character",
                ), error
            if too_deep.status_code == 400:
                assert too_deep.json()["type"] == problem_type("nesting-too-deep")
    wrong = {route: got for route, got in answers.items() if got != (422, 400)}
    assert not wrong, wrong


@pytest.mark.parametrize("package", SERVICES)
def test_readiness_checks_the_same_in_every_service(package: str, kafka_bootstrap: str) -> None:
    running = _app(package, kafka_bootstrap, run_background=True)
    http_only = _app(package, kafka_bootstrap)
    assert [c.name for c in running.state.readiness] == [
        "postgres",
        "kafka",
        "outbox-relay",
        "timer-poller",
    ]
    assert [c.name for c in http_only.state.readiness] == ["postgres"]


async def test_a_running_service_is_ready_until_its_relay_stops(
    kafka_bootstrap: str, pg_dsn: str, pg_schema: str, topic_prefix: str
) -> None:
    definition = _definition("sales")
    settings = service_settings(
        definition.settings_factory,
        pg_dsn=pg_dsn,
        pg_schema=pg_schema,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
    )
    async with running_service(definition, settings) as sales:
        ready = await sales.client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {
            "postgres": "ok",
            "kafka": "ok",
            "outbox-relay": "ok",
            "timer-poller": "ok",
        }
        relay = next(t for t in asyncio.all_tasks() if t.get_name() == "outbox-relay")
        relay.cancel()
        await asyncio.gather(relay, return_exceptions=True)
        stopped = await sales.client.get("/readyz")
    assert stopped.status_code == 503, stopped.text
    assert stopped.headers["retry-after"] == str(RETRY_AFTER_S)
    problem = stopped.json()
    assert problem["type"] == problem_type("not-ready")
    assert problem["checks"]["outbox-relay"] == "RuntimeError: stopped"
    assert problem["checks"]["postgres"] == "ok"
