"""Fixture ``infra``: a fresh schema, topics and settings per test (see guarantee_service.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from dealerflow.contracts.topics import TopicRegistry
from dealerflow.runtime.migrations import migrate, runtime_migrations
from dealerflow.runtime.settings import ServiceSettings
from tests.integration.guarantee_service import TABLES, Infra


@pytest.fixture
async def infra(
    kafka_bootstrap: str,
    pg_dsn: str,
    pg_schema: str,
    pg_pool: asyncpg.Pool,
    topic_prefix: str,
    create_topics: Callable[..., Awaitable[None]],
) -> AsyncIterator[Infra]:
    await migrate(pg_dsn, pg_schema, runtime_migrations())
    await pg_pool.execute(TABLES)
    topics = TopicRegistry(topic_prefix)
    await create_topics(topics.name("leads"), topics.dlq(topics.name("leads")), partitions=3)
    settings = ServiceSettings(
        service_name="guarantees",
        kafka_bootstrap=kafka_bootstrap,
        pg_dsn=pg_dsn,
        db_schema=pg_schema,
        topic_prefix=topic_prefix,
        consumer_max_retries=2,
        consumer_batch_timeout_ms=50,
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    env = Infra(kafka_bootstrap, pg_dsn, pg_schema, pg_pool, topics, settings, producer)
    try:
        yield env
    finally:
        await env.close()
        await producer.stop()
