"""pytest fixtures that hand tests real Kafka and PostgreSQL.

Provisional version: reads DEALERFLOW_KAFKA_BOOTSTRAP / DEALERFLOW_PG_DSN. The fallback
chain (testcontainers, then native infrastructure) is added by the devinfra work.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    value = os.environ.get("DEALERFLOW_KAFKA_BOOTSTRAP")
    if not value:
        pytest.fail("no Kafka: set DEALERFLOW_KAFKA_BOOTSTRAP", pytrace=False)
    return value


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    value = os.environ.get("DEALERFLOW_PG_DSN")
    if not value:
        pytest.fail("no PostgreSQL: set DEALERFLOW_PG_DSN", pytrace=False)
    return value


@pytest.fixture
async def pg_schema(pg_dsn: str) -> AsyncIterator[str]:
    """A fresh schema for one test, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(f'CREATE SCHEMA "{name}"')
        yield name
        await conn.execute(f'DROP SCHEMA "{name}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture
async def pg_pool(pg_dsn: str, pg_schema: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool whose connections use the test's own schema as search_path."""
    pool = await asyncpg.create_pool(
        pg_dsn, min_size=1, max_size=10, server_settings={"search_path": pg_schema}
    )
    assert pool is not None
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def topic_prefix() -> str:
    """A topic prefix unique to one test, e.g. ``t3f9a1c2b.dealerflow.``."""
    return f"t{uuid.uuid4().hex[:8]}.dealerflow."


@pytest.fixture
def create_topics(kafka_bootstrap: str) -> Callable[..., Awaitable[None]]:
    """Create topics (idempotently) with the given partition count."""

    async def _create(*names: str, partitions: int = 3) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            new = [
                NewTopic(n, num_partitions=partitions, replication_factor=1)
                for n in names
                if n not in existing
            ]
            if new:
                await admin.create_topics(new)
        finally:
            await admin.close()

    return _create
