"""Every service's API meets a database outage with 503 + Retry-After, never a 500.

Each service's HTTP app runs with its pool pointed at a closed port (the shared
PostgreSQL keeps running for everybody else), and every ``GET /v1`` route without path
parameters is called: each answers 503 ``dependency-unavailable`` (or a 4xx it decides
before touching the database), none a 500.
"""

from __future__ import annotations

import importlib
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from dealerflow.devinfra.service_testing import service_settings
from dealerflow.devinfra.tokens import auth_header
from dealerflow.runtime.outages import RETRY_AFTER_S
from dealerflow.runtime.problems import problem_type
from dealerflow.runtime.service import ServiceDefinition, build_app

pytestmark = pytest.mark.integration

SERVICES = ["leads", "sales", "service_center", "complaints", "notifier", "dealers"]
CLOSED_PORT_DSN = "postgresql://postgres@127.0.0.1:1/dealerflow"


def _definition(package: str) -> ServiceDefinition[Any]:
    definition: ServiceDefinition[Any] = importlib.import_module(
        f"dealerflow.{package}.app"
    ).DEFINITION
    return definition


@pytest.mark.parametrize("package", SERVICES)
async def test_every_list_route_is_503_while_the_database_is_down(
    package: str, kafka_bootstrap: str
) -> None:
    definition = _definition(package)
    settings = service_settings(
        definition.settings_factory,
        pg_dsn=CLOSED_PORT_DSN,
        pg_schema="outage",
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix="outage.",
    )
    app = build_app(definition, settings, run_background=False)
    dead = await asyncpg.create_pool(CLOSED_PORT_DSN, min_size=0, max_size=2, timeout=2)
    app.state.ctx.pool = dead  # the lifespan is not run: nothing else connects
    paths = sorted(
        context.path
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        and "GET" in (context.methods or ())
        and (context.path or "").startswith("/v1")
        and "{" not in (context.path or "{")
    )
    assert paths, f"{package} has no GET /v1 list route to try"
    statuses: dict[str, int] = {}
    try:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=auth_header()
        ) as client:
            for path in paths:
                response = await client.get(path, params={"dealer_id": "D1"})
                statuses[path] = response.status_code
                if response.status_code == 503:
                    assert response.headers["retry-after"] == str(RETRY_AFTER_S)
                    body = response.json()
                    assert body["type"] == problem_type("dependency-unavailable"), body
                    assert body["dependency"] == "postgres"
    finally:
        await dead.close()
    assert not {p: s for p, s in statuses.items() if s >= 500 and s != 503}, statuses
    assert any(s == 503 for s in statuses.values()), statuses
