"""Fixtures of the complaints service tests: the service running on real Kafka and
PostgreSQL in the test's own schema, with its own topic prefix and consumer groups, on a
ManualClock the test moves, and with the dealer configurations the test sets
(`Harness.configure`: a `StaticDealerConfiguration` over the defaults)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from dealerflow.complaints import timers as complaint_timers
from dealerflow.complaints.app import DEFINITION
from dealerflow.complaints.settings import ComplaintsSettings
from dealerflow.contracts.envelope import Envelope
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
from dealerflow.policy import DealerSettings, settings_with_overrides
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.context import StaticDealerConfiguration
from dealerflow.runtime.service import timer_handlers_of
from dealerflow.runtime.timers import TimerPoller

#: A Wednesday 10:00 in Shanghai (02:00 UTC): inside business hours, no holiday.
START = datetime(2025, 3, 5, 2, 0, tzinfo=UTC)


@dataclass
class Harness(RunningService):
    """The complaints service under test plus helpers to talk to it."""

    clock: ManualClock
    producer: AIOKafkaProducer
    #: the test's own connections to the service's schema (apart from the app's pool)
    test_pool: asyncpg.Pool
    #: the configuration of each dealer the test configured (others: the defaults)
    dealers: dict[str, DealerSettings] = field(default_factory=dict)
    _reader: TopicReader | None = None

    def configure(self, dealer_id: str, overrides: dict[str, Any]) -> DealerSettings:
        """Give ``dealer_id`` the defaults with ``overrides`` (a partial DealerSettings:
        profile, policy, people), as the dealers service would; applies from the next
        use case on."""
        self.dealers[dealer_id] = settings_with_overrides(overrides)
        return self.dealers[dealer_id]

    @property
    def bootstrap(self) -> str:
        return self.settings.kafka_bootstrap

    @property
    def seen(self) -> list[Envelope[DomainEvent]]:
        """Every event read from the complaints topic so far."""
        return self._reader.events() if self._reader is not None else []

    # -- Kafka ---------------------------------------------------------------------------

    async def produce(
        self,
        event: DomainEvent,
        *,
        mode: Literal["binary", "structured"] = "binary",
        event_id: str | None = None,
    ) -> None:
        """Publish ``event`` to its topic as an outside producer would."""
        await produce_event(
            self.producer,
            self.topics,
            event,
            structured=mode == "structured",
            event_id=event_id,
            source="/test/producer",
        )

    async def produce_raw(
        self, context: str, value: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        await self.producer.send_and_wait(
            self.topics.name(context), value=value, key=b"k", headers=headers
        )

    async def complaints_events(
        self,
        predicate: Callable[[list[Envelope[DomainEvent]]], bool],
        *,
        what: str,
        within_s: float = 30.0,
    ) -> list[Envelope[DomainEvent]]:
        """Every event read from the complaints topic so far, once ``predicate`` holds."""
        if self._reader is None:
            self._reader = TopicReader(self.bootstrap, self.topics.name("complaints"))
            await self._reader.start()
        reader = self._reader
        await reader.until(lambda _: predicate(reader.events()), what=what, within_s=within_s)
        return self.seen

    def seen_of(self, event_type: type[DomainEvent], complaint_id: Any) -> list[Any]:
        return [
            e.event
            for e in self.seen
            if isinstance(e.event, event_type)
            and getattr(e.event, "complaint_id", None) == str(complaint_id)
        ]

    # -- timers --------------------------------------------------------------------------

    async def fire_due(self) -> int:
        """Fire what is due by the ManualClock now. The app's own poller may race us
        (either fires each timer once): a timer it has claimed is skipped by our claim,
        so wait until nothing due is left pending in the committed view."""
        handlers = timer_handlers_of(self.ctx, complaint_timers.handlers(self.ctx))
        poller = TimerPoller(self.test_pool, handlers, clock=self.clock)
        fired = 0

        async def settled() -> bool:
            nonlocal fired
            while (n := await poller.fire_due()) > 0:
                fired += n
            due = await self.test_pool.fetchval(
                "SELECT count(*) FROM timers WHERE status = 'pending' AND due_at <= $1",
                self.clock.now(),
            )
            return due == 0

        await eventually(settled, what="every due timer fired", interval_s=0.05)
        return fired

    async def pending_timers(self, prefix: str) -> list[asyncpg.Record]:
        return await self.test_pool.fetch(
            "SELECT key, due_at FROM timers WHERE status = 'pending' AND starts_with(key, $1) "
            "ORDER BY due_at",
            prefix,
        )

    # -- helpers tests use (test modules cannot import this conftest) -------------------

    eventually = staticmethod(eventually)
    complaint_body = staticmethod(lambda **overrides: complaint_body(**overrides))
    start = START

    async def handled(self, event_id: str) -> None:
        """Wait until the service's consumer recorded ``event_id`` in its inbox (events
        produced before it with the same key were processed before it)."""

        async def seen() -> bool:
            return bool(await self.db("SELECT 1 FROM inbox WHERE event_id = $1", event_id))

        await eventually(seen, what=f"event {event_id} consumed")

    async def contact_known(self, dealer_id: str, customer_id: Any) -> None:
        """Wait until the contact directory holds the customer's snapshot."""

        async def known() -> bool:
            return bool(
                await self.db(
                    "SELECT 1 FROM customer_contacts WHERE dealer_id = $1 AND customer_id = $2",
                    dealer_id,
                    customer_id,
                )
            )

        await eventually(known, what=f"the contact snapshot of {customer_id}")

    async def db(self, query: str, *args: Any) -> list[asyncpg.Record]:
        return await self.test_pool.fetch(query, *args)

    # -- HTTP ----------------------------------------------------------------------------

    async def detail(self, complaint_id: str, dealer_id: str = "sh-pudong-01") -> dict[str, Any]:
        """GET /v1/complaints/{id}: the complaint with its clocks and history."""
        response = await self.client.get(
            f"/v1/complaints/{complaint_id}", params={"dealer_id": dealer_id}
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    @staticmethod
    def clocks_by_kind(detail: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """A complaint detail's clocks by "<kind>:<reopen_count>"."""
        return {f"{c['kind']}:{c['reopen_count']}": c for c in detail["clocks"]}

    async def open_complaint(self, **overrides: Any) -> dict[str, Any]:
        body = complaint_body(**overrides)
        response = await self.client.post("/v1/complaints", json=body)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result


def complaint_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /v1/complaints body."""
    body: dict[str, Any] = {
        "dealer_id": "sh-pudong-01",
        "contact": {"name": "张伟", "phone": "138 0013 8000"},
        "channel": "hotline",
        "category": "after_sales_service",
        "summary": "Brake noise after the last service",
        "details": "Squeal when braking at low speed.",
    }
    body.update(overrides)
    return body


@pytest.fixture
def complaints_settings(
    kafka_bootstrap: str, pg_dsn: str, pg_schema: str, topic_prefix: str
) -> ComplaintsSettings:
    """The service's settings on the test's schema and topic prefix (one retry)."""
    return service_settings(
        ComplaintsSettings,
        pg_dsn=pg_dsn,
        pg_schema=pg_schema,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        consumer_max_retries=1,
    )


@pytest.fixture
async def harness(
    kafka_bootstrap: str, complaints_settings: ComplaintsSettings, pg_pool: asyncpg.Pool
) -> AsyncIterator[Harness]:
    """The complaints service started with its lifespan (consumers, relay, timer poller)."""
    settings = complaints_settings
    clock = ManualClock(START)
    dealers: dict[str, DealerSettings] = {}
    definition = replace(
        DEFINITION, dealer_configuration=lambda _: StaticDealerConfiguration(by_dealer=dealers)
    )
    harness: Harness | None = None
    try:
        async with (
            kafka_producer(kafka_bootstrap) as producer,
            running_service(definition, settings, clock=clock) as service,
        ):
            harness = Harness(service.app, service.client, clock, producer, pg_pool, dealers)
            yield harness
    finally:
        if harness is not None and harness._reader is not None:
            await harness._reader.stop()
