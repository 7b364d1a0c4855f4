"""The running sales service end to end: HTTP -> PostgreSQL outbox -> relay -> Kafka."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest

from dealerflow.contracts.envelope import decode
from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.identity import customer_id_for
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.devinfra.service_testing import TopicReader, running_service
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.telemetry import setup_tracing
from dealerflow.sales.app import DEFINITION
from dealerflow.sales.settings import SalesSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def running_sales(
    sales_settings: SalesSettings, clock: ManualClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The whole service (relay and timer poller included) behind an HTTP client."""
    # A tracer of our own, as `serve` sets one up: events then carry the request's trace.
    tracer_provider = setup_tracing("sales", None, set_global=False)
    async with running_service(
        DEFINITION, sales_settings, clock=clock, tracer_provider=tracer_provider
    ) as sales:
        yield sales.client


def _has_delivery(records: list[Any]) -> bool:
    return any(
        dict(r.headers).get("ce_type") == VehicleDelivered.event_type.encode() for r in records
    )


async def test_sign_pay_deliver_publishes_vehicle_delivered_to_kafka(
    running_sales: httpx.AsyncClient,
    sales_settings: SalesSettings,
    contract_body: Callable[..., dict[str, Any]],
    full_checklist: dict[str, Any],
    clock: ManualClock,
    pg_pool: asyncpg.Pool,
    record_pdi: Callable[..., Awaitable[httpx.Response]],
) -> None:
    api = running_sales
    signed = await api.post(
        "/v1/contracts", json=contract_body(), headers={"Idempotency-Key": "k1"}
    )
    assert signed.status_code == 201, signed.text
    contract_id = signed.json()["contract_id"]
    paid = await api.post(
        f"/v1/contracts/{contract_id}/payments",
        json={
            "dealer_id": "D001",
            "kind": "full",
            "method": "bank_transfer",
            "amount": {"amount": "200000.00", "currency": "CNY"},
        },
    )
    assert paid.status_code == 201, paid.text
    await record_pdi(api, contract_id)
    # A refused delivery first: it must leave no trace on the topic.
    missing_keys = dict(full_checklist, documents=full_checklist["documents"][:-1])
    refused = await api.post(
        f"/v1/contracts/{contract_id}/deliver",
        json={"dealer_id": "D001", "checklist": missing_keys, "odometer_km": 10},
    )
    assert refused.status_code == 409
    assert refused.json()["missing"] == ["keys"]
    delivered = await api.post(
        f"/v1/contracts/{contract_id}/deliver",
        json={"dealer_id": "D001", "checklist": full_checklist, "odometer_km": 10},
    )
    assert delivered.status_code == 200, delivered.text

    topic = TopicRegistry(sales_settings.topic_prefix).name("sales")
    async with TopicReader(sales_settings.kafka_bootstrap, topic) as reader:
        records = await reader.until(_has_delivery, what=f"VehicleDelivered on {topic}")
    customer_id = customer_id_for("default", "+8613800138000")
    # One customer's events share a key, hence a partition, hence their order.
    assert [dict(r.headers)["ce_type"].decode() for r in records] == [
        "dealerflow.sales.ContractSigned.v1",
        "dealerflow.sales.PaymentReceived.v1",
        "dealerflow.sales.VehicleDelivered.v1",
    ]
    record = records[-1]
    assert record.key == str(customer_id).encode()
    headers = dict(record.headers)
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_source"] == b"/dealerflow/sales"
    assert headers["ce_dealerid"] == b"D001"
    assert headers["content-type"] == b"application/json"
    delivery_id = delivered.json()["delivery"]["delivery_id"]
    assert headers["ce_subject"] == delivery_id.encode()
    assert headers["ce_id"]
    assert headers["traceparent"].startswith(b"00-")

    envelope = decode(record.value, record.headers)
    event = envelope.event
    assert isinstance(event, VehicleDelivered)
    assert event.customer_id == customer_id
    assert event.dealer_id == "D001"
    assert event.contract_id == contract_id
    assert event.delivery_id == delivery_id
    assert event.vin == "LSVAU2180N2183294"
    assert event.model == "Aurora X5"
    assert event.consultant_id == "consultant-li"
    assert event.odometer_km == 10
    assert event.delivered_at == clock.now()
    assert event.pdi_passed is True
    assert [d.value for d in event.documents] == full_checklist["documents"]
    assert event.contact.name == "王芳"
    assert event.contact.phone == "+8613800138000"
    assert event.contact.preferred_channel == "wechat"
    assert event.contact.consent.service is True
    assert event.contact.consent.marketing is False

    # The relay deletes what Kafka acknowledged: nothing is left behind.
    deadline = time.monotonic() + 10
    while await pg_pool.fetchval("SELECT count(*) FROM outbox"):
        assert time.monotonic() < deadline, "outbox rows left behind after publishing"
        await asyncio.sleep(0.1)
