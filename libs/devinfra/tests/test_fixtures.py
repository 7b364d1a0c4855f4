"""The pytest fixtures hand out real, isolated Kafka topics and PostgreSQL schemas."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from dealerflow.devinfra import pytest_plugin

pytestmark = pytest.mark.integration


async def test_create_topics_is_idempotent_and_sets_partitions(
    kafka_bootstrap: str, create_topics: pytest_plugin.TopicCreator, topic_prefix: str
) -> None:
    names = [f"{topic_prefix}alpha", f"{topic_prefix}beta"]
    await create_topics(*names, partitions=2)
    await create_topics(*names, partitions=2)  # second call: no error, nothing changes
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    assert {t["topic"]: len(t["partitions"]) for t in described} == {n: 2 for n in names}


async def test_pg_pool_works_inside_the_tests_own_schema(
    pg_pool: asyncpg.Pool, pg_schema: str
) -> None:
    async with pg_pool.acquire() as conn:
        assert await conn.fetchval("SELECT current_schema()") == pg_schema
        await conn.execute("CREATE TABLE repair_order (id int PRIMARY KEY)")
        await conn.execute("INSERT INTO repair_order VALUES (1)")
        table = await conn.fetchval("SELECT to_regclass($1)", f'"{pg_schema}".repair_order')
    assert table is not None


def test_topic_prefixes_are_unique(topic_prefix: str) -> None:
    assert topic_prefix.endswith(".dealerflow.")
    assert topic_prefix.startswith("t")


def test_environment_variables_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALERFLOW_KAFKA_BOOTSTRAP", "kafka.example:9092")
    monkeypatch.setenv("DEALERFLOW_PG_DSN", "postgresql://u@db.example/x")
    with pytest_plugin._provide("kafka", {}) as bootstrap:
        assert bootstrap == "kafka.example:9092"
    with pytest_plugin._provide("postgres", {}) as dsn:
        assert dsn == "postgresql://u@db.example/x"


def test_unknown_mode_fails_instead_of_skipping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEALERFLOW_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.setenv("DEALERFLOW_TEST_INFRA", "cloud")
    with (
        pytest.raises(pytest.fail.Exception, match="use auto, docker or native"),
        pytest_plugin._provide("kafka", {}),
    ):
        pass
