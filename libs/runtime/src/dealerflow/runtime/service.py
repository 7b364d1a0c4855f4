"""One process per service: wiring of pool, broker, consumers, relay, timers and HTTP.

A service declares *what* it has in a :class:`ServiceDefinition` (routers, subscriptions,
timer handlers, migrations); this module decides *how* they run together:

- every service also consumes the dealers topic: ``DealerConfigured`` events are
  materialised in its schema (:mod:`dealerflow.runtime.dealers`), and its use cases read
  dealer configuration from there (``ServiceDefinition.all_subscriptions`` and the
  default ``dealer_configuration``).

- ``dealerflow-<svc> migrate`` applies the runtime's and the service's migrations to the
  service's schema (under an advisory lock, see :mod:`dealerflow.runtime.migrations`).
- ``dealerflow-<svc> serve`` runs uvicorn with the FastAPI app; the app's lifespan opens
  the pool, runs the service's ``on_start`` (if any), starts the FastStream broker (the
  consumers), the outbox relay and the timer poller, and on shutdown stops them in the
  reverse order so in-flight work drains: HTTP first (uvicorn), then the consumers (their
  last batch commits and acks), then the timer poller, then the relay (it publishes what
  those committed), then the pool.
- ``dealerflow-<svc> openapi`` prints the service's OpenAPI document (docs are generated
  from it and checked for drift).

Nothing connects at import time or when the app object is built.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import json
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

import asyncpg
import uvicorn
from fastapi import APIRouter, FastAPI, Request
from opentelemetry.sdk.trace import TracerProvider

from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.runtime import dealers
from dealerflow.runtime.auth import current_principal
from dealerflow.runtime.broker import BatchProcessor, attach_consumer, create_broker
from dealerflow.runtime.clock import Clock
from dealerflow.runtime.consumer import EventConsumer, EventRouter
from dealerflow.runtime.context import (
    DealerConfiguration,
    EnvironmentDealerConfiguration,
    UseCaseContext,
    run_in_transaction,
)
from dealerflow.runtime.db import ALL_DEALERS, DbConnection, act_for, create_pool, transaction
from dealerflow.runtime.erasure import Eraser, erasure_router
from dealerflow.runtime.http import create_http_app
from dealerflow.runtime.kafka_security import kafka_client_options
from dealerflow.runtime.logging import configure_logging
from dealerflow.runtime.migrations import Migration, load_migrations, migrate, runtime_migrations
from dealerflow.runtime.outbox import OutboxMessage, enqueue
from dealerflow.runtime.problems import ProblemMap
from dealerflow.runtime.publisher import event_source, outbox_message_for, publish_event
from dealerflow.runtime.purge import Purger, RetentionPolicy
from dealerflow.runtime.readiness import service_readiness
from dealerflow.runtime.relay import OutboxRelay
from dealerflow.runtime.settings import ServiceSettings
from dealerflow.runtime.telemetry import setup_tracing
from dealerflow.runtime.timers import BatchTimerHandler, Timer, TimerHandler, TimerPoller

__all__ = [
    "DEALERS_SUBSCRIPTION",
    "ServiceBatchTimerHandler",
    "ServiceContext",
    "ServiceDefinition",
    "ServiceTimerHandler",
    "Subscription",
    "build_app",
    "migrate_service",
    "run_cli",
    "service_context",
    "timer_batch_handlers_of",
    "timer_handlers_of",
]

log = logging.getLogger("dealerflow.service")

S = TypeVar("S", bound=ServiceSettings)
T = TypeVar("T")


@dataclass
class ServiceContext(Generic[S]):
    """What routers, consumers and timer handlers of one running service share; builds
    the :class:`~dealerflow.runtime.context.UseCaseContext` of every entry point."""

    settings: S
    clock: Clock
    topics: TopicRegistry
    source: str
    dealers: DealerConfiguration
    tracer_provider: TracerProvider | None = None
    pool: asyncpg.Pool | None = None

    @property
    def db(self) -> asyncpg.Pool:
        """The connection pool (available once the service has started)."""
        if self.pool is None:
            raise RuntimeError("the service has not started: no database pool yet")
        return self.pool

    def use_case(
        self, conn: DbConnection, *, outbox: list[OutboxMessage] | None = None
    ) -> UseCaseContext[S]:
        """The use-case context of a transaction this service started itself (an HTTP
        request, a timer): events it publishes start a new chain. In an HTTP request the
        acting staff id is the bearer token's subject (``uc.actor``, the events' ``actor``
        extension). With ``outbox`` the events are appended to it instead of written one
        statement each; the caller enqueues them (a batch timer handler: one insert)."""
        principal = current_principal()
        actor = principal.subject if principal is not None else None

        async def publish(event: DomainEvent) -> str:
            if outbox is None:
                return await publish_event(
                    conn, event, source=self.source, topics=self.topics, actor=actor
                )
            ce_id, message = outbox_message_for(
                event, source=self.source, topics=self.topics, actor=actor
            )
            outbox.append(message)
            return ce_id

        return UseCaseContext(
            conn=conn,
            clock=self.clock,
            settings=self.settings,
            dealers=self.dealers,
            publisher=publish,
            actor=actor,
        )

    async def dealer_group_of(self, dealer_id: str) -> str | None:
        """The dealer group of ``dealer_id`` (its configuration's profile.group_id)."""
        if isinstance(self.dealers, dealers.MaterialisedDealerConfiguration):
            fresh = self.dealers.fresh(dealer_id)
            if fresh is not None:  # no connection, no transaction
                return fresh.profile.group_id
        async with transaction(self.db, dealers=ALL_DEALERS) as conn:
            return (await self.dealers.settings(conn, dealer_id)).profile.group_id

    async def run_in_transaction(
        self,
        work: Callable[[UseCaseContext[S]], Awaitable[T]],
        *,
        dealers: str | Iterable[str] | None = None,
    ) -> T:
        """Run ``work`` in one transaction acting for ``dealers`` (row-level security,
        :func:`dealerflow.runtime.db.act_for`; default: the dealers the request's bearer
        token covers, every dealer outside a request), with the deadlock/serialization
        retry of
        :func:`dealerflow.runtime.context.run_in_transaction`."""

        if dealers is None:
            principal = current_principal()
            # A dealer_group token covers stores the runtime cannot list up front (group
            # membership is the dealer configuration's): it acts for every dealer in the
            # database and the services' own dealer filters (checked against the group by
            # allow()) keep it to the group.
            dealers = (
                ALL_DEALERS
                if principal is None or principal.all_dealers or principal.dealer_group
                else sorted(principal.dealers)
            )
        scope = dealers

        async def scoped(uc: UseCaseContext[S]) -> T:
            await act_for(uc.conn, scope)
            return await work(uc)

        return await run_in_transaction(self.db, self.use_case, scoped)


#: A timer handler of a service: the use-case context of the poller's transaction and
#: the timer that fell due.
ServiceTimerHandler = Callable[[UseCaseContext[Any], Timer], Awaitable[None]]

#: A batch timer handler of a service: one use-case context for all due timers of its
#: kind in a claimed batch (one statement per table for all of them); what it publishes
#: is written with one outbox insert after it returns. The poller calls it again with
#: one timer at a time when it raises (see :data:`dealerflow.runtime.timers.BatchTimerHandler`).
ServiceBatchTimerHandler = Callable[[UseCaseContext[Any], Sequence[Timer]], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """A consumer of one or more topics (by context, e.g. ``"sales"``).

    ``name`` is the inbox name and, prefixed with the service, the consumer group id.
    CloudEvents topics get an :class:`EventConsumer` dispatching to ``router``; a topic of
    other records (e.g. raw lead submissions on ``inbound.leads``) names a ``processor``
    factory instead, called with the started service's context and the inbox name.
    """

    name: str
    contexts: tuple[str, ...]
    router: EventRouter | None = None
    processor: Callable[[ServiceContext[Any], str], BatchProcessor] | None = None

    def __post_init__(self) -> None:
        if (self.router is None) == (self.processor is None):
            raise ValueError(f"subscription {self.name!r}: give exactly one of router, processor")


def _no_routers(ctx: ServiceContext[Any]) -> Sequence[APIRouter]:
    return ()


def _no_subscriptions(ctx: ServiceContext[Any]) -> Sequence[Subscription]:
    return ()


def _no_timers(ctx: ServiceContext[Any]) -> Mapping[str, ServiceTimerHandler]:
    return {}


def _no_batch_timers(ctx: ServiceContext[Any]) -> Mapping[str, ServiceBatchTimerHandler]:
    return {}


#: The runtime's own subscription of every service: the dealers topic, materialised.
DEALERS_SUBSCRIPTION = Subscription("dealers", ("dealers",), router=dealers.router)


def environment_dealers(settings: ServiceSettings) -> EnvironmentDealerConfiguration:
    """The same configuration for every dealer: DOMAIN.md defaults + ``policy_overrides``
    + ``dealer_defaults`` (validated now: a bad override fails at start-up)."""
    return EnvironmentDealerConfiguration(settings.policy_overrides, settings.dealer_defaults)


def materialised_dealers(settings: ServiceSettings) -> DealerConfiguration:
    """The default dealer configuration: what ``DealerConfigured`` events materialised,
    the environment's (:func:`environment_dealers`) for a dealer none has named."""
    return dealers.MaterialisedDealerConfiguration(
        environment_dealers(settings),
        service=settings.service_name,
        fresh_for_s=settings.dealer_configuration_cache_s,
    )


@dataclass(frozen=True)
class ServiceDefinition(Generic[S]):
    """Everything that makes up one service; see the module docstring.

    ``dealer_configuration`` builds the service's :class:`DealerConfiguration` from its
    settings (default: :func:`materialised_dealers`).
    """

    name: str
    title: str
    settings_factory: Callable[[], S]
    migrations_package: str
    description: str = ""
    version: str = "1.0.0"
    routers: Callable[[ServiceContext[S]], Sequence[APIRouter]] = _no_routers
    subscriptions: Callable[[ServiceContext[S]], Sequence[Subscription]] = _no_subscriptions
    timer_handlers: Callable[[ServiceContext[S]], Mapping[str, ServiceTimerHandler]] = _no_timers
    #: the hot timer kinds, handled a claimed batch at a time (a kind is in one of the two)
    timer_batch_handlers: Callable[[ServiceContext[S]], Mapping[str, ServiceBatchTimerHandler]] = (
        _no_batch_timers
    )
    dealer_configuration: Callable[[S], DealerConfiguration] = materialised_dealers
    #: the service's domain exceptions -> RFC 9457 problems (mapped once, at HTTP)
    problems: ProblemMap = field(default_factory=dict)
    #: how the service anonymises a customer (:mod:`dealerflow.runtime.erasure`); a
    #: service that holds personal data must have one
    eraser: Eraser | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: work the service does once each time it starts, with the background (after the
    #: pool opens, before the consumers, relay and timer poller; an HTTP-only instance
    #: skips it), e.g. planning the durable timers of what it already knows; idempotent,
    #: since every restart runs it again
    on_start: Callable[[ServiceContext[S]], Awaitable[None]] | None = None

    @functools.cached_property
    def erasure_subscription(self) -> Subscription | None:
        """The runtime's erasure subscription of a service with an eraser: the leads topic,
        ``CustomerErasureRequested`` only (inbox and consumer group ``erasure``)."""
        if self.eraser is None:
            return None
        return Subscription(
            "erasure", ("leads",), router=erasure_router(self.eraser, service=self.name)
        )

    def migrations(self) -> list[Migration]:
        """The runtime's migrations followed by the service's own."""
        return runtime_migrations() + load_migrations(self.migrations_package, self.name)

    def all_subscriptions(self, ctx: ServiceContext[S]) -> list[Subscription]:
        """The service's own subscriptions and the runtime's (:data:`DEALERS_SUBSCRIPTION`,
        and :attr:`erasure_subscription` when it has an eraser): what the running service
        consumes."""
        found = [*self.subscriptions(ctx), DEALERS_SUBSCRIPTION]
        if self.erasure_subscription is not None:
            found.append(self.erasure_subscription)
        names = [sub.name for sub in found]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: subscription names must be unique, got {names}")
        return found


def service_context(request: Request) -> ServiceContext[Any]:
    """FastAPI dependency: the running service's :class:`ServiceContext`."""
    ctx: ServiceContext[Any] = request.app.state.ctx
    return ctx


def timer_handlers_of(
    ctx: ServiceContext[S], handlers: Mapping[str, ServiceTimerHandler]
) -> dict[str, TimerHandler]:
    """The poller's ``(conn, timer)`` handlers: each builds its use-case context here."""

    def bind(handler: ServiceTimerHandler) -> TimerHandler:
        async def fire(conn: DbConnection, timer: Timer) -> None:
            await handler(ctx.use_case(conn), timer)

        return fire

    return {kind: bind(handler) for kind, handler in handlers.items()}


def timer_batch_handlers_of(
    ctx: ServiceContext[S], handlers: Mapping[str, ServiceBatchTimerHandler]
) -> dict[str, BatchTimerHandler]:
    """The poller's ``(conn, timers)`` batch handlers: each builds one use-case context for
    the batch and writes what it published with one outbox insert."""

    def bind(handler: ServiceBatchTimerHandler) -> BatchTimerHandler:
        async def fire(conn: DbConnection, timers: Sequence[Timer]) -> None:
            outbox: list[OutboxMessage] = []
            await handler(ctx.use_case(conn, outbox=outbox), timers)
            await enqueue(conn, outbox)

        return fire

    return {kind: bind(handler) for kind, handler in handlers.items()}


def poller_handlers(
    ctx: ServiceContext[S], definition: ServiceDefinition[S]
) -> tuple[dict[str, TimerHandler], dict[str, BatchTimerHandler]]:
    """The poller's per-timer and batch handlers of ``definition``; a kind in both is refused."""
    single = definition.timer_handlers(ctx)
    batch = definition.timer_batch_handlers(ctx)
    if both := sorted(set(single) & set(batch)):
        raise ValueError(f"{definition.name}: timer kinds with two handlers: {both}")
    return timer_handlers_of(ctx, single), timer_batch_handlers_of(ctx, batch)


async def migrate_service(
    definition: ServiceDefinition[Any], settings: ServiceSettings
) -> list[str]:
    """Apply pending migrations to the service's schema; returns the applied labels."""
    applied = await migrate(
        settings.pg_migration_dsn,
        settings.db_schema,
        definition.migrations(),
        app_role=settings.pg_app_role or None,
    )
    return [m.label for m in applied]


def build_app(
    definition: ServiceDefinition[S],
    settings: S,
    *,
    clock: Clock | None = None,
    tracer_provider: TracerProvider | None = None,
    run_background: bool = True,
) -> FastAPI:
    """The service's FastAPI app; its lifespan starts and stops everything else.

    ``run_background=False`` skips the consumers, relay and timer poller (an HTTP-only
    instance, e.g. for OpenAPI generation or API tests).
    """
    ctx = ServiceContext(
        settings=settings,
        clock=clock or settings.clock(),
        topics=TopicRegistry(settings.topic_prefix),
        source=event_source(settings.service_name),
        dealers=definition.dealer_configuration(settings),
        tracer_provider=tracer_provider,
    )
    broker = create_broker(settings, tracer_provider=tracer_provider)
    subscriptions = definition.all_subscriptions(ctx) if run_background else []
    background: dict[str, asyncio.Task[None]] = {}  # the lifespan's relay and poller
    readiness = service_readiness(
        lambda: ctx.db,
        background=run_background,
        broker=broker if subscriptions else None,
        kafka_bootstrap=settings.kafka_bootstrap,
        kafka_options=kafka_client_options(settings) if run_background else None,
        tasks=background,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx.pool = await create_pool(
            settings.pg_dsn,
            settings.db_schema,
            min_size=settings.pg_pool_min_size,
            max_size=settings.pg_pool_max_size,
            connect_timeout_s=settings.pg_connect_timeout_s,
            acquire_timeout_s=settings.pg_acquire_timeout_s,
            command_timeout_s=settings.pg_command_timeout_s,
        )
        tasks: list[asyncio.Task[None]] = []
        relay: OutboxRelay | None = None
        poller: TimerPoller | None = None
        purger: Purger | None = None
        try:
            if run_background and definition.on_start is not None:
                await definition.on_start(ctx)
            for sub in subscriptions:
                inbox_name = f"{settings.service_name}.{sub.name}"
                consumer: BatchProcessor
                if sub.processor is not None:
                    consumer = sub.processor(ctx, inbox_name)
                else:
                    assert sub.router is not None  # guaranteed by Subscription
                    consumer = EventConsumer(
                        name=inbox_name,
                        router=sub.router,
                        pool=ctx.db,
                        settings=settings,
                        clock=ctx.clock,
                        topics=ctx.topics,
                        source=ctx.source,
                        tracer_provider=tracer_provider,
                        dealers=ctx.dealers,
                    )
                attach_consumer(
                    broker,
                    consumer,
                    [ctx.topics.name(c) for c in sub.contexts],
                    group_id=f"{settings.topic_prefix}{settings.service_name}.{sub.name}",
                )
            if run_background:
                relay = OutboxRelay(
                    ctx.db,
                    settings.kafka_bootstrap,
                    batch_size=settings.relay_batch_size,
                    poll_interval_s=settings.relay_poll_interval_s,
                    linger_ms=settings.relay_linger_ms,
                    max_batch_bytes=settings.relay_max_batch_bytes,
                    compression_type=settings.relay_compression,
                    client_id=f"{settings.service_name}-relay",
                    client_options=kafka_client_options(settings),
                )
                per_timer, per_batch = poller_handlers(ctx, definition)
                poller = TimerPoller(
                    ctx.db,
                    per_timer,
                    clock=ctx.clock,
                    batch_handlers=per_batch,
                    batch_size=settings.timer_batch_size,
                    poll_interval_s=settings.timer_poll_interval_s,
                    max_attempts=settings.timer_max_attempts,
                )
                purger = Purger(
                    ctx.db,
                    ctx.clock,
                    RetentionPolicy(
                        inbox=timedelta(days=settings.purge_inbox_days),
                        idempotency_keys=timedelta(days=settings.purge_idempotency_days),
                        timers=timedelta(days=settings.purge_timers_days),
                    ),
                    interval_s=settings.purge_interval_s,
                )
                background["outbox-relay"] = asyncio.create_task(relay.run(), name="outbox-relay")
                background["timer-poller"] = asyncio.create_task(poller.run(), name="timer-poller")
                background["purge"] = asyncio.create_task(purger.run(), name="purge")
                tasks.extend(background.values())
            if subscriptions:
                await broker.start()
            # Everything alive now (modules, models, pools) lives as long as the process:
            # keep the garbage collector from rescanning it on every batch of events.
            gc.freeze()
            log.info("%s started", settings.service_name, extra={"settings": settings.redacted()})
            yield
        finally:
            log.info("%s stopping: draining consumers, timers and outbox", settings.service_name)
            if subscriptions:
                await broker.stop()
            if purger is not None:
                await purger.stop()
            if poller is not None:
                await poller.stop()
            if relay is not None:
                await relay.stop()
            for task in tasks:
                if not task.done():
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await ctx.db.close()
            ctx.pool = None

    app = create_http_app(
        title=definition.title,
        version=definition.version,
        settings=settings,
        readiness=readiness,
        routers=list(definition.routers(ctx)),
        lifespan=lifespan,
        tracer_provider=tracer_provider,
        problems=definition.problems,
        clock=ctx.clock,
    )
    if definition.description:
        app.description = definition.description
    app.state.ctx = ctx
    app.state.dealer_group_of = ctx.dealer_group_of
    return app


def openapi_document(definition: ServiceDefinition[Any]) -> dict[str, Any]:
    """The service's OpenAPI document, built without connecting to anything."""
    app = build_app(definition, definition.settings_factory(), run_background=False)
    return app.openapi()


def run_cli(definition: ServiceDefinition[Any], argv: Sequence[str] | None = None) -> int:
    """``dealerflow-<svc> migrate|serve|openapi``: the service's command line."""
    parser = argparse.ArgumentParser(
        prog=f"dealerflow-{definition.name}", description=definition.title
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply pending database migrations and exit")
    serve_cmd = sub.add_parser("serve", help="run the service (HTTP, consumers, relay, timers)")
    serve_cmd.add_argument("--migrate", action="store_true", help="apply migrations first")
    sub.add_parser("openapi", help="print the OpenAPI document as JSON")
    args = parser.parse_args(argv)

    if args.command == "openapi":
        print(json.dumps(openapi_document(definition), indent=2, sort_keys=True))
        return 0

    settings = definition.settings_factory()
    configure_logging(
        settings.service_name,
        settings.log_level,
        settings.log_json,
        file=settings.log_file,
        max_bytes=settings.log_file_max_bytes,
        backups=settings.log_file_backups,
    )
    if args.command == "migrate":
        labels = asyncio.run(migrate_service(definition, settings))
        print(
            f"{definition.name}: schema {settings.db_schema}: "
            + (f"applied {', '.join(labels)}" if labels else "up to date")
        )
        return 0

    if args.migrate:
        asyncio.run(migrate_service(definition, settings))
    tracer_provider = setup_tracing(settings.service_name, settings.otlp_endpoint)
    app = build_app(definition, settings, tracer_provider=tracer_provider)
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=20,
    )
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):  # interactive stop
        asyncio.run(server.serve())
    return 0 if server.started or not server.should_exit else 1


def main_for(definition: ServiceDefinition[Any]) -> Callable[[], None]:
    """A console-script entry point for ``definition``."""

    def main() -> None:
        sys.exit(run_cli(definition))

    return main
