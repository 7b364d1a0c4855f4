"""The running service-center end to end: HTTP -> PostgreSQL outbox -> relay -> Kafka."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

import httpx
import pytest

from dealerflow.contracts.enums import ServiceTier
from dealerflow.contracts.envelope import decode
from dealerflow.contracts.events.service import ServiceTierChanged, VehicleHandedOver
from dealerflow.contracts.identity import customer_id_for
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.devinfra.service_testing import TopicReader, running_service
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.telemetry import setup_tracing
from dealerflow.service_center.app import DEFINITION
from dealerflow.service_center.settings import ServiceCenterSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def running_center(
    center_settings: ServiceCenterSettings, clock: ManualClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The whole service (relay and timer poller included) behind an HTTP client."""
    tracer_provider = setup_tracing("service-center", None, set_global=False)
    async with running_service(
        DEFINITION, center_settings, clock=clock, tracer_provider=tracer_provider
    ) as center:
        yield center.client


def _has_tier(records: list[Any]) -> bool:
    wanted = ServiceTierChanged.event_type.encode()
    return any(dict(r.headers).get("ce_type") == wanted for r in records)


async def test_open_complete_check_hand_over_reaches_the_service_topic(
    running_center: httpx.AsyncClient,
    center_settings: ServiceCenterSettings,
    ro_body: Callable[..., dict[str, Any]],
    clock: ManualClock,
) -> None:
    api = running_center
    opened = await api.post("/v1/repair-orders", json=ro_body())
    assert opened.status_code == 201, opened.text
    ro_id = opened.json()["repair_order_id"]

    async def step(name: str, **fields: Any) -> httpx.Response:
        return await api.post(
            f"/v1/repair-orders/{ro_id}/{name}", json={"dealer_id": "D001", **fields}
        )

    done = await step(
        "complete", technician_ids=["tech-sun"], work_summary="oil and filter", labour_hours="1.0"
    )
    assert done.status_code == 200, done.text
    refused = await step("handover")
    assert refused.status_code == 409
    assert refused.json()["missing"] == ["quality_check_not_passed"]
    assert (await step("quality-check", inspector_id="qc-qian", passed=True)).status_code == 200
    handed = await step("handover", mileage_km=20002)
    assert handed.status_code == 200, handed.text

    topic = TopicRegistry(center_settings.topic_prefix).name("service")
    async with TopicReader(center_settings.kafka_bootstrap, topic) as reader:
        records = await reader.until(_has_tier, what=f"ServiceTierChanged on {topic}")
    assert [dict(r.headers)["ce_type"].decode() for r in records] == [
        "dealerflow.service.RepairOrderOpened.v1",
        "dealerflow.service.RepairCompleted.v1",
        "dealerflow.service.QualityCheckPassed.v1",
        "dealerflow.service.VehicleHandedOver.v1",
        "dealerflow.service.ServiceTierChanged.v1",  # the customer's first tier
    ]
    tier = decode(records[-1].value, records[-1].headers).event
    assert isinstance(tier, ServiceTierChanged)
    assert (tier.tier, tier.previous_tier, tier.visits_last_12_months) == (ServiceTier.C, None, 1)
    record = records[-2]
    customer_id = customer_id_for("default", "+8613900139000")
    assert record.key == str(customer_id).encode()
    headers = dict(record.headers)
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_source"] == b"/dealerflow/service-center"
    assert headers["ce_dealerid"] == b"D001"
    assert headers["ce_subject"] == ro_id.encode()
    assert headers["content-type"] == b"application/json"
    assert headers["traceparent"].startswith(b"00-")
    event = decode(record.value, record.headers).event
    assert isinstance(event, VehicleHandedOver)
    assert event.customer_id == customer_id
    assert event.repair_order_id == ro_id
    assert event.vin == "LSVAU2180N2183294"
    assert event.advisor_id == "advisor-zhao"
    assert event.handed_over_at == clock.now()
    assert event.mileage_km == 20002
    assert event.work_type == "maintenance"
    assert event.next_maintenance_due_on == date(2026, 3, 3)
    assert event.next_maintenance_due_km == 30002
    assert event.contact.phone == "+8613900139000"
    assert event.contact.consent.service is True
