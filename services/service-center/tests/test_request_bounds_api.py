"""The service center refuses a booking decades away (or before 2000) and a part price
with fractions of cents or a sign: 422 naming the field, nothing booked; tomorrow's slot
and a price in cents are taken (real PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dealerflow.devinfra.service_testing import refused_field

pytestmark = pytest.mark.integration

PRICE = {"amount": "68.00", "currency": "CNY"}
PART = {"dealer_id": "D001", "description": "Oil filter", "category": "common"}
PART |= {"unit_price": PRICE, "reorder_point": 5}
TOMORROW = "2025-03-04T01:30:00Z"  # 09:30 in Shanghai; the service's clock reads today


def booking(ro_body: Callable[..., dict[str, Any]], slot_start: str) -> dict[str, Any]:
    """A service appointment for the customer and vehicle of a repair-order body."""
    visit = ro_body()
    common = {k: visit[k] for k in ("dealer_id", "customer", "vin")}
    return common | {
        "work_type": "maintenance",
        "intake_channel": "phone",
        "slot_start": slot_start,
    }


async def test_a_booking_decades_away_is_422_and_tomorrow_is_booked(
    api: httpx.AsyncClient, outbox: Any, ro_body: Callable[..., dict[str, Any]]
) -> None:
    for slot in ("2999-03-04T01:30:00Z", "1990-03-04T01:30:00Z", "2031-03-04T01:30:00Z"):
        response = await api.post("/v1/service-appointments", json=booking(ro_body, slot))
        assert refused_field(response) == (["body", "slot_start"], "implausible_time"), slot
    assert await outbox.events() == []
    booked = await api.post("/v1/service-appointments", json=booking(ro_body, TOMORROW))
    assert booked.status_code == 201, booked.text


async def test_a_part_price_with_fractions_of_cents_or_a_sign_is_422(
    api: httpx.AsyncClient,
) -> None:
    for amount, kind in (("68.001", "amount_precision"), ("-68.00", "value_error")):
        price = {"amount": amount, "currency": "CNY"}
        response = await api.put("/v1/parts/OF-1001", json={**PART, "unit_price": price})
        assert refused_field(response) == (["body", "unit_price", "amount"], kind), amount
    created = await api.put("/v1/parts/OF-1001", json=PART)
    assert created.status_code == 201, created.text
    assert created.json()["unit_price"] == PRICE
