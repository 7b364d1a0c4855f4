"""Dealer configuration materialised from DealerConfigured, on real PostgreSQL and Kafka.

A tiny service (one route reading ``uc.dealer``) runs with the runtime's own dealers
subscription; events reach it through Kafka as the dealers service's would.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
import httpx
import pytest
from fastapi import APIRouter, Depends
from prometheus_client import REGISTRY

from dealerflow.contracts.events.dealers import DealerConfigured
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.devinfra.service_testing import (
    TEST_DEFAULTS,
    configure_dealer,
    eventually,
    kafka_producer,
    produce_event,
)
from dealerflow.policy import settings_with_overrides
from dealerflow.runtime.consumer import EventRouter
from dealerflow.runtime.context import EnvironmentDealerConfiguration
from dealerflow.runtime.dealers import (
    MaterialisedDealerConfiguration,
    StoredConfiguration,
    configuration_of,
    upsert_configuration,
)
from dealerflow.runtime.dlq import read_dead_letters
from dealerflow.runtime.migrations import migrate, runtime_migrations
from dealerflow.runtime.service import (
    DEALERS_SUBSCRIPTION,
    ServiceContext,
    ServiceDefinition,
    Subscription,
    build_app,
    service_context,
)
from dealerflow.runtime.settings import ServiceSettings

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
UNKNOWN_METRIC = "dealerflow_dealer_configuration_unknown_total"
#: what the environment gives a dealer no DealerConfigured has named
ENV_POLICY = {"leads": {"reassign_after_breaches": 4}}


class Settings(ServiceSettings):
    service_name: str = "dealerstest"


def configured(
    dealer_id: str, version: int, name: str, configuration: dict[str, Any] | None = None
) -> DealerConfigured:
    return DealerConfigured(
        dealer_id=dealer_id,
        occurred_at=NOW,
        configuration_version=version,
        configuration=configuration
        or settings_with_overrides({"profile": {"name": name}}).model_dump(mode="json"),
        changed_by="S-admin",
        changed_sections=["profile"],
    )


def unknown_count(service: str) -> float:
    return REGISTRY.get_sample_value(UNKNOWN_METRIC, {"service": service}) or 0.0


@pytest.fixture
async def db(pg_dsn: str, pg_schema: str, pg_pool: asyncpg.Pool) -> asyncpg.Pool:
    await migrate(pg_dsn, pg_schema, runtime_migrations())
    return pg_pool


def stored(dealer_id: str, version: int, name: str) -> StoredConfiguration:
    return StoredConfiguration(
        dealer_id=dealer_id,
        group_id=None,
        configuration_version=version,
        configuration=settings_with_overrides({"profile": {"name": name}}).model_dump(mode="json"),
        configured_at=NOW,
    )


async def test_only_a_newer_version_replaces_the_stored_one(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        assert await upsert_configuration(conn, stored("D1", 2, "v2"))
        assert not await upsert_configuration(conn, stored("D1", 1, "v1"))
        assert not await upsert_configuration(conn, stored("D1", 2, "v2 again"))
        found = await configuration_of(conn, "D1")
        assert found is not None
        assert (found[0], found[1]["profile"]["name"]) == (2, "v2")  # type: ignore[index]
        # the holder of version 2 gets no document back
        assert await configuration_of(conn, "D1", known_version=2) == (2, None)
        assert await upsert_configuration(conn, stored("D1", 3, "v3"))
        assert await configuration_of(conn, "D9") is None


async def test_materialised_configuration_caches_per_version_and_counts_unknown_dealers(
    db: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    defaults = EnvironmentDealerConfiguration(ENV_POLICY)
    dealers = MaterialisedDealerConfiguration(defaults, service="dealerscache")
    async with db.acquire() as conn:
        await upsert_configuration(conn, stored("D1", 1, "Shanghai"))
        first = await dealers.settings(conn, "D1")
        assert first.profile.name == "Shanghai"
        # the environment does not reach into a configured dealer's (complete) settings
        assert first.policy.leads.reassign_after_breaches != 4
        assert await dealers.settings(conn, "D1") is first  # validated once per version
        await upsert_configuration(conn, stored("D1", 2, "Shanghai Pudong"))
        assert (await dealers.settings(conn, "D1")).profile.name == "Shanghai Pudong"

        before = unknown_count("dealerscache")
        with caplog.at_level(logging.WARNING, logger="dealerflow.dealers"):
            for _ in range(3):
                unknown = await dealers.settings(conn, "D2")
                assert unknown is defaults.defaults
        assert unknown.policy.leads.reassign_after_breaches == 4
        assert unknown_count("dealerscache") == before + 3
        assert [r.getMessage() for r in caplog.records if "D2" in r.getMessage()] == [
            "dealer D2 has no configuration (no DealerConfigured seen); using the "
            "environment defaults"
        ]


class NoStatements:
    """A connection that must not be used: the look-up is answered from the cache."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the cached configuration ran conn.{name}")


async def test_a_fresh_configuration_costs_no_statement_and_a_stored_change_ends_it(
    db: asyncpg.Pool,
) -> None:
    now = [100.0]
    dealers = MaterialisedDealerConfiguration(
        EnvironmentDealerConfiguration(),
        service="dealersfresh",
        fresh_for_s=5.0,
        monotonic=lambda: now[0],
    )
    idle: Any = NoStatements()
    async with db.acquire() as conn:
        await upsert_configuration(conn, stored("D1", 1, "v1"))
        assert (await dealers.settings(conn, "D1")).profile.name == "v1"
        assert (await dealers.settings(idle, "D1")).profile.name == "v1"
        assert (await dealers.settings(conn, "D2")).profile.name != "v1"  # unknown: defaults
        assert await dealers.settings(idle, "D2") is dealers.defaults.defaults
        # a row written behind the process's back is seen once the copy is stale
        await upsert_configuration(conn, stored("D1", 2, "v2"))
        now[0] += 4.9
        assert (await dealers.settings(idle, "D1")).profile.name == "v1"
        assert dealers.fresh("D1") is not None  # what dealer_group_of answers from
        now[0] += 0.1
        assert dealers.fresh("D1") is None
        assert (await dealers.settings(conn, "D1")).profile.name == "v2"
        assert (await dealers.settings(idle, "D1")).profile.name == "v2"
        # the process stored a newer version itself: the next look-up reads it, until
        # it is committed and found
        async with conn.transaction():
            await upsert_configuration(conn, stored("D1", 3, "v3"))
            dealers.changed("D1", 3)
            async with db.acquire() as other:  # not committed yet: still v2, not kept
                assert (await dealers.settings(other, "D1")).profile.name == "v2"
                assert (await dealers.settings(other, "D1")).profile.name == "v2"
        assert (await dealers.settings(conn, "D1")).profile.name == "v3"
        assert (await dealers.settings(idle, "D1")).profile.name == "v3"
        dealers.changed("D2", 1)  # a dealer's first configuration ends its defaults too
        await upsert_configuration(conn, stored("D2", 1, "two"))
        assert (await dealers.settings(conn, "D2")).profile.name == "two"


async def test_a_stored_configuration_this_release_refuses_gets_the_defaults_loudly(
    db: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    defaults = EnvironmentDealerConfiguration(ENV_POLICY)
    dealers = MaterialisedDealerConfiguration(defaults, service="dealersinvalid")
    metric = "dealerflow_dealer_configuration_invalid_total"
    before = REGISTRY.get_sample_value(metric, {"service": "dealersinvalid"}) or 0.0
    older = stored("D1", 1, "Shanghai")
    older.configuration["policy"]["contact"]["marketing_cap"] = -1  # refused by this release
    async with db.acquire() as conn:
        await upsert_configuration(conn, older)
        with caplog.at_level(logging.ERROR, logger="dealerflow.dealers"):
            for _ in range(3):
                assert await dealers.settings(conn, "D1") is defaults.defaults
        after = REGISTRY.get_sample_value(metric, {"service": "dealersinvalid"})
        assert after == before + 1  # once per stored version, not per look-up
        assert len([r for r in caplog.records if "not valid here" in r.getMessage()]) == 1
        # a newer, valid version replaces the defaults at once
        await upsert_configuration(conn, stored("D1", 2, "Shanghai Pudong"))
        assert (await dealers.settings(conn, "D1")).profile.name == "Shanghai Pudong"


async def test_configure_dealer_writes_what_the_service_reads(db: asyncpg.Pool) -> None:
    dealers = MaterialisedDealerConfiguration(EnvironmentDealerConfiguration())
    settings = await configure_dealer(
        db, "D7", {"policy": {"leads": {"reassign_after_breaches": 5}}}
    )
    async with db.acquire() as conn:
        assert await dealers.settings(conn, "D7") == settings
    assert settings.policy.leads.reassign_after_breaches == 5
    with pytest.raises(AssertionError, match="pass a higher version"):
        await configure_dealer(db, "D7", {}, version=1)
    again = await configure_dealer(db, "D7", {"profile": {"name": "Seven"}}, version=2)
    async with db.acquire() as conn:
        assert (await dealers.settings(conn, "D7")).profile.name == "Seven"
    assert again.policy.leads.reassign_after_breaches != 5  # a configuration is complete


def definition(**parts: Any) -> ServiceDefinition[Settings]:
    """A service of the test (its migrations are not applied: the tests migrate)."""
    return ServiceDefinition(
        name="dealerstest",
        title="dealers test",
        settings_factory=Settings,
        migrations_package="dealerflow.runtime.sql",
        **parts,
    )


def test_every_service_subscribes_to_the_dealers_topic() -> None:
    own = Subscription("reactions", ("sales",), router=EventRouter())
    service = definition(subscriptions=lambda ctx: [own])
    app = build_app(service, Settings(), run_background=False)
    assert service.all_subscriptions(app.state.ctx) == [own, DEALERS_SUBSCRIPTION]
    assert isinstance(app.state.ctx.dealers, MaterialisedDealerConfiguration)
    clash = Subscription("dealers", ("sales",), router=EventRouter())
    with pytest.raises(ValueError, match="unique"):
        definition(subscriptions=lambda ctx: [clash]).all_subscriptions(app.state.ctx)


Ctx = Annotated[ServiceContext[Settings], Depends(service_context)]


def reading_service() -> ServiceDefinition[Settings]:
    router = APIRouter()

    @router.get("/dealers/{dealer_id}")
    async def dealer(ctx: Ctx, dealer_id: str) -> dict[str, Any]:
        settings = await ctx.run_in_transaction(lambda uc: uc.dealer(dealer_id))
        return settings.model_dump(mode="json")

    return definition(routers=lambda ctx: [router])


@pytest.fixture
async def topics(topic_prefix: str, create_topics: Callable[..., Awaitable[None]]) -> TopicRegistry:
    registry = TopicRegistry(topic_prefix)
    dealers_topic = registry.name("dealers")
    await create_topics(dealers_topic, registry.dlq(dealers_topic), partitions=3)
    return registry


@pytest.fixture
async def running(
    db: asyncpg.Pool, pg_dsn: str, pg_schema: str, kafka_bootstrap: str, topics: TopicRegistry
) -> AsyncIterator[Callable[..., Awaitable[httpx.AsyncClient]]]:
    """Starts the reading service on demand (after the test has produced its events),
    with ``overrides`` of its settings."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(**overrides: Any) -> httpx.AsyncClient:
            settings = Settings(
                **{
                    **TEST_DEFAULTS,
                    "pg_dsn": pg_dsn,
                    "db_schema": pg_schema,
                    "kafka_bootstrap": kafka_bootstrap,
                    "topic_prefix": topics.prefix,
                    "policy_overrides": ENV_POLICY,
                    "dealer_defaults": {"profile": {"name": "Any dealer"}},
                    "consumer_max_retries": 5,
                    **overrides,
                }
            )
            app = build_app(reading_service(), settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            return await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://t")
            )

        yield start


async def test_a_service_materialises_dealer_configured_from_the_compacted_topic(
    db: asyncpg.Pool,
    kafka_bootstrap: str,
    topics: TopicRegistry,
    running: Callable[[], Awaitable[httpx.AsyncClient]],
) -> None:
    invalid = configured("D1", 3, "bad").configuration
    invalid["policy"]["leads"]["no_such_rule"] = 1
    async with kafka_producer(kafka_bootstrap) as producer:
        # One key, one partition, this order; all published before the service starts,
        # so its new consumer group must read the topic from the beginning.
        for event, event_id in (
            (configured("D1", 2, "Shanghai v2"), "v2"),
            (configured("D1", 1, "Shanghai v1"), "v1"),  # late: older than v2
            (configured("D1", 3, "bad", invalid), "bad"),
            (configured("D1", 3, "Shanghai v3"), "v3"),  # the partition moved on
        ):
            await produce_event(producer, topics, event, event_id=event_id)
        client = await running()

        async def version() -> Any:
            return await db.fetchval(
                "SELECT configuration_version FROM dealer_configurations WHERE dealer_id = 'D1'"
            )

        await eventually(lambda: _equals(version, 3), "D1 at version 3")
        row = await db.fetchrow("SELECT * FROM dealer_configurations WHERE dealer_id = 'D1'")
        assert json.loads(row["configuration"])["profile"]["name"] == "Shanghai v3"
        assert row["configured_at"] == NOW

        # a redelivery (same event id), a repeat (new id, same version), a late v1 again
        for event, event_id in (
            (configured("D1", 3, "Shanghai v3"), "v3"),  # the same event again
            (configured("D1", 1, "Shanghai v1"), "v1-again"),
            (configured("D1", 3, "repeated"), "v3-repeat"),
        ):
            await produce_event(producer, topics, event, event_id=event_id)

    async def repeat_consumed() -> Any:
        return await db.fetchval("SELECT count(*) FROM inbox WHERE event_id = 'v3-repeat'")

    await eventually(repeat_consumed, "the repeated v3 consumed")
    again = await db.fetchrow("SELECT * FROM dealer_configurations WHERE dealer_id = 'D1'")
    assert dict(again) == dict(row)  # nothing changed, not even received_at

    # the invalid configuration was dead-lettered at once, with its cause
    dlq_topic = topics.dlq(topics.name("dealers"))

    async def dead_letters() -> Any:
        return await read_dead_letters(kafka_bootstrap, dlq_topic, timeout_s=1)

    (letter,) = await eventually(dead_letters, "the invalid configuration on the DLQ")
    assert letter.header("ce_id") == "bad"
    assert letter.error is not None
    assert letter.error.startswith("UnprocessableEvent: dealer D1 configuration version 3")
    assert "no_such_rule" in letter.error
    assert letter.header("dlq-attempts") == "1"

    before = unknown_count("dealerstest")
    d1 = (await client.get("/dealers/D1")).json()
    d2 = (await client.get("/dealers/D2")).json()
    assert d1["profile"]["name"] == "Shanghai v3"
    assert d2["profile"]["name"] == "Any dealer"  # dealer_defaults
    assert d2["policy"]["leads"]["reassign_after_breaches"] == 4  # policy_overrides
    assert unknown_count("dealerstest") == before + 1


async def _equals(probe: Callable[[], Awaitable[Any]], expected: Any) -> bool:
    return await probe() == expected


async def test_a_dealer_configured_changes_the_next_request_despite_the_cache(
    db: asyncpg.Pool,
    kafka_bootstrap: str,
    topics: TopicRegistry,
    running: Callable[..., Awaitable[httpx.AsyncClient]],
) -> None:
    # a cache far longer than the test: only the consumer's word can end it
    client = await running(dealer_configuration_cache_s=60.0)
    async with kafka_producer(kafka_bootstrap) as producer:
        await produce_event(producer, topics, configured("D1", 1, "Shanghai v1"), event_id="c1")
        await eventually(lambda: _consumed(db, "c1"), "v1 materialised")
        assert (await client.get("/dealers/D1")).json()["profile"]["name"] == "Shanghai v1"
        assert (await client.get("/dealers/D1")).json()["profile"]["name"] == "Shanghai v1"
        await produce_event(producer, topics, configured("D1", 2, "Shanghai v2"), event_id="c2")
        await eventually(lambda: _consumed(db, "c2"), "v2 materialised")
    # the first request after the commit already has the new configuration
    assert (await client.get("/dealers/D1")).json()["profile"]["name"] == "Shanghai v2"


async def _consumed(db: asyncpg.Pool, event_id: str) -> bool:
    found = await db.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", event_id)
    return bool(found)
