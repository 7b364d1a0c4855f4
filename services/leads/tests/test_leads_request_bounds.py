"""Implausible times and malformed amounts are refused 422 with the field's location,
against real Kafka + PostgreSQL, by the bound the inbound topic's consumer applies
(dealerflow.runtime.time_bounds); the same requests with plausible values go through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.devinfra.service_testing import refused_field as refused

pytestmark = pytest.mark.integration

DEALER = "gz-tianhe-03"


def submission(**overrides: Any) -> dict[str, Any]:
    return {
        "dealer_id": DEALER,
        "customer": {"name": "陈静", "phones": ["13500007777"]},
        **overrides,
    }


async def test_a_submission_requested_in_2999_or_1990_is_422_and_nothing_is_recorded(
    leads: Any,
) -> None:
    for when in ("2999-01-01T00:00:00Z", "1990-06-01T00:00:00+08:00"):
        response = await leads.http.post("/v1/leads", json=submission(requested_at=when))
        assert refused(response) == (["body", "requested_at"], "implausible_time"), when
    listed = await leads.http.get("/v1/leads", params={"dealer_id": DEALER})
    assert listed.json()["items"] == []
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    created = await leads.http.post("/v1/leads", json=submission(requested_at=an_hour_ago))
    assert created.status_code == 201, created.text


async def test_contact_steps_decades_away_and_budgets_with_fractions_of_cents_are_422(
    leads: Any,
) -> None:
    created = await leads.http.post("/v1/leads", json=submission())
    assert created.status_code == 201, created.text
    path = f"/v1/leads/{created.json()['lead_id']}"
    params = {"dealer_id": DEALER}
    now = datetime.now(UTC)
    contact = {"channel": "phone", "outcome": "reached", "consultant_id": "c-he"}
    for field, when in (
        ("contacted_at", now + timedelta(days=1)),  # a contact cannot lie ahead (skew only)
        ("contacted_at", datetime(1990, 1, 1, tzinfo=UTC)),
        ("next_contact_at", now + timedelta(days=6 * 365)),  # plans: up to 5 years
    ):
        body = {**contact, field: when.isoformat()}
        response = await leads.http.post(f"{path}/contacts", params=params, json=body)
        assert refused(response) == (["body", field], "implausible_time"), (field, when)
    booking = {"purpose": "test_drive", "scheduled_for": "2999-03-01T02:00:00Z"}
    response = await leads.http.post(f"{path}/appointments", params=params, json=booking)
    assert refused(response) == (["body", "scheduled_for"], "implausible_time")
    budget = {"budget_min": {"amount": "150000.005", "currency": "CNY"}}
    response = await leads.http.patch(path, params=params, json=budget)
    assert refused(response) == (["body", "budget_min", "amount"], "amount_precision")

    fine = {
        **contact,
        "contacted_at": (now - timedelta(minutes=10)).isoformat(),
        "next_contact_at": (now + timedelta(days=2)).isoformat(),
    }
    logged = await leads.http.post(f"{path}/contacts", params=params, json=fine)
    assert logged.status_code == 201, logged.text
    edited = await leads.http.patch(
        path, params=params, json={"budget_min": {"amount": "150000.00", "currency": "CNY"}}
    )
    assert edited.status_code == 200, edited.text
    detail = await leads.http.get(path, params=params)
    assert len(detail.json()["contacts"]) == 1
