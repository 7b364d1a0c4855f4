"""Fixtures for the leads service tests: the service app on real Kafka and PostgreSQL.

Every test gets its own schema (``pg_schema``), topic prefix and therefore consumer
groups (group ids start with the prefix). The shared pieces are in
:mod:`dealerflow.devinfra.service_testing`.

Dealers are configured per test with ``await leads.configure(dealer_id, overrides)``
(partial `DealerSettings` over the defaults, e.g. ``{"people": {"staff": [...]}}``); the
service reads them through a `StaticDealerConfiguration` over a dict the test fills, so a
change applies to the next request. Unconfigured dealers get the defaults (nobody on staff).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from dealerflow.contracts.envelope import Envelope, decode, encode_binary
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.devinfra.service_testing import (
    RunningService,
    eventually,
    kafka_producer,
    read_topic,
    running_service,
    service_settings,
)
from dealerflow.leads.app import DEFINITION
from dealerflow.leads.settings import LeadsSettings
from dealerflow.policy import DealerSettings, settings_with_overrides
from dealerflow.runtime.clock import Clock
from dealerflow.runtime.context import StaticDealerConfiguration


@dataclass
class LeadsService(RunningService):
    """A running leads app with an HTTP client and Kafka helpers."""

    producer: AIOKafkaProducer
    #: what the service's dealer configuration answers, by dealer (see ``configure``)
    dealers: dict[str, DealerSettings] = field(default_factory=dict)

    async def configure(self, dealer_id: str, overrides: Mapping[str, Any]) -> DealerSettings:
        """Give ``dealer_id`` this configuration (partial DealerSettings over the
        defaults) from the next request on."""
        settings = settings_with_overrides(overrides)
        self.dealers[dealer_id] = settings
        return settings

    @property
    def http(self) -> httpx.AsyncClient:
        return self.client

    async def produce(
        self,
        context: str,
        value: bytes,
        *,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        await self.producer.send_and_wait(
            self.topics.name(context), value=value, key=key, headers=headers or []
        )

    async def publish(self, event: DomainEvent, *, source: str = "/outside-system") -> str:
        """Put ``event`` on its context's topic as another producer would; its event id."""
        event_id = str(uuid.uuid4())
        record = encode_binary(event, source=source, event_id=event_id)
        await self.produce(event.context, record.value, key=record.key, headers=record.headers)
        return event_id

    async def handled(self, event_id: str) -> None:
        """Wait until the service's consumer handled ``event_id``: its inbox row commits
        with the handler's effects (a dead-lettered event leaves none)."""

        async def probe() -> bool:
            sql = "SELECT 1 FROM inbox WHERE event_id = $1"
            return bool(await self.pool.fetchval(sql, event_id))

        await eventually(probe, f"event {event_id} handled", 30.0)

    async def read_topic(self, topic: str, *, timeout_s: float = 2.0) -> list[Any]:
        """Every record on ``topic`` right now (all partitions, from the beginning)."""
        return await read_topic(self.settings.kafka_bootstrap, topic, timeout_s=timeout_s)

    async def events(self, context: str = "leads") -> list[Envelope[DomainEvent]]:
        """The decoded events on a context's topic (per-customer order is kept)."""
        records = await self.read_topic(self.topics.name(context))
        return [decode(r.value, r.headers) for r in records]

    async def eventually(
        self, probe: Callable[[], Awaitable[Any]], *, within_s: float = 30.0, what: str = "it"
    ) -> Any:
        return await eventually(probe, what, within_s)

    async def wait_for_events(
        self,
        predicate: Callable[[list[DomainEvent]], bool],
        *,
        context: str = "leads",
        what: str = "events",
        within_s: float = 30.0,
    ) -> list[DomainEvent]:
        """Poll the topic until ``predicate(events)`` holds; returns the events."""

        async def probe() -> list[DomainEvent] | None:
            found = [e.event for e in await self.events(context)]
            return found if predicate(found) else None

        result: list[DomainEvent] = await eventually(probe, what, within_s)
        return result


@pytest.fixture
def leads_clock() -> Clock | None:
    """The service's clock: the system's; a test module that needs time to pass
    overrides this fixture with a ``ManualClock`` (``leads.ctx.clock``)."""
    return None


@pytest.fixture
async def leads(
    kafka_bootstrap: str, pg_dsn: str, pg_schema: str, topic_prefix: str, leads_clock: Clock | None
) -> AsyncIterator[LeadsService]:
    settings = service_settings(
        LeadsSettings,
        pg_dsn=pg_dsn,
        pg_schema=pg_schema,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        relay_poll_interval_s=0.2,
    )
    dealers: dict[str, DealerSettings] = {}
    definition = replace(
        DEFINITION, dealer_configuration=lambda _: StaticDealerConfiguration(by_dealer=dealers)
    )
    async with (
        kafka_producer(kafka_bootstrap) as producer,
        running_service(
            definition, settings, clock=leads_clock, base_url="http://leads"
        ) as service,
    ):
        yield LeadsService(service.app, service.client, producer, dealers)
