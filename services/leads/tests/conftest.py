"""Fixtures for the leads service tests: the service app on real Kafka and PostgreSQL.

Every test gets its own schema (``pg_schema``), topic prefix and therefore consumer
groups (group ids start with the prefix).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from dealerflow.contracts.envelope import Envelope, decode
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.leads.app import DEFINITION
from dealerflow.leads.settings import LeadsSettings
from dealerflow.runtime.service import build_app, migrate_service
from fastapi import FastAPI


async def eventually(
    probe: Callable[[], Awaitable[Any]], *, within_s: float = 30.0, what: str = "condition"
) -> Any:
    """Poll ``probe`` until it returns something truthy; fail with ``what`` on timeout."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        result = await probe()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {within_s}s waiting for {what}")
        await asyncio.sleep(0.1)


@dataclass
class LeadsService:
    """A running leads app with an HTTP client and Kafka helpers."""

    app: FastAPI
    http: httpx.AsyncClient
    settings: LeadsSettings
    topics: TopicRegistry
    bootstrap: str
    producer: AIOKafkaProducer

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

    async def read_topic(self, topic: str, *, timeout_s: float = 2.0) -> list[Any]:
        """Every record on ``topic`` right now (all partitions, from the beginning)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False
        )
        await consumer.start()
        try:
            partitions = await consumer._client.fetch_all_metadata()
            tps = [TopicPartition(topic, p) for p in partitions.partitions_for_topic(topic) or ()]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            end = await consumer.end_offsets(tps)
            records: list[Any] = []
            pending = {tp for tp in tps if end[tp] > 0}
            deadline = asyncio.get_running_loop().time() + timeout_s
            while pending and asyncio.get_running_loop().time() < deadline:
                batch = await consumer.getmany(*pending, timeout_ms=200)
                for tp, recs in batch.items():
                    records += [r for r in recs if r.offset < end[tp]]
                    if await consumer.position(tp) >= end[tp]:
                        pending.discard(tp)
            return records
        finally:
            await consumer.stop()

    async def events(self, context: str = "leads") -> list[Envelope[DomainEvent]]:
        """The decoded events on a context's topic (per-customer order is kept)."""
        records = await self.read_topic(self.topics.name(context))
        records.sort(key=lambda r: (r.partition, r.offset))
        return [decode(r.value, r.headers) for r in records]

    async def eventually(
        self, probe: Callable[[], Awaitable[Any]], *, within_s: float = 30.0, what: str = "it"
    ) -> Any:
        return await eventually(probe, within_s=within_s, what=what)

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

        result: list[DomainEvent] = await eventually(probe, within_s=within_s, what=what)
        return result


@pytest.fixture
async def leads(
    kafka_bootstrap: str, pg_dsn: str, pg_schema: str, topic_prefix: str, create_topics: Any
) -> AsyncIterator[LeadsService]:
    settings = LeadsSettings(
        kafka_bootstrap=kafka_bootstrap,
        pg_dsn=pg_dsn,
        db_schema=pg_schema,
        topic_prefix=topic_prefix,
        relay_poll_interval_s=0.2,
        consumer_batch_timeout_ms=50,
        log_json=False,
    )
    await migrate_service(DEFINITION, settings)
    topics = TopicRegistry(topic_prefix)
    await create_topics(*topics.all())
    app = build_app(DEFINITION, settings)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://leads") as http:
                yield LeadsService(app, http, settings, topics, kafka_bootstrap, producer)
    finally:
        await producer.stop()
