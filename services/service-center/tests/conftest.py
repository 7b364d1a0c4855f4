"""Fixtures of the service-center tests: the app on a fresh schema, a manual clock (the
shared pieces are in dealerflow.devinfra.service_testing)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from dealerflow.devinfra.service_testing import (
    Outbox,
    RunningService,
    kafka_producer,
    running_service,
    service_settings,
)
from dealerflow.policy import settings_with_overrides
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.context import StaticDealerConfiguration
from dealerflow.service_center.app import DEFINITION
from dealerflow.service_center.settings import ServiceCenterSettings

# 10:00 in Shanghai on a Monday.
START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def center_settings(
    pg_dsn: str, pg_schema: str, kafka_bootstrap: str, topic_prefix: str
) -> ServiceCenterSettings:
    return service_settings(
        ServiceCenterSettings,
        pg_dsn=pg_dsn,
        pg_schema=pg_schema,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        policy_overrides={},
    )


@pytest.fixture
def dealers() -> Mapping[str, Mapping[str, Any]]:
    """The dealers' own configurations, ``{dealer_id: partial DealerSettings}``, over the
    environment defaults; dealers not listed get the defaults. A test sets them with
    ``@pytest.mark.parametrize("dealers", [{...}])``."""
    return {}


@pytest.fixture
async def api(
    center_settings: ServiceCenterSettings,
    clock: ManualClock,
    dealers: Mapping[str, Mapping[str, Any]],
) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP API without relay or timers: published events stay in the outbox."""
    environment = {"policy": center_settings.policy_overrides}
    configured = StaticDealerConfiguration(
        by_dealer={d: settings_with_overrides(environment, o) for d, o in dealers.items()},
        default=settings_with_overrides(environment),
    )
    definition = replace(DEFINITION, dealer_configuration=lambda _: configured)
    async with running_service(
        definition, center_settings, clock=clock, run_background=False
    ) as center:
        yield center.client


@pytest.fixture
def outbox(pg_pool: asyncpg.Pool) -> Outbox:
    """What the service enqueued for Kafka (the relay is off in API tests)."""
    return Outbox(pg_pool)


@pytest.fixture
def ro_body() -> Callable[..., dict[str, Any]]:
    """A valid POST /v1/repair-orders body (maintenance visit); kwargs replace fields."""

    def make(**overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "dealer_id": "D001",
            "customer": {
                "name": "张伟",
                "phone": "+86 139 0013 9000",
                "consent": {"service": True, "marketing": False},
            },
            "vin": "LSVAU2180N2183294",
            "model": "Aurora X5",
            "advisor_id": "advisor-zhao",
            "mileage_km": 20000,
            "concerns": ["20000 km 保养"],
        }
        body.update(overrides)
        return body

    return make


@pytest.fixture
def workflow(api: httpx.AsyncClient) -> Callable[..., Any]:
    """``await step(ro_id, "complete", **fields)``: POST a step, return the response
    (``headers=auth_header(...)`` acts as someone other than the admin)."""

    async def step(
        ro_id: str, name: str, *, headers: dict[str, str] | None = None, **fields: Any
    ) -> httpx.Response:
        body = {"dealer_id": "D001", **fields}
        return await api.post(f"/v1/repair-orders/{ro_id}/{name}", json=body, headers=headers)

    return step


@pytest.fixture
async def center(
    center_settings: ServiceCenterSettings, clock: ManualClock
) -> AsyncIterator[RunningService]:
    """The whole service on Kafka: its consumers, the relay and the erasure consumer run
    (the timer poller is driven by the tests)."""
    async with running_service(DEFINITION, center_settings, clock=clock) as service:
        yield service


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    """A Kafka producer for events from other systems."""
    async with kafka_producer(kafka_bootstrap) as started:
        yield started
