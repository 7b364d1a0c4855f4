"""Implausible times and malformed amounts are refused 422 while the body is validated,
with the field's location, on a real PostgreSQL; the same request with plausible values
is accepted (dealerflow.runtime.time_bounds, runtime.request_models)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

PART = {
    "dealer_id": "D001",
    "description": "机油滤清器 Oil filter",
    "category": "common",
    "unit_price": {"amount": "68.00", "currency": "CNY"},
    "reorder_point": 5,
}


def booking(**overrides: Any) -> dict[str, Any]:
    return {
        "dealer_id": "D001",
        "customer": {
            "name": "张伟",
            "phone": "+86 139 0013 9000",
            "consent": {"service": True, "marketing": False},
        },
        "vin": "LSVAU2180N2183294",
        "work_type": "maintenance",
        "intake_channel": "phone",
        "slot_start": "2025-03-04T01:30:00Z",  # tomorrow 09:30 in Shanghai
        "concerns": ["20000 km 保养"],
        **overrides,
    }


def refused(response: httpx.Response) -> tuple[list[str], str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    [error] = response.json()["errors"]
    assert error["msg"]  # the reason
    return error["loc"], error["type"]


async def test_a_booking_decades_away_is_422_and_tomorrow_is_booked(
    api: httpx.AsyncClient, outbox: Any
) -> None:
    for slot in ("2999-03-04T01:30:00Z", "1990-03-04T01:30:00Z", "2031-03-04T01:30:00Z"):
        response = await api.post("/v1/service-appointments", json=booking(slot_start=slot))
        assert refused(response) == (["body", "slot_start"], "implausible_time"), slot
    assert await outbox.events() == []
    booked = await api.post("/v1/service-appointments", json=booking())
    assert booked.status_code == 201, booked.text


async def test_a_part_price_with_fractions_of_cents_or_a_sign_is_422(
    api: httpx.AsyncClient,
) -> None:
    for amount, kind in (("68.001", "amount_precision"), ("-68.00", "value_error")):
        price = {"amount": amount, "currency": "CNY"}
        response = await api.put("/v1/parts/OF-1001", json={**PART, "unit_price": price})
        assert refused(response) == (["body", "unit_price", "amount"], kind), amount
    created = await api.put("/v1/parts/OF-1001", json=PART)
    assert created.status_code == 201, created.text
    assert created.json()["unit_price"] == {"amount": "68.00", "currency": "CNY"}
