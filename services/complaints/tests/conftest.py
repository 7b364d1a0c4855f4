"""Fixtures of the complaints service tests: the service running on real Kafka and
PostgreSQL in the test's own schema, with its own topic prefix and consumer groups, on a
ManualClock the test moves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from dealerflow.complaints import timers as complaint_timers
from dealerflow.complaints.app import DEFINITION
from dealerflow.complaints.settings import ComplaintsSettings
from dealerflow.contracts.envelope import Envelope, decode, encode_binary, encode_structured
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.service import ServiceContext, build_app, migrate_service
from dealerflow.runtime.timers import TimerPoller
from fastapi import FastAPI

#: A Wednesday 10:00 in Shanghai (02:00 UTC): inside business hours, no holiday.
START = datetime(2025, 3, 5, 2, 0, tzinfo=UTC)


async def eventually(
    probe: Callable[[], Awaitable[Any]], *, what: str, within_s: float = 30.0
) -> Any:
    """Poll ``probe`` until it returns something truthy; fail with ``what`` after a while."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        result = await probe()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within_s}s waiting for {what}")
        await asyncio.sleep(0.1)


@dataclass
class Harness:
    """The complaints service under test plus helpers to talk to it."""

    app: FastAPI
    client: httpx.AsyncClient
    clock: ManualClock
    settings: ComplaintsSettings
    topics: TopicRegistry
    pool: asyncpg.Pool
    bootstrap: str
    producer: AIOKafkaProducer
    seen: list[Envelope[DomainEvent]] = field(default_factory=list)
    _reader: AIOKafkaConsumer | None = None

    @property
    def ctx(self) -> ServiceContext:
        ctx: ServiceContext = self.app.state.ctx
        return ctx

    # -- Kafka ---------------------------------------------------------------------------

    async def produce(
        self,
        event: DomainEvent,
        *,
        mode: Literal["binary", "structured"] = "binary",
        event_id: str | None = None,
    ) -> None:
        """Publish ``event`` to its topic as an outside producer would."""
        encode = encode_binary if mode == "binary" else encode_structured
        record = encode(event, source="/test/producer", event_id=event_id)
        await self.producer.send_and_wait(
            self.topics.for_event(event), value=record.value, key=record.key, headers=record.headers
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
            self._reader = AIOKafkaConsumer(
                self.topics.name("complaints"),
                bootstrap_servers=self.bootstrap,
                group_id=None,
                auto_offset_reset="earliest",
                enable_auto_commit=False,
            )
            await self._reader.start()
        reader = self._reader

        async def probe() -> bool:
            batch = await reader.getmany(timeout_ms=200)
            for records in batch.values():
                self.seen.extend(decode(r.value, r.headers) for r in records)
            return predicate(self.seen)

        await eventually(probe, what=what, within_s=within_s)
        return list(self.seen)

    def seen_of(self, event_type: type[DomainEvent], complaint_id: Any) -> list[Any]:
        return [
            e.event
            for e in self.seen
            if isinstance(e.event, event_type)
            and getattr(e.event, "complaint_id", None) == str(complaint_id)
        ]

    # -- timers --------------------------------------------------------------------------

    async def fire_due(self) -> int:
        """Fire what is due by the ManualClock now (the app's own poller may race us:
        either fires each timer once)."""
        poller = TimerPoller(self.pool, complaint_timers.handlers(self.ctx), clock=self.clock)
        fired = 0
        while (n := await poller.fire_due()) > 0:
            fired += n
        return fired

    async def pending_timers(self, prefix: str) -> list[asyncpg.Record]:
        return await self.pool.fetch(
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
        return await self.pool.fetch(query, *args)

    # -- HTTP ----------------------------------------------------------------------------

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
async def harness(
    kafka_bootstrap: str,
    pg_dsn: str,
    pg_schema: str,
    topic_prefix: str,
    create_topics: Callable[..., Awaitable[None]],
) -> AsyncIterator[Harness]:
    """The complaints service started with its lifespan (consumers, relay, timer poller)."""
    settings = ComplaintsSettings(
        pg_dsn=pg_dsn,
        db_schema=pg_schema,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        log_json=False,
        relay_poll_interval_s=0.1,
        timer_poll_interval_s=0.1,
        consumer_batch_timeout_ms=50,
        consumer_max_retries=1,
    )
    topics = TopicRegistry(topic_prefix)
    await create_topics(*topics.all())
    await migrate_service(DEFINITION, settings)
    clock = ManualClock(START)
    app = build_app(DEFINITION, settings, clock=clock)
    pool = await asyncpg.create_pool(
        pg_dsn, min_size=1, max_size=4, server_settings={"search_path": pg_schema}
    )
    assert pool is not None
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    harness: Harness | None = None
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                harness = Harness(
                    app, client, clock, settings, topics, pool, kafka_bootstrap, producer
                )
                yield harness
    finally:
        if harness is not None and harness._reader is not None:
            await harness._reader.stop()
        await producer.stop()
        await pool.close()
