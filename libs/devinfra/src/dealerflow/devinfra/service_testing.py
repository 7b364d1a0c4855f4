"""Helpers for a service's integration tests, shared by the services' conftests.

A service under test runs in the test's own schema with its own topic prefix (so its own
consumer groups) from the fixtures of :mod:`dealerflow.devinfra.pytest_plugin`::

    @pytest.fixture
    def settings(pg_dsn, pg_schema, kafka_bootstrap, topic_prefix) -> SalesSettings:
        return service_settings(SalesSettings, pg_dsn=pg_dsn, pg_schema=pg_schema,
                                kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix)

    @pytest.fixture
    async def sales(settings) -> AsyncIterator[RunningService]:
        async with running_service(DEFINITION, settings, clock=ManualClock(START)) as svc:
            yield svc          # svc.client talks HTTP to it; consumers, relay, timers run

Then: :func:`eventually` polls for an effect (bounded, failing with what it waited for),
:class:`TopicReader` / :func:`read_topic` read what the service published,
:func:`produce_event` publishes as an outside producer would, :class:`Outbox` reads what
an HTTP-only instance left in its outbox, :func:`configure_dealer` gives a dealer its
own configuration (as if the dealers service had published it), and
:func:`assert_openapi_committed` checks the committed OpenAPI document, and
:func:`refused_field` reads the one field a 422 ``validation-error`` refused.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer, ConsumerRecord
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from dealerflow.contracts.envelope import Envelope, decode, encode_binary, encode_structured
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.devinfra.client import TopicReader
from dealerflow.devinfra.client import eventually as client_eventually
from dealerflow.devinfra.config import PG_APP_ROLE, app_dsn
from dealerflow.devinfra.postgres import ensure_app_role
from dealerflow.devinfra.tokens import auth_header, tokens_auth_settings
from dealerflow.policy import DealerSettings, settings_with_overrides
from dealerflow.runtime.clock import Clock
from dealerflow.runtime.db import ALL_DEALERS, DEALER_SCOPE_SETTING, DbConnection, create_pool
from dealerflow.runtime.dealers import StoredConfiguration, upsert_configuration
from dealerflow.runtime.kafka_admin import create_catalogue_topics
from dealerflow.runtime.kafka_security import environment_client_options, kafka_client_options
from dealerflow.runtime.migrations import migrate
from dealerflow.runtime.outbox import decode_headers
from dealerflow.runtime.service import (
    ServiceContext,
    ServiceDefinition,
    build_app,
    migrate_service,
    openapi_document,
)
from dealerflow.runtime.settings import ServiceSettings

__all__ = [
    "Outbox",
    "RunningService",
    "TopicReader",
    "assert_openapi_committed",
    "configure_dealer",
    "consumed_event",
    "eventually",
    "kafka_producer",
    "migrate_before",
    "produce_event",
    "read_topic",
    "refused_field",
    "running_service",
    "service_settings",
]

S = TypeVar("S", bound=ServiceSettings)
# aiokafka is untyped: a ConsumerRecord (topic, partition, offset, key, value, headers).
Record = Any

#: Fast polling and plain-text logs: tests wait on the relay, timers and consumers.
#: Events of dealers no test configured get the defaults (the test profile's setting).
TEST_DEFAULTS: dict[str, Any] = {
    "log_json": False,
    "relay_poll_interval_s": 0.1,
    "timer_poll_interval_s": 0.1,
    "consumer_batch_timeout_ms": 50,
    "unknown_dealers": "defaults",
    # configure_dealer writes the row behind a running service's back: every use case
    # reads the version, as the docstring promises (the runtime's own tests cover the cache)
    "dealer_configuration_cache_s": 0.0,
}


def service_settings(
    factory: Callable[..., S],
    *,
    pg_dsn: str,
    pg_schema: str,
    kafka_bootstrap: str,
    topic_prefix: str,
    **overrides: Any,
) -> S:
    """The service's settings on the test's infrastructure (schema, topic prefix) with
    :data:`TEST_DEFAULTS`; ``overrides`` win.

    ``pg_dsn`` is the owner's (the ``pg_dsn`` fixture): migrations run with it, the
    service itself runs as the application role (:data:`PG_APP_ROLE`, granted the schema
    by the migrations), so row-level security applies to everything it does."""
    values: dict[str, Any] = {
        **TEST_DEFAULTS,
        **tokens_auth_settings(),
        "pg_dsn": app_dsn(pg_dsn),
        "pg_migration_dsn": pg_dsn,
        "pg_app_role": PG_APP_ROLE,
        "db_schema": pg_schema,
        "kafka_bootstrap": kafka_bootstrap,
        "topic_prefix": topic_prefix,
        **overrides,
    }
    return factory(**values)


@dataclass
class RunningService:
    """A service app running with its lifespan, and an HTTP client to it.

    ``pool`` is the test's own view of the service's schema: the owner, acting for every
    dealer (as an operator would), so a test reads and writes whatever it needs; the
    service runs with its own pool (``ctx.db``, the application role)."""

    app: FastAPI
    client: httpx.AsyncClient

    @property
    def ctx(self) -> ServiceContext[Any]:
        """The running service's context (clock, topics, pool, publish)."""
        ctx: ServiceContext[Any] = self.app.state.ctx
        return ctx

    @property
    def settings(self) -> ServiceSettings:
        """The settings the service runs with."""
        settings: ServiceSettings = self.ctx.settings
        return settings

    @property
    def pool(self) -> asyncpg.Pool:
        """The test's pool of the service's schema: the owner acting for every dealer
        (``running_service`` opens it; the service's own pool is ``ctx.db``)."""
        pool: asyncpg.Pool | None = getattr(self.app.state, "owner_pool", None)
        return pool if pool is not None else self.ctx.db

    @property
    def topics(self) -> TopicRegistry:
        """Topic names under the test's prefix."""
        return self.ctx.topics


@asynccontextmanager
async def running_service(
    definition: ServiceDefinition[Any],
    settings: ServiceSettings,
    *,
    clock: Clock | None = None,
    run_background: bool = True,
    tracer_provider: TracerProvider | None = None,
    base_url: str = "http://t",
) -> AsyncIterator[RunningService]:
    """Migrate the schema, create the topics (when consumers and relay run), start the app
    with its lifespan and yield it with an httpx client over ASGI; stop it on exit.

    ``run_background=False`` runs HTTP only: what the service publishes stays in its outbox.
    The client sends an admin token for every dealer (:mod:`dealerflow.devinfra.tokens`;
    pass ``headers=auth_header(roles=..., dealers=...)`` to a request to act as someone else).
    With ``settings.pg_app_role`` set, the role is created first if the server lacks it.
    """
    # A test service trusts this process's issuer, whose tokens its client sends (not the
    # test profile's that `make test` exports for the e2e stack).
    settings = settings.model_copy(update=tokens_auth_settings())
    if settings.pg_app_role:
        await ensure_app_role(settings.pg_migration_dsn, settings.pg_app_role)
    await migrate_service(definition, settings)
    if run_background:
        await create_catalogue_topics(
            settings.kafka_bootstrap,
            settings.topic_prefix,
            partitions=3,
            client_options=kafka_client_options(settings),
        )
    app = build_app(
        definition,
        settings,
        clock=clock,
        tracer_provider=tracer_provider,
        run_background=run_background,
    )
    app.state.owner_pool = owner_pool = await create_pool(
        settings.pg_migration_dsn,
        settings.db_schema,
        min_size=0,
        max_size=4,
        server_settings={DEALER_SCOPE_SETTING: ALL_DEALERS},
    )
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url=base_url, headers=auth_header()
            ) as client,
        ):
            yield RunningService(app, client)
    finally:
        await owner_pool.close()


async def migrate_before(
    definition: ServiceDefinition[Any], pg_dsn: str, pg_schema: str, version: int
) -> None:
    """Apply the runtime's migrations and the service's older than ``version``: the state a
    data migration starts from (then write old rows, then migrate the rest)."""
    migrations = definition.migrations()
    own = definition.name  # the component of the service's own migrations
    await migrate(
        pg_dsn, pg_schema, [m for m in migrations if m.component != own or m.version < version]
    )


async def eventually(
    probe: Callable[[], Awaitable[Any]],
    what: str = "condition",
    within_s: float = 30.0,
    *,
    interval_s: float = 0.1,
) -> Any:
    """Poll ``probe`` until it returns something truthy and return that; fail with
    ``what`` after ``within_s`` seconds (the positional form of
    :func:`dealerflow.devinfra.client.eventually` that service tests use)."""
    return await client_eventually(probe, timeout_s=within_s, interval_s=interval_s, what=what)


@asynccontextmanager
async def kafka_producer(
    bootstrap: str, *, client_options: Mapping[str, Any] | None = None
) -> AsyncIterator[AIOKafkaProducer]:
    """A started producer (acks=all) standing in for an outside system; SASL/TLS from
    ``client_options`` (default: the ``DEALERFLOW_KAFKA_*`` environment's)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        **(environment_client_options() if client_options is None else client_options),
    )
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def produce_event(
    producer: AIOKafkaProducer,
    topics: TopicRegistry,
    event: DomainEvent,
    *,
    structured: bool = False,
    event_id: str | None = None,
    source: str = "/tests/outside-producer",
) -> None:
    """Publish ``event`` to its topic as a CloudEvent (binary mode unless ``structured``),
    as any authorised producer may."""
    encode = encode_structured if structured else encode_binary
    record = encode(event, source=source, event_id=event_id)
    await producer.send_and_wait(
        topics.for_event(event), record.value, key=record.key, headers=list(record.headers)
    )


def consumed_event(
    topics: TopicRegistry,
    event: DomainEvent,
    *,
    offset: int,
    event_id: str | None = None,
    partition: int = 0,
    source: str = "/tests/outside-producer",
) -> Record:
    """``event`` as a consumer reads it from its topic (a binary-mode CloudEvent in an
    aiokafka ``ConsumerRecord`` at ``partition``/``offset``), for feeding
    ``EventConsumer.process_batch`` without Kafka."""
    record = encode_binary(event, source=source, event_id=event_id)
    return ConsumerRecord(
        topic=topics.for_event(event),
        partition=partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=record.key,
        value=record.value,
        checksum=None,
        serialized_key_size=len(record.key or b""),
        serialized_value_size=len(record.value),
        headers=list(record.headers),
    )


async def read_topic(bootstrap: str, topic: str, *, timeout_s: float = 2.0) -> list[Record]:
    """Every record on ``topic`` right now (all partitions, from the beginning, up to the
    end offsets at the time of the call), in partition order."""
    async with TopicReader(bootstrap, topic) as reader:
        return await reader.to_end(timeout_s=timeout_s)


class Outbox:
    """What a service enqueued for Kafka (read from its outbox table: with the relay off,
    nothing leaves it)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def records(self) -> list[tuple[bytes | None, Envelope[DomainEvent]]]:
        """(Kafka key, decoded event) of every outbox row, in publication order."""
        rows = await self.pool.fetch(
            "SELECT key, value, headers::text AS headers FROM outbox ORDER BY id"
        )
        return [(r["key"], decode(r["value"], decode_headers(r["headers"]))) for r in rows]

    async def events(self) -> list[DomainEvent]:
        """The enqueued events, in publication order."""
        return [env.event for _, env in await self.records()]

    async def types(self) -> list[str]:
        """The ``type`` of each enqueued event, in publication order."""
        return [event.type for event in await self.events()]


async def configure_dealer(
    conn: DbConnection | asyncpg.Pool,
    dealer_id: str,
    overrides: Mapping[str, Any] | None = None,
    version: int = 1,
) -> DealerSettings:
    """Give ``dealer_id`` its own configuration in a service's schema, as if the dealers
    service had published ``DealerConfigured`` and the service had materialised it.

    ``conn`` is the service's pool (``svc.pool``) or a connection in its schema;
    ``overrides`` is a partial `DealerSettings` (``{"policy": {"leads": {...}}, "people":
    {"staff": [...]}}``) over the DOMAIN.md defaults. The service's own
    ``policy_overrides`` do not apply to the dealer (as in production: a configured
    dealer's configuration is complete); other dealers keep the environment defaults.
    Works with the service running: its next use case for the dealer reads the new row.
    To change the dealer again, pass a higher ``version`` (the row keeps the newest
    version, like the consumer); an older or equal one fails the test. Returns the
    settings the service will see.
    """
    settings = settings_with_overrides(overrides)
    stored = StoredConfiguration(
        dealer_id=dealer_id,
        group_id=settings.profile.group_id,
        configuration_version=version,
        configuration=settings.model_dump(mode="json"),
        configured_at=datetime.now(UTC),
    )
    if isinstance(conn, asyncpg.Pool):
        async with conn.acquire() as acquired:
            written = await upsert_configuration(acquired, stored)
    else:
        written = await upsert_configuration(conn, stored)
    if not written:
        raise AssertionError(
            f"dealer {dealer_id} already has configuration version {version} or newer; "
            "pass a higher version to change it"
        )
    return settings


def assert_openapi_committed(definition: ServiceDefinition[Any], committed: Path) -> None:
    """Fail unless ``committed`` is exactly what ``dealerflow-<svc> openapi`` prints now
    (the message says how to regenerate it)."""
    regenerate = f"uv run dealerflow-{definition.name} openapi > docs/openapi/{committed.name}"
    assert committed.exists(), f"missing {committed}; run: {regenerate}"
    generated = json.dumps(openapi_document(definition), indent=2, sort_keys=True) + "\n"
    current = committed.read_text(encoding="utf-8")
    assert current == generated, f"{committed.name} is stale; run: {regenerate}"


def refused_field(response: httpx.Response) -> tuple[list[str], str]:
    """``(loc, type)`` of the one field error of a 422 ``validation-error`` problem
    (fails unless the response is one, with a reason, and names exactly one field)."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/validation-error"), problem
    [error] = problem["errors"]
    assert error["msg"], error  # the reason
    return error["loc"], error["type"]
