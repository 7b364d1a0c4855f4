"""Fixtures of the dealers service tests: the service on real PostgreSQL (the test's own
schema) and Kafka (its own topic prefix). ``dealers`` runs HTTP only, so what it publishes
stays in its outbox for the test to read; ``dealers_live`` runs the relay too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from dealerflow.contracts.events.dealers import DealerConfigured
from dealerflow.dealers.app import DEFINITION
from dealerflow.dealers.settings import DealersSettings
from dealerflow.devinfra.service_testing import (
    Outbox,
    RunningService,
    running_service,
    service_settings,
)


@dataclass
class Dealers(RunningService):
    """The dealers service under test and what it enqueued."""

    async def published(self) -> list[DealerConfigured]:
        """Every DealerConfigured enqueued so far, in order."""
        events = await Outbox(self.pool).events()
        return [e for e in events if isinstance(e, DealerConfigured)]

    async def ok(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """A call that must answer 200; its JSON body."""
        response = await self.client.request(method, path, **kwargs)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def problem(self, method: str, path: str, status: int, **kwargs: Any) -> httpx.Response:
        """A call that must answer ``status`` with a problem."""
        response = await self.client.request(method, path, **kwargs)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        return response


@pytest.fixture
def settings(
    pg_dsn: str, pg_schema: str, kafka_bootstrap: str, topic_prefix: str
) -> DealersSettings:
    return service_settings(
        DealersSettings,
        pg_dsn=pg_dsn,
        pg_schema=pg_schema,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
    )


@pytest.fixture
async def dealers(settings: DealersSettings) -> AsyncIterator[Dealers]:
    async with running_service(DEFINITION, settings, run_background=False) as service:
        yield Dealers(service.app, service.client)
