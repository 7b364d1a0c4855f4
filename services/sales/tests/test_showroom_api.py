"""Quotes and test drives through the HTTP API on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dealerflow.contracts.events.sales import (
    DiscountApprovalRequested,
    QuoteIssued,
    TestDriveScheduled,
)
from dealerflow.devinfra.tokens import auth_header

pytestmark = pytest.mark.integration

QUOTE = {
    "dealer_id": "D001",
    "customer_phone": "13800138000",
    "consultant_id": "consultant-li",
    "vehicle": {"model": "Aurora X5", "configuration": "Luxury", "colour": "white"},
    "vehicle_price": "200000.00",
    "discount": "5000.00",
    "insurance": "6000.00",
    "registration_fee": "500.00",
    "accessories": [{"name": "floor mats", "unit_price": "300.00", "quantity": 2}],
    "extended_warranty": "2000.00",
}


async def test_quote_within_policy_is_issued_without_approval(
    api: httpx.AsyncClient, outbox: Any
) -> None:
    response = await api.post("/v1/quotes", json=QUOTE)
    assert response.status_code == 201, response.text
    quote = response.json()
    # (200000 - 5000) / 1.13 x 10 % = 17256.64
    assert quote["purchase_tax"] == {"amount": "17256.64", "currency": "CNY"}
    assert quote["accessories"]["amount"] == "600.00"
    assert quote["total"]["amount"] == "221356.64"
    assert quote["discount_needs_approval"] is False
    assert quote["valid_until"] == "2025-03-10"
    [event] = await outbox.events()
    assert isinstance(event, QuoteIssued)
    assert str(event.total.amount) == "221356.64"
    assert event.quote_id == quote["quote_id"]
    fetched = await api.get(f"/v1/quotes/{quote['quote_id']}", params={"dealer_id": "D001"})
    shown = fetched.json()
    assert shown.pop("approval")["status"] == "not_required"
    assert shown.pop("expired") is False
    assert shown == quote
    other = await api.get(f"/v1/quotes/{quote['quote_id']}", params={"dealer_id": "D009"})
    assert other.status_code == 404


async def test_discount_beyond_threshold_asks_the_sales_manager(
    api: httpx.AsyncClient, outbox: Any
) -> None:
    loan = {
        "method": "loan",
        "down_payment": "60000.00",
        "term_months": 36,
        "annual_rate_percent": "3.5",
    }
    body = dict(QUOTE, discount="10000.01", new_energy=True, payment=loan)
    response = await api.post("/v1/quotes", json=body)
    assert response.status_code == 201, response.text
    quote = response.json()
    assert quote["discount_needs_approval"] is True
    assert quote["purchase_tax"]["amount"] == "0.00"  # NEV: exempt by default
    assert quote["loan"]["principal"]["amount"] == "129999.99"
    assert quote["loan"]["term_months"] == 36
    issued, approval = await outbox.events()
    assert isinstance(issued, QuoteIssued)
    assert isinstance(approval, DiscountApprovalRequested)
    assert approval.approver_id == "sales-manager:D001"
    assert str(approval.policy_threshold.amount) == "10000.00"
    assert approval.approval_id == quote["approval_id"]
    assert issued.payment.loan_amount is not None


async def test_quote_errors_are_422(api: httpx.AsyncClient, outbox: Any) -> None:
    too_much = await api.post("/v1/quotes", json=dict(QUOTE, discount="250000.00"))
    assert too_much.status_code == 422
    assert "discount exceeds" in too_much.text
    nobody = {k: v for k, v in QUOTE.items() if k != "customer_phone"}
    assert (await api.post("/v1/quotes", json=nobody)).status_code == 422
    half_loan = dict(QUOTE, payment={"method": "loan", "term_months": 12})
    assert (await api.post("/v1/quotes", json=half_loan)).status_code == 422
    assert await outbox.types() == []


def drive(customer: dict[str, Any], start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {
        "dealer_id": "D001",
        "customer": {
            k: v for k, v in customer.items() if k not in ("address", "id_document_verified")
        },
        "vehicle_id": "TD-01",
        "model": "Aurora X5",
        "consultant_id": "consultant-li",
        "starts_at": start,
        "ends_at": end,
        "licence": {"number": "310101199001011234", "expires_on": "2030-01-01"},
        **extra,
    }


async def test_test_drives_are_never_double_booked(
    api: httpx.AsyncClient, outbox: Any, customer_body: Callable[..., dict[str, Any]]
) -> None:
    person = customer_body()
    first = await api.post(
        "/v1/test-drives", json=drive(person, "2025-03-04T02:00:00Z", "2025-03-04T03:00:00Z")
    )
    assert first.status_code == 201, first.text
    assert first.json()["licence_number_masked"].endswith("1234")
    assert "3101011990" not in first.text

    clash = await api.post(
        "/v1/test-drives", json=drive(person, "2025-03-04T02:30:00Z", "2025-03-04T03:30:00Z")
    )
    assert clash.status_code == 409
    assert clash.json()["conflicting_test_drive_ids"] == [first.json()["test_drive_id"]]

    adjacent = await api.post(
        "/v1/test-drives", json=drive(person, "2025-03-04T03:00:00Z", "2025-03-04T04:00:00Z")
    )
    assert adjacent.status_code == 201
    other_car = await api.post(
        "/v1/test-drives",
        json=drive(person, "2025-03-04T02:30:00Z", "2025-03-04T03:30:00Z", vehicle_id="TD-02"),
    )
    assert other_car.status_code == 201

    expired = drive(person, "2025-03-05T02:00:00Z", "2025-03-05T03:00:00Z")
    expired["licence"] = {"number": "310101199001011234", "expires_on": "2025-03-04"}
    refused = await api.post("/v1/test-drives", json=expired)
    assert refused.status_code == 422
    assert "expired" in refused.text
    past = await api.post(
        "/v1/test-drives", json=drive(person, "2025-03-01T02:00:00Z", "2025-03-01T03:00:00Z")
    )
    assert past.status_code == 422

    events = await outbox.events()
    assert [e.type for e in events] == ["TestDriveScheduled"] * 3
    assert isinstance(events[0], TestDriveScheduled)
    assert events[0].contact.phone == "+8613800138000"

    retry_id = str(uuid.uuid4())
    body = drive(person, "2025-03-06T02:00:00Z", "2025-03-06T03:00:00Z", test_drive_id=retry_id)
    assert (await api.post("/v1/test-drives", json=body)).status_code == 201
    assert (await api.post("/v1/test-drives", json=body)).status_code == 200


async def test_concurrent_bookings_of_one_slot_admit_exactly_one(
    api: httpx.AsyncClient, outbox: Any, customer_body: Callable[..., dict[str, Any]]
) -> None:
    person = customer_body()
    responses = await asyncio.gather(
        *(
            api.post(
                "/v1/test-drives",
                json=drive(person, "2025-03-07T02:00:00Z", "2025-03-07T03:00:00Z"),
            )
            for _ in range(4)
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    assert await outbox.types() == ["TestDriveScheduled"]


# --- per-dealer rules in one running service ----------------------------------------------

#: D001 configured nothing (DOMAIN.md defaults); D002 changed its sales rules and lists its
#: managers; D003 has discounts approved by its GM.
DEALERS: dict[str, dict[str, Any]] = {
    "D002": {
        "policy": {
            "sales": {
                "quote_valid_days": 14,
                "discount_approval_threshold_rate": "0.03",
                "test_drive_turnaround": "PT30M",
            }
        },
        "people": {
            "staff": [
                {"staff_id": "m-zhou", "name": "周经理", "roles": ["sales_manager"]},
                {"staff_id": "gm-wu", "roles": ["gm"]},
            ]
        },
    },
    "D003": {
        "policy": {"sales": {"discount_approver_role": "gm"}},
        "people": {"staff": [{"staff_id": "gm-wu", "roles": ["gm"]}]},
    },
}


@pytest.mark.parametrize("dealers", [DEALERS])
async def test_each_dealer_quotes_with_its_own_validity_threshold_and_approver(
    api: httpx.AsyncClient, outbox: Any
) -> None:
    default = await api.post("/v1/quotes", json=dict(QUOTE, discount="8000.00"))
    stricter = await api.post("/v1/quotes", json=dict(QUOTE, dealer_id="D002", discount="8000.00"))
    for dealer in ("D001", "D003"):
        beyond = await api.post(
            "/v1/quotes", json=dict(QUOTE, dealer_id=dealer, discount="10000.01")
        )
        assert beyond.status_code == 201, beyond.text
    # issued Monday 2025-03-03 (Shanghai): valid 7 days by default, 14 at D002
    assert default.status_code == 201, default.text
    assert default.json()["valid_until"] == "2025-03-10"
    assert default.json()["discount_needs_approval"] is False  # 4 % is within 5 %
    assert stricter.json()["valid_until"] == "2025-03-17"
    assert stricter.json()["discount_needs_approval"] is True  # 4 % is beyond 3 %
    events = await outbox.events()
    issued = {e.quote_id: e for e in events if isinstance(e, QuoteIssued)}
    assert str(issued[stricter.json()["quote_id"]].valid_until) == "2025-03-17"
    approvals = {e.dealer_id: e for e in events if isinstance(e, DiscountApprovalRequested)}
    assert set(approvals) == {"D001", "D002", "D003"}
    assert approvals["D002"].approver_id == "m-zhou"  # the dealer's sales manager
    assert str(approvals["D002"].policy_threshold.amount) == "6000.00"
    assert approvals["D003"].approver_id == "gm-wu"  # D003's approver role is the GM
    assert approvals["D001"].approver_id == "sales-manager:D001"  # nobody configured


@pytest.mark.parametrize("dealers", [DEALERS])
async def test_the_test_drive_turnaround_is_the_dealers(
    api: httpx.AsyncClient, customer_body: Callable[..., dict[str, Any]]
) -> None:
    person = customer_body()
    for dealer, back_to_back in (("D001", 201), ("D002", 409)):
        for start, end, expected in (
            ("2025-03-04T02:00:00Z", "2025-03-04T03:00:00Z", 201),
            ("2025-03-04T03:00:00Z", "2025-03-04T04:00:00Z", back_to_back),
            ("2025-03-04T04:30:00Z", "2025-03-04T05:00:00Z", 201),  # after the gap
        ):
            booked = await api.post(
                "/v1/test-drives", json=drive(person, start, end, dealer_id=dealer)
            )
            assert booked.status_code == expected, (dealer, start, booked.text)


async def test_a_consultant_quotes_and_books_as_themselves(
    api: httpx.AsyncClient, outbox: Any, customer_body: Callable[..., dict[str, Any]]
) -> None:
    wu = auth_header(roles=["consultant"], dealers=["D001"], sub="consultant-wu")
    quote = await api.post(
        "/v1/quotes", json={k: v for k, v in QUOTE.items() if k != "consultant_id"}, headers=wu
    )
    assert quote.status_code == 201, quote.text
    assert quote.json()["consultant_id"] == "consultant-wu"
    booked = await api.post(
        "/v1/test-drives",
        json={
            k: v
            for k, v in drive(
                customer_body(), "2025-03-04T02:00:00Z", "2025-03-04T03:00:00Z"
            ).items()
            if k != "consultant_id"
        },
        headers=wu,
    )
    assert booked.status_code == 201, booked.text
    assert booked.json()["consultant_id"] == "consultant-wu"
    assert [(env.event.type, env.meta.actor) for _, env in await outbox.records()] == [
        ("QuoteIssued", "consultant-wu"),
        ("TestDriveScheduled", "consultant-wu"),
    ]
    # Every staff member of the dealer reads them; a token of another dealer finds nothing.
    advisor = auth_header(roles=["advisor"], dealers=["D001"])
    path = f"/v1/quotes/{quote.json()['quote_id']}"
    assert (await api.get(path, params={"dealer_id": "D001"}, headers=advisor)).status_code == 200
    elsewhere = await api.get(
        path, params={"dealer_id": "D002"}, headers=auth_header(roles=["gm"], dealers=["D002"])
    )
    assert elsewhere.status_code == 404
    path = f"/v1/test-drives/{booked.json()['test_drive_id']}"
    assert (await api.get(path, params={"dealer_id": "D001"}, headers=advisor)).status_code == 200
