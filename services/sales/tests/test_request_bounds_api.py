"""Implausible times and malformed amounts are refused 422 while the body is validated,
with the field's location, on a real PostgreSQL; the same request with plausible values
is accepted (dealerflow.runtime.time_bounds, runtime.request_models)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

QUOTE = {
    "dealer_id": "D001",
    "customer_phone": "13800138000",
    "consultant_id": "consultant-li",
    "vehicle": {"model": "Aurora X5", "configuration": "Luxury", "colour": "white"},
    "vehicle_price": "200000.00",
    "discount": "5000.00",
}


def visit(customer: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    contact = {k: v for k, v in customer.items() if k not in ("address", "id_document_verified")}
    return {
        "dealer_id": "D001",
        "customer": contact,
        "consultant_id": "consultant-li",
        "arrived_at": "2025-03-03T01:30:00Z",  # the service's clock reads 02:00
        "needs": {"budget": {"amount": "250000.00", "currency": "CNY"}},
        **overrides,
    }


def refused(response: httpx.Response) -> tuple[list[str], str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/validation-error")
    [error] = response.json()["errors"]
    assert error["msg"]  # the reason
    return error["loc"], error["type"]


async def test_a_visit_dated_far_away_or_a_budget_with_fractions_of_cents_is_422(
    api: httpx.AsyncClient, outbox: Any, customer_body: Callable[..., dict[str, Any]]
) -> None:
    customer = customer_body()
    for body, loc, kind in (
        (visit(customer, arrived_at="2999-01-01T00:00:00Z"), ["body", "arrived_at"], "time"),
        (visit(customer, arrived_at="1970-01-01T00:00:00Z"), ["body", "arrived_at"], "time"),
        (
            visit(customer, left_at="2035-03-03T02:00:00Z"),  # a departure ten years ahead
            ["body", "left_at"],
            "time",
        ),
        (
            visit(customer, needs={"budget": {"amount": "250000.005", "currency": "CNY"}}),
            ["body", "needs", "budget", "amount"],
            "amount_precision",
        ),
    ):
        where, error_type = refused(await api.post("/v1/visits", json=body))
        assert where == loc
        assert error_type == ("implausible_time" if kind == "time" else kind)
    assert await outbox.events() == []
    accepted = await api.post("/v1/visits", json=visit(customer))
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["needs"]["budget"] == {"amount": "250000.00", "currency": "CNY"}


async def test_a_quote_amount_beyond_the_columns_or_with_three_decimals_is_422(
    api: httpx.AsyncClient,
) -> None:
    too_large = await api.post("/v1/quotes", json=dict(QUOTE, vehicle_price="1000000000000"))
    assert refused(too_large) == (["body", "vehicle_price"], "amount_too_large")
    cents = await api.post("/v1/quotes", json=dict(QUOTE, discount="5000.001"))
    assert refused(cents) == (["body", "discount"], "amount_precision")
    issued = await api.post("/v1/quotes", json=QUOTE)
    assert issued.status_code == 201, issued.text
    assert issued.json()["discount"] == {"amount": "5000.00", "currency": "CNY"}
