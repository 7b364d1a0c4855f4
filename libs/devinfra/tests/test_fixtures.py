"""The pytest fixtures hand out real, isolated Kafka topics and PostgreSQL schemas."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from dealerflow.contracts.topics import TopicRegistry
from dealerflow.devinfra import pytest_plugin
from dealerflow.devinfra.config import InfraError
from dealerflow.devinfra.service_testing import service_settings
from dealerflow.runtime.kafka_admin import describe_topic_configs
from dealerflow.runtime.settings import ServiceSettings

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
    monkeypatch.delenv("DEALERFLOW_PG_MIGRATION_DSN", raising=False)
    with pytest_plugin._provide("kafka", {}) as bootstrap:
        assert bootstrap == "kafka.example:9092"
    with pytest_plugin._provide("postgres", {}) as dsn:
        assert dsn == "postgresql://u@db.example/x"
    # as `dealerflow-infra env` prints them: tests use the owner, not the app role
    monkeypatch.setenv("DEALERFLOW_PG_MIGRATION_DSN", "postgresql://owner@db.example/x")
    with pytest_plugin._provide("postgres", {}) as dsn:
        assert dsn == "postgresql://owner@db.example/x"


async def test_the_app_role_exists_and_owns_nothing(pg_dsn: str, pg_app_dsn: str) -> None:
    conn = await asyncpg.connect(pg_app_dsn)
    try:
        role = await conn.fetchrow(
            "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
    finally:
        await conn.close()
    assert tuple(role) == ("dealerflow_app", False, False)


def test_unknown_mode_fails_instead_of_skipping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEALERFLOW_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.setenv("DEALERFLOW_TEST_INFRA", "cloud")
    with (
        pytest.raises(pytest.fail.Exception, match="use auto, docker or native"),
        pytest_plugin._provide("kafka", {}),
    ):
        pass


def test_a_failing_container_falls_back_to_the_native_test_profile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Docker answers but the image cannot start (e.g. no registry): use native servers."""
    monkeypatch.delenv("DEALERFLOW_PG_DSN", raising=False)
    monkeypatch.delenv("DEALERFLOW_PG_MIGRATION_DSN", raising=False)  # `make test` exports it
    monkeypatch.delenv("DEALERFLOW_TEST_INFRA", raising=False)
    monkeypatch.setenv("DEALERFLOW_TEST_INFRA_PG_PORT", "25999")

    @contextlib.contextmanager
    def broken_container() -> Iterator[str]:
        raise RuntimeError("pull access denied")
        yield "never"

    started: list[int] = []
    monkeypatch.setattr(pytest_plugin, "docker_engine_answers", lambda: True)
    monkeypatch.setattr(pytest_plugin, "_postgres_container", broken_container)
    monkeypatch.setattr(
        "dealerflow.devinfra.postgres.start", lambda cfg, progress: started.append(cfg.pg_port)
    )
    sources: dict[str, str] = {}
    with pytest_plugin._provide("postgres", sources) as dsn:
        assert dsn == "postgresql://postgres@127.0.0.1:25999/dealerflow"
    assert started == [25999]
    assert "native test profile" in sources["postgres"]


def test_forcing_docker_without_an_engine_fails_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DEALERFLOW_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.setenv("DEALERFLOW_TEST_INFRA", "docker")
    monkeypatch.setattr(pytest_plugin, "docker_engine_answers", lambda: False)
    with (
        pytest.raises(pytest.fail.Exception, match="no Docker engine answers"),
        pytest_plugin._provide("kafka", {}),
    ):
        pass


def test_native_failure_fails_the_test_with_what_was_tried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DEALERFLOW_KAFKA_BOOTSTRAP", raising=False)
    monkeypatch.setenv("DEALERFLOW_TEST_INFRA", "native")

    def no_java(cfg: object, progress: object) -> None:
        raise InfraError("java not found")

    monkeypatch.setattr("dealerflow.devinfra.kafka.start", no_java)
    with (
        pytest.raises(pytest.fail.Exception, match="native test profile failed: java not found"),
        pytest_plugin._provide("kafka", {}),
    ):
        pass


async def test_create_topics_compacts_the_dealers_topic_of_the_tests_prefix(
    kafka_bootstrap: str, create_topics: pytest_plugin.TopicCreator, topic_prefix: str
) -> None:
    topics = TopicRegistry(topic_prefix)
    dealers = topics.name("dealers")
    await create_topics(dealers, topics.dlq(dealers), partitions=1)
    described = await describe_topic_configs(
        kafka_bootstrap, [dealers, topics.dlq(dealers)], ["cleanup.policy"]
    )
    assert described == {
        dealers: {"cleanup.policy": "compact"},
        topics.dlq(dealers): {"cleanup.policy": "delete"},
    }


def test_services_under_test_run_as_the_app_role_and_migrate_as_the_owner() -> None:
    settings = service_settings(
        ServiceSettings,
        pg_dsn="postgresql://postgres@127.0.0.1:15432/dealerflow",
        pg_schema="t_x",
        kafka_bootstrap="k:9092",
        topic_prefix="t.",
    )
    assert (
        settings.pg_dsn == "postgresql://dealerflow_app:dealerflow_app@127.0.0.1:15432/dealerflow"
    )
    assert settings.pg_migration_dsn == "postgresql://postgres@127.0.0.1:15432/dealerflow"
    assert settings.pg_app_role == "dealerflow_app"
    assert settings.unknown_dealers == "defaults"
