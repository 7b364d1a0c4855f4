"""Implausible times are refused 422 while the body is validated, with the field's
location, on a real PostgreSQL (HTTP only); the same requests with plausible times go
through (dealerflow.runtime.time_bounds). The notifier's request bodies name no amount."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from dealerflow.devinfra.service_testing import refused_field as refused
from dealerflow.devinfra.tokens import auth_header

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # the ManualClock of the `db` fixture
DEALER = "D001"
AT = {"dealer_id": DEALER}
MANAGER = auth_header(roles=["sales_manager"], dealers=[DEALER], sub="sm-1")
SERVICE_MANAGER = auth_header(roles=["service_manager"], dealers=[DEALER], sub="svm-1")
GATEWAY = auth_header(roles=["integration"], dealers=[DEALER], sub="sms-gateway")


def task(due_at: datetime) -> dict[str, Any]:
    return {
        "customer_id": str(uuid.UUID(int=0xC1)),
        "title": "Call back about the trade-in valuation",
        "due_at": due_at.isoformat(),
    }


def sms(received_at: datetime) -> dict[str, Any]:
    text = "What time do you open on Sunday?"
    return {"dealer_id": DEALER, "from": "+8613912345678", "text": text,
            "received_at": received_at.isoformat()}  # fmt: skip


async def test_a_task_warning_or_sms_dated_far_away_is_422_with_the_field(
    db: Any, api: httpx.AsyncClient
) -> None:
    decades = START + timedelta(days=30 * 365)
    for due in (decades, datetime(1999, 12, 31, tzinfo=UTC)):
        response = await api.post("/v1/tasks", params=AT, json=task(due), headers=MANAGER)
        assert refused(response) == (["body", "due_at"], "implausible_time"), due
    weather = {"kind": "typhoon", "starts_at": decades.isoformat()}
    response = await api.post(
        "/v1/weather-warnings", params=AT, json=weather, headers=SERVICE_MANAGER
    )
    assert refused(response) == (["body", "starts_at"], "implausible_time")
    # a gateway cannot have received a reply an hour from now (clock skew only)
    response = await api.post(
        "/v1/inbound/sms", json=sms(START + timedelta(hours=1)), headers=GATEWAY
    )
    assert refused(response) == (["body", "received_at"], "implausible_time")
    assert await db.pool.fetchval("SELECT count(*) FROM tasks") == 0

    created = await api.post(
        "/v1/tasks", params=AT, json=task(START + timedelta(hours=4)), headers=MANAGER
    )
    assert created.status_code == 201, created.text
    received = await api.post(
        "/v1/inbound/sms", json=sms(START - timedelta(minutes=1)), headers=GATEWAY
    )
    assert received.status_code < 300, received.text
