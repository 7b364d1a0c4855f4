"""The six services' apps in process for schemathesis (tests/api/test_openapi_fuzz.py).

Each service runs HTTP only (no relay, consumers or timers: what it publishes stays in
its outbox) in a schema of its own on the real PostgreSQL of the integration tests,
migrated as its tests migrate it, with dealer ``D001`` configured. schemathesis drives
the app over ASGI in its own event-loop thread, which also runs the app's lifespan (so
the pool lives on that loop); the fixture stops the lifespan and drops the schema at
the end of the module.
"""

from __future__ import annotations

import importlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dealerflow.devinfra.config import PG_APP_ROLE
from dealerflow.devinfra.postgres import ensure_app_role
from dealerflow.devinfra.proc import run_coroutine
from dealerflow.devinfra.service_testing import configure_dealer, service_settings
from dealerflow.devinfra.tokens import auth_header
from dealerflow.runtime.auth import STAFF, Role
from dealerflow.runtime.service import build_app, migrate_service

#: The dealer every request acts for (configured in each service's schema).
DEALER = "D001"

#: What each service's requests carry: a manager/GM token of :data:`DEALER`, holding the
#: staff roles and the integration role so every body is reached (not only 401/403).
#: The dealers service's platform operations need an administrator.
STAFF_ROLES = tuple(role.value for role in (*STAFF, Role.INTEGRATION))


@dataclass(frozen=True)
class Service:
    name: str
    package: str
    settings_class: str
    roles: tuple[str, ...] = STAFF_ROLES
    dealers: tuple[str, ...] = (DEALER,)


SERVICES: dict[str, Service] = {
    s.name: s
    for s in (
        Service("leads", "leads", "LeadsSettings"),
        Service("sales", "sales", "SalesSettings"),
        Service("service-center", "service_center", "ServiceCenterSettings"),
        Service("complaints", "complaints", "ComplaintsSettings"),
        Service("notifier", "notifier", "NotifierSettings"),
        Service("dealers", "dealers", "DealersSettings", roles=("admin",), dealers=("*",)),
    )
}


@dataclass
class ServiceUnderTest:
    """A service's app as schemathesis sees it, and the headers its requests carry."""

    service: Service
    app: Any  # the FastAPI app; schemathesis runs its lifespan on first request
    headers: dict[str, str]


async def _prepare(definition: Any, settings: Any, pg_dsn: str) -> None:
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(f'CREATE SCHEMA "{settings.db_schema}"')
    finally:
        await conn.close()
    await ensure_app_role(settings.pg_migration_dsn, settings.pg_app_role)
    await migrate_service(definition, settings)
    if definition.name != "dealers":
        owner = await asyncpg.connect(pg_dsn, server_settings={"search_path": settings.db_schema})
        try:
            await configure_dealer(owner, DEALER)
        finally:
            await owner.close()


async def _drop(pg_dsn: str, schema: str) -> None:
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


class RunningApps:
    """The services started so far in this module, started on first use."""

    def __init__(self, pg_dsn: str, kafka_bootstrap: str) -> None:
        self.pg_dsn = pg_dsn
        self.kafka_bootstrap = kafka_bootstrap
        self.running: dict[str, ServiceUnderTest] = {}
        self.schemas: list[str] = []

    def get(self, name: str) -> ServiceUnderTest:
        """The running service ``name`` (see :data:`SERVICES`)."""
        if name not in self.running:
            self.running[name] = self._start(SERVICES[name])
        return self.running[name]

    def _start(self, service: Service) -> ServiceUnderTest:
        app_module = importlib.import_module(f"dealerflow.{service.package}.app")
        settings_module = importlib.import_module(f"dealerflow.{service.package}.settings")
        definition = app_module.DEFINITION
        schema_name = f"t_api_{uuid.uuid4().hex[:10]}"
        settings = service_settings(
            getattr(settings_module, service.settings_class),
            pg_dsn=self.pg_dsn,
            pg_schema=schema_name,
            kafka_bootstrap=self.kafka_bootstrap,
            topic_prefix=f"t{uuid.uuid4().hex[:8]}.dealerflow.",
            # every request comes from one address: token-less cases must reach the 401
            http_rate_limit_unauthenticated="1000000/minute",
        )
        assert settings.pg_app_role == PG_APP_ROLE
        self.schemas.append(schema_name)
        run_coroutine(lambda: _prepare(definition, settings, self.pg_dsn))
        headers = auth_header(
            roles=service.roles, dealers=service.dealers, sub=f"fuzz-{service.name}"
        )
        return ServiceUnderTest(
            service, build_app(definition, settings, run_background=False), headers
        )

    def stop(self) -> None:
        try:
            shutdown_lifespans()  # the apps' lifespans, started by schemathesis's client
        finally:
            for schema_name in self.schemas:
                run_coroutine(lambda name=schema_name: _drop(self.pg_dsn, name))


#: What every answer must pass (checks that send more requests are left out).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "openapi"


def _schema(name: str) -> Any:
    # The committed documents (the services' drift tests keep them equal to the apps').
    document = json.loads((DOCS / f"{name}.json").read_text(encoding="utf-8"))
    return schemathesis.openapi.from_dict(document)


SCHEMAS = {name.replace("-", "_"): _schema(name) for name in SERVICES}


def for_dealer(case: Any) -> None:
    """Requests name the token's dealer, so they reach the use cases (not only 403)."""
    if isinstance(case.body, dict) and "dealer_id" in case.body:
        case.body["dealer_id"] = DEALER
    if isinstance(case.query, dict) and "dealer_id" in case.query:
        case.query["dealer_id"] = DEALER
    if isinstance(case.path_parameters, dict) and "dealer_id" in case.path_parameters:
        case.path_parameters["dealer_id"] = DEALER
