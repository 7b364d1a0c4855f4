"""Sales refuses a visit dated decades away and an amount with fractions of cents or
beyond its columns (422, the field named) before any use case runs, on a real
PostgreSQL; the same visit or quote with plausible values goes through."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dealerflow.devinfra.service_testing import refused_field as refused

pytestmark = pytest.mark.integration

VEHICLE = {"model": "Aurora X5"}
QUOTE = {"dealer_id": "D001", "customer_phone": "13800138000", "vehicle": VEHICLE}
QUOTE |= {"vehicle_price": "200000.00", "discount": "5000.00"}


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
