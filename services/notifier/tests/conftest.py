"""Fixtures of the notifier's integration tests: the whole service (HTTP, consumers,
relay, timer poller) on the real Kafka and PostgreSQL, with its own schema, topic prefix
and consumer group, a ManualClock the test moves, and the dealer configurations the test
sets (``configure``: a `StaticDealerConfiguration` over the environment defaults)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from dealerflow.contracts.envelope import KafkaRecord, decode
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.devinfra.service_testing import (
    RunningService,
    TopicReader,
    eventually,
    kafka_producer,
    produce_event,
    running_service,
    service_settings,
)
from dealerflow.notifier.app import DEFINITION
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.policy import DealerSettings, settings_with_overrides
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.context import (
    EnvironmentDealerConfiguration,
    StaticDealerConfiguration,
    UseCaseContext,
)
from dealerflow.runtime.service import ServiceDefinition, migrate_service

# Monday 2025-03-03 10:00 in Shanghai: inside business hours, outside quiet hours.
START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
DEALER = "D001"
#: The drivers of the tests' notifier, set explicitly (unset: messages fail, final).
RECORDING_DRIVERS: dict[str, Any] = {
    "channel_drivers": {c: "recording" for c in ("sms", "wechat", "email", "webhook")},
    "staff_channel_driver": "recording",
}


def configure(
    dealers: dict[str, DealerSettings], dealer_id: str, overrides: dict[str, Any]
) -> DealerSettings:
    """Give ``dealer_id`` the defaults with ``overrides`` (a partial DealerSettings:
    profile, policy, people), as the dealers service would."""
    dealers[dealer_id] = settings_with_overrides(overrides)
    return dealers[dealer_id]


def configured(dealers: dict[str, DealerSettings]) -> ServiceDefinition[NotifierSettings]:
    """The notifier reading its dealers' configuration from ``dealers`` (others: the
    environment defaults of its settings)."""

    def dealer_configuration(settings: NotifierSettings) -> StaticDealerConfiguration:
        defaults = EnvironmentDealerConfiguration(settings.policy_overrides).defaults
        return StaticDealerConfiguration(by_dealer=dealers, default=defaults)

    return replace(DEFINITION, dealer_configuration=dealer_configuration)


@dataclass
class Notifier(RunningService):
    """The running service and handles on everything around it."""

    clock: ManualClock
    producer: AIOKafkaProducer
    dealers: dict[str, DealerSettings] = field(default_factory=dict)

    def configure(self, dealer_id: str, overrides: dict[str, Any]) -> DealerSettings:
        """Configure a dealer (see `configure`); applies from the next use case on."""
        return configure(self.dealers, dealer_id, overrides)

    @property
    def bootstrap(self) -> str:
        return self.settings.kafka_bootstrap

    async def eventually(
        self, probe: Callable[[], Awaitable[Any]], what: str, within_s: float = 30.0
    ) -> Any:
        return await eventually(probe, what, within_s)

    async def send_record(self, topic: str, record: KafkaRecord) -> None:
        await self.producer.send_and_wait(
            topic, record.value, key=record.key, headers=list(record.headers)
        )

    async def produce(
        self, event: DomainEvent, *, structured: bool = False, event_id: str | None = None
    ) -> None:
        """Publish ``event`` to its topic as an outside producer would."""
        await produce_event(
            self.producer,
            self.topics,
            event,
            structured=structured,
            event_id=event_id,
            source="/tests/outside-dms",
        )

    async def tasks(self, **params: Any) -> list[dict[str, Any]]:
        response = await self.client.get("/v1/tasks", params={"dealer_id": DEALER, **params})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def notifications(self, **params: Any) -> list[dict[str, Any]]:
        response = await self.client.get(
            "/v1/notifications", params={"dealer_id": DEALER, "limit": 200, **params}
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def published(self, type_name: str, within_s: float = 30.0) -> list[dict[str, Any]]:
        """Every record of ``type_name`` on the notifier topic (all partitions read to their
        end); waits up to ``within_s`` for at least one to arrive."""
        async with TopicReader(self.bootstrap, self.topics.name("notifier")) as reader:
            deadline = asyncio.get_running_loop().time() + within_s
            while True:
                found = [
                    {"meta": env.meta, "event": env.event}
                    for env in (decode(r.value, r.headers) for r in await reader.to_end())
                    if env.event.type == type_name
                ]
                if found or asyncio.get_running_loop().time() > deadline:
                    return found
                await asyncio.sleep(0.2)


StartNotifier = Callable[..., AbstractAsyncContextManager[Notifier]]


@pytest.fixture
def start_notifier(
    kafka_bootstrap: str, pg_dsn: str, pg_schema: str, topic_prefix: str
) -> StartNotifier:
    """Start the whole notifier on the test's infrastructure with ``**changes`` to its
    settings (e.g. ``webhook_secret``, ``message_max_attempts``): ``async with
    start_notifier(...) as notifier``."""

    @asynccontextmanager
    async def start(**changes: Any) -> AsyncIterator[Notifier]:
        settings = service_settings(
            NotifierSettings,
            pg_dsn=pg_dsn,
            pg_schema=pg_schema,
            kafka_bootstrap=kafka_bootstrap,
            topic_prefix=topic_prefix,
            **{
                "timer_poll_interval_s": 0.05,
                "relay_poll_interval_s": 0.05,
                "consumer_max_retries": 1,
                **RECORDING_DRIVERS,
                **changes,
            },
        )
        clock = ManualClock(START)
        dealers: dict[str, DealerSettings] = {}
        async with (
            kafka_producer(kafka_bootstrap) as producer,
            running_service(configured(dealers), settings, clock=clock) as service,
        ):
            yield Notifier(service.app, service.client, clock, producer, dealers)

    return start


@pytest.fixture
async def notifier(start_notifier: StartNotifier) -> AsyncIterator[Notifier]:
    async with start_notifier() as started:
        yield started


@dataclass
class Db:
    """A migrated notifier schema (no Kafka): for use cases and HTTP-only API tests."""

    pool: asyncpg.Pool
    settings: NotifierSettings
    clock: ManualClock
    published: list[DomainEvent]
    dealers: dict[str, DealerSettings] = field(default_factory=dict)

    def configure(self, dealer_id: str, overrides: dict[str, Any]) -> DealerSettings:
        """Configure a dealer (see `configure`) for the use cases and the API."""
        return configure(self.dealers, dealer_id, overrides)

    def use_case(self, conn: Any, **settings_changes: Any) -> UseCaseContext[NotifierSettings]:
        """The use-case context of ``conn``'s transaction; published events are kept in
        ``published`` (no outbox)."""

        async def publish(event: DomainEvent) -> str:
            self.published.append(event)
            return str(uuid.uuid4())

        settings = (
            self.settings.model_copy(update=settings_changes) if settings_changes else self.settings
        )
        return UseCaseContext(
            conn=conn,
            clock=self.clock,
            settings=settings,
            dealers=configured(self.dealers).dealer_configuration(settings),
            publisher=publish,
        )

    def of_type(self, name: str) -> list[Any]:
        return [e for e in self.published if e.type == name]


@pytest.fixture
async def db(pg_dsn: str, pg_schema: str) -> AsyncIterator[Db]:
    from dealerflow.runtime.db import create_pool

    settings = NotifierSettings(
        pg_dsn=pg_dsn, db_schema=pg_schema, log_json=False, **RECORDING_DRIVERS
    )
    await migrate_service(DEFINITION, settings)
    pool = await create_pool(pg_dsn, pg_schema, min_size=1, max_size=4)
    try:
        yield Db(pool, settings, ManualClock(START), [])
    finally:
        await pool.close()


@pytest.fixture
async def api(db: Db) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP API alone (no consumers, relay or timers) on the ``db`` schema."""
    async with running_service(
        configured(db.dealers), db.settings, clock=db.clock, run_background=False
    ) as service:
        yield service.client


#: Debian's chromium, driven by Playwright in the browser tests (no browser download;
#: .ci/run installs it). DEALERFLOW_CHROMIUM points elsewhere.
CHROMIUM = os.environ.get("DEALERFLOW_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The chromium the browser tests launch; fails (never skips) when it is missing."""
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"the browser tests need chromium at {CHROMIUM}: install Debian's package "
            "(apt-get install chromium; .ci/run does) or set DEALERFLOW_CHROMIUM",
            pytrace=False,
        )
    return CHROMIUM
