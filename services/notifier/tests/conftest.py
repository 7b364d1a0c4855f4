"""Fixtures of the notifier's integration tests: the whole service (HTTP, consumers,
relay, timer poller) on the real Kafka and PostgreSQL, with its own schema, topic prefix
and consumer group, and a ManualClock the test moves."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from dealerflow.contracts.envelope import KafkaRecord, encode_binary, encode_structured
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.notifier.app import DEFINITION
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.service import ServiceContext, build_app, migrate_service
from fastapi import FastAPI

# Monday 2025-03-03 10:00 in Shanghai: inside business hours, outside quiet hours.
START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
DEALER = "D001"


async def eventually(probe: Callable[[], Awaitable[Any]], what: str, within_s: float = 30.0) -> Any:
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
class Notifier:
    """The running service and handles on everything around it."""

    app: FastAPI
    client: httpx.AsyncClient
    clock: ManualClock
    settings: NotifierSettings
    topics: TopicRegistry
    producer: AIOKafkaProducer
    bootstrap: str

    @property
    def ctx(self) -> ServiceContext:
        ctx: ServiceContext = self.app.state.ctx
        return ctx

    @property
    def pool(self) -> asyncpg.Pool:
        return self.ctx.db

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
        encode = encode_structured if structured else encode_binary
        record = encode(event, source="/tests/outside-dms", event_id=event_id)
        await self.send_record(self.topics.for_event(event), record)

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
        from aiokafka import TopicPartition
        from dealerflow.contracts.envelope import decode

        topic = self.topics.name("notifier")
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, enable_auto_commit=False, group_id=None
        )
        await consumer.start()
        found: list[dict[str, Any]] = []
        try:
            partitions = [
                TopicPartition(topic, p) for p in sorted(await self.producer.partitions_for(topic))
            ]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + within_s
            while True:
                ends = await consumer.end_offsets(partitions)
                while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                    batches = await consumer.getmany(*partitions, timeout_ms=500)
                    for records in batches.values():
                        for rec in records:
                            env = decode(rec.value, rec.headers)
                            if env.event.type == type_name:
                                found.append({"meta": env.meta, "event": env.event})
                if found or loop.time() > deadline:
                    return found
                await asyncio.sleep(0.2)
        finally:
            await consumer.stop()


@pytest.fixture
async def notifier(
    kafka_bootstrap: str,
    pg_dsn: str,
    pg_schema: str,
    topic_prefix: str,
    create_topics: Callable[..., Awaitable[None]],
) -> AsyncIterator[Notifier]:
    settings = NotifierSettings(
        pg_dsn=pg_dsn,
        db_schema=pg_schema,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        timer_poll_interval_s=0.05,
        relay_poll_interval_s=0.05,
        consumer_batch_timeout_ms=50,
        consumer_max_retries=1,
        log_json=False,
    )
    await migrate_service(DEFINITION, settings)
    topics = TopicRegistry(topic_prefix)
    await create_topics(*topics.all())
    clock = ManualClock(START)
    app = build_app(DEFINITION, settings, clock=clock)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                yield Notifier(app, client, clock, settings, topics, producer, kafka_bootstrap)
    finally:
        await producer.stop()


@dataclass
class Db:
    """A migrated notifier schema (no Kafka): for use cases and HTTP-only API tests."""

    pool: asyncpg.Pool
    settings: NotifierSettings
    clock: ManualClock
    published: list[DomainEvent]

    def effects(self, conn: Any, **settings_changes: Any) -> Any:
        from dealerflow.notifier.effects import Effects

        async def publish(event: DomainEvent) -> str:
            self.published.append(event)
            return str(uuid.uuid4())

        settings = (
            self.settings.model_copy(update=settings_changes) if settings_changes else self.settings
        )
        return Effects(conn=conn, clock=self.clock, settings=settings, publish=publish)

    def of_type(self, name: str) -> list[Any]:
        return [e for e in self.published if e.type == name]


@pytest.fixture
async def db(pg_dsn: str, pg_schema: str) -> AsyncIterator[Db]:
    from dealerflow.runtime.db import create_pool

    settings = NotifierSettings(pg_dsn=pg_dsn, db_schema=pg_schema, log_json=False)
    await migrate_service(DEFINITION, settings)
    pool = await create_pool(pg_dsn, pg_schema, min_size=1, max_size=4)
    try:
        yield Db(pool, settings, ManualClock(START), [])
    finally:
        await pool.close()


@pytest.fixture
async def api(db: Db) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP API alone (no consumers, relay or timers) on the ``db`` schema."""
    app = build_app(DEFINITION, db.settings, clock=db.clock, run_background=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client
