"""Fixtures of the sales tests: the app on a fresh schema, a manual clock, request bodies
(the shared pieces are in dealerflow.devinfra.service_testing)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from dealerflow.devinfra.service_testing import Outbox, running_service, service_settings
from dealerflow.policy import settings_with_overrides
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.context import StaticDealerConfiguration
from dealerflow.sales.app import DEFINITION
from dealerflow.sales.domain_pdi import STANDARD_PDI_ITEMS
from dealerflow.sales.settings import SalesSettings

# 10:00 in Shanghai on a Monday.
START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
VIN = "LSVAU2180N2183294"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def sales_settings(
    pg_dsn: str, pg_schema: str, kafka_bootstrap: str, topic_prefix: str
) -> SalesSettings:
    return service_settings(
        SalesSettings,
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
    sales_settings: SalesSettings, clock: ManualClock, dealers: Mapping[str, Mapping[str, Any]]
) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP API without relay or timers: published events stay in the outbox."""
    environment = {"policy": sales_settings.policy_overrides}
    configured = StaticDealerConfiguration(
        by_dealer={d: settings_with_overrides(environment, o) for d, o in dealers.items()},
        default=settings_with_overrides(environment),
    )
    definition = replace(DEFINITION, dealer_configuration=lambda _: configured)
    async with running_service(
        definition, sales_settings, clock=clock, run_background=False
    ) as sales:
        yield sales.client


@pytest.fixture
def outbox(pg_pool: asyncpg.Pool) -> Outbox:
    """What the service enqueued for Kafka (the relay is off in API tests)."""
    return Outbox(pg_pool)


def customer(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "王芳",
        "phone": "138 0013 8000",
        "preferred_channel": "wechat",
        "wechat_openid": "o-wang-fang",
        "consent": {"service": True, "marketing": False},
        "address": "上海市浦东新区世纪大道 100 号",
        "id_document_verified": True,
    }
    body.update(overrides)
    return body


@pytest.fixture
def contract_body() -> Callable[..., dict[str, Any]]:
    """A valid POST /v1/contracts body; keyword arguments replace top-level fields."""

    def make(**overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "dealer_id": "D001",
            "customer": customer(),
            "consultant_id": "consultant-li",
            "vehicle": {
                "model": "Aurora X5",
                "configuration": "Luxury",
                "colour": "white",
                "vin": VIN,
            },
            "price": {"amount": "200000.00", "currency": "CNY"},
            "payment": {"method": "full_payment"},
            "planned_delivery_on": "2025-03-20",
        }
        body.update(overrides)
        return body

    return make


@pytest.fixture
def full_checklist() -> dict[str, Any]:
    """Every delivery document ready (the PDI is recorded apart: ``record_pdi``)."""
    return dict(FULL_CHECKLIST)


FULL_CHECKLIST = {
    "documents": [
        "certificate_of_conformity",
        "invoice",
        "maintenance_manual",
        "warranty_card",
        "keys",
    ],
}


@pytest.fixture
def customer_body() -> Callable[..., dict[str, Any]]:
    """A valid contract customer; keyword arguments replace fields."""
    return customer


RecordPdi = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
def record_pdi(clock: ManualClock) -> RecordPdi:
    """``await record_pdi(api, contract_id, *failed_items, headers=...)``: a PDI of every
    standard item, inspected now, the named items failed."""

    async def record(
        api: httpx.AsyncClient,
        contract_id: str,
        *failed: str,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        items = [{"item": i, "passed": i not in failed} for i in STANDARD_PDI_ITEMS]
        body = {
            "dealer_id": "D001",
            "inspector_id": "tech-7",
            "inspected_at": clock.now().isoformat(),
            "items": items,
        }
        response = await api.put(
            f"/v1/contracts/{contract_id}/pdi", json=body, headers=dict(headers or {})
        )
        assert response.status_code == 200, response.text
        return response

    return record
