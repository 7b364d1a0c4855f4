"""The showroom visit register and the needs analysis through the HTTP API on a real
PostgreSQL: ShowroomVisitRecorded at each step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dealerflow.contracts.enums import VisitKind
from dealerflow.contracts.events.sales import ShowroomVisitRecorded
from dealerflow.devinfra.tokens import auth_header

pytestmark = pytest.mark.integration

NEEDS: dict[str, Any] = {
    "use": "family",
    "budget": {"amount": "250000.00", "currency": "CNY"},
    "body_type": "suv",
    "priorities": ["space", "economy"],
    "urgency": "within_90_days",
}


def visit(customer: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    contact = {k: v for k, v in customer.items() if k not in ("address", "id_document_verified")}
    body: dict[str, Any] = {
        "dealer_id": "D001",
        "customer": contact,
        "consultant_id": "consultant-li",
        "arrived_at": "2025-03-03T01:30:00Z",
        "party_size": 3,
    }
    body.update(overrides)
    return body


async def test_a_first_visit_then_needs_then_departure_each_publish_the_visit(
    api: httpx.AsyncClient, outbox: Any, customer_body: Callable[..., dict[str, Any]]
) -> None:
    response = await api.post("/v1/visits", json=visit(customer_body(), lead_id="lead-7"))
    assert response.status_code == 201, response.text
    recorded = response.json()
    assert recorded["visit_kind"] == "first"
    assert (recorded["party_size"], recorded["lead_id"]) == (3, "lead-7")
    assert (recorded["left_at"], recorded["duration_minutes"], recorded["needs"]) == (
        None,
        None,
        None,
    )
    path = f"/v1/visits/{recorded['visit_id']}"
    needs = await api.post(
        f"{path}/needs", json={"dealer_id": "D001", **NEEDS}, headers={"Idempotency-Key": "n1"}
    )
    assert needs.status_code == 200, needs.text
    assert needs.json()["needs"]["priorities"] == ["space", "economy"]
    again = await api.post(
        f"{path}/needs", json={"dealer_id": "D001", **NEEDS}, headers={"Idempotency-Key": "n1"}
    )
    assert again.json() == needs.json()
    left = await api.post(
        f"{path}/departure", json={"dealer_id": "D001", "left_at": "2025-03-03T02:00:00Z"}
    )
    assert left.status_code == 200, left.text
    assert left.json()["duration_minutes"] == 30
    twice = await api.post(
        f"{path}/departure", json={"dealer_id": "D001", "left_at": "2025-03-03T02:00:00Z"}
    )
    assert twice.status_code == 409, twice.text
    assert twice.json()["type"].endswith("visit-already-left")

    arrival, with_needs, departure = await outbox.events()
    assert all(isinstance(e, ShowroomVisitRecorded) for e in (arrival, with_needs, departure))
    assert {e.visit_id for e in (arrival, with_needs, departure)} == {recorded["visit_id"]}
    assert arrival.visit_kind is VisitKind.FIRST
    assert arrival.needs is None
    assert arrival.contact.phone == "+8613800138000"
    assert with_needs.needs is not None
    assert with_needs.needs.budget is not None
    assert (with_needs.needs.body_type, str(with_needs.needs.budget.amount)) == (
        "suv",
        "250000.00",
    )
    assert departure.duration_minutes == 30
    assert departure.needs == with_needs.needs


async def test_the_register_tells_a_return_visit_and_shows_the_history(
    api: httpx.AsyncClient, customer_body: Callable[..., dict[str, Any]]
) -> None:
    first = await api.post(
        "/v1/visits",
        json=visit(customer_body(), arrived_at="2025-03-01T03:00:00Z", needs=NEEDS),
        headers={"Idempotency-Key": "v1"},
    )
    assert first.status_code == 201, first.text
    retry = await api.post(
        "/v1/visits",
        json=visit(customer_body(), arrived_at="2025-03-01T03:00:00Z", needs=NEEDS),
        headers={"Idempotency-Key": "v1"},
    )
    assert retry.status_code == 200
    assert retry.json() == first.json()
    second = await api.post("/v1/visits", json=visit(customer_body(), party_size=1))
    assert second.json()["visit_kind"] == "return"
    # Another dealer's register knows nothing of the customer: a first visit there.
    elsewhere = await api.post("/v1/visits", json=visit(customer_body(), dealer_id="D002"))
    assert elsewhere.json()["visit_kind"] == "first"

    advisor = auth_header(roles=["advisor"], dealers=["D001"])
    history = await api.get(
        "/v1/visits",
        params={"dealer_id": "D001", "customer_id": first.json()["customer_id"]},
        headers=advisor,
    )
    assert history.status_code == 200, history.text
    visits = history.json()["visits"]
    assert [v["visit_id"] for v in visits] == [second.json()["visit_id"], first.json()["visit_id"]]
    assert visits[1]["needs"]["urgency"] == "within_90_days"
    # Reading is for every staff member; registering is showroom work.
    refused = await api.post("/v1/visits", json=visit(customer_body()), headers=advisor)
    assert refused.status_code == 403
    other = await api.get(f"/v1/visits/{first.json()['visit_id']}", params={"dealer_id": "D002"})
    assert other.status_code == 404


async def test_a_visit_that_does_not_add_up_is_refused_with_the_reasons(
    api: httpx.AsyncClient, outbox: Any, customer_body: Callable[..., dict[str, Any]]
) -> None:
    ahead = await api.post(
        "/v1/visits", json=visit(customer_body(), arrived_at="2025-03-03T05:00:00Z")
    )
    assert ahead.status_code == 422, ahead.text
    # refused while the body is validated (request_max_clock_skew_s), with the field
    [error] = ahead.json()["errors"]
    assert (error["loc"], error["type"]) == (["body", "arrived_at"], "implausible_time")
    repeated = await api.post(
        "/v1/visits",
        json=visit(
            customer_body(),
            left_at="2025-03-03T01:00:00Z",
            needs={"priorities": ["brand", "brand"]},
        ),
    )
    assert repeated.status_code == 422, repeated.text
    assert repeated.json()["errors"] == [
        "left_at is before the arrival",
        "priorities lists a priority more than once",
    ]
    assert await outbox.events() == []
