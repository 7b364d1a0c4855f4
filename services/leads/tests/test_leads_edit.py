"""PATCH /v1/leads/{id} against real Kafka + PostgreSQL: the interest changes, LeadUpdated
(reason edited) names the fields, an edit that changes nothing publishes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from dealerflow.contracts.events.leads import LeadUpdated
from dealerflow.devinfra.tokens import auth_header

pytestmark = pytest.mark.integration

DEALER = "gz-tianhe-03"


async def test_editing_the_interest(leads: Any) -> None:
    body = {"dealer_id": DEALER, "customer": {"name": "陈静", "phones": ["13500002222"]}}
    created = (await leads.http.post("/v1/leads", json=body)).json()
    path, params = f"/v1/leads/{created['lead_id']}", {"dealer_id": DEALER}
    consultant = auth_header(roles=["consultant"], dealers=[DEALER])
    patch = {
        "models": ["Han EV"],
        "budget_max": {"amount": "300000.00", "currency": "CNY"},
        "purchase_horizon": "within_15_days",
        "notes": "prefers a weekend test drive",
    }
    answer = await leads.http.patch(path, params=params, json=patch, headers=consultant)
    assert answer.status_code == 200, answer.text
    interest = answer.json()["interest"]
    assert (interest["models"], interest["purchase_horizon"]) == (["Han EV"], "within_15_days")
    assert interest["budget_max"] == {"amount": "300000.00", "currency": "CNY"}

    def edited(events: list[Any]) -> bool:
        return any(isinstance(e, LeadUpdated) and e.reason == "edited" for e in events)

    events = await leads.wait_for_events(edited, what="LeadUpdated edited")
    (update,) = [e for e in events if isinstance(e, LeadUpdated) and e.reason == "edited"]
    assert update.changed_fields == [
        "interest.models",
        "interest.budget_max",
        "interest.purchase_horizon",
        "interest.notes",
    ]
    assert update.interest is not None
    assert update.interest.notes == "prefers a weekend test drive"

    # the same patch again changes nothing and publishes nothing
    again = await leads.http.patch(path, params=params, json=patch, headers=consultant)
    assert again.status_code == 200
    cleared = await leads.http.patch(path, params=params, json={"notes": None})
    assert cleared.json()["interest"]["notes"] is None
    events = await leads.wait_for_events(
        lambda es: sum(isinstance(e, LeadUpdated) and e.reason == "edited" for e in es) == 2,
        what="the second edit",
    )
    assert [e.changed_fields for e in events if isinstance(e, LeadUpdated)][-1] == [
        "interest.notes"
    ]


async def test_bad_edits_are_4xx(leads: Any) -> None:
    body = {"dealer_id": DEALER, "customer": {"name": "陈静", "phones": ["13500003333"]}}
    created = (await leads.http.post("/v1/leads", json=body)).json()
    path, params = f"/v1/leads/{created['lead_id']}", {"dealer_id": DEALER}
    unknown = await leads.http.patch(path, params=params, json={"colour": "red"})
    assert unknown.status_code == 422
    bad = await leads.http.patch(path, params=params, json={"purchase_horizon": "tomorrow"})
    assert bad.status_code == 422
    missing = await leads.http.patch(
        "/v1/leads/00000000-0000-4000-8000-000000000000", params=params, json={"notes": "x"}
    )
    assert missing.status_code == 404
    relations = auth_header(roles=["customer-relations"], dealers=[DEALER])
    refused = await leads.http.patch(path, params=params, json={"notes": "x"}, headers=relations)
    assert refused.status_code == 403


async def test_a_graded_lead_shows_when_it_said_it_would_order(leads: Any) -> None:
    from datetime import UTC, datetime, timedelta

    await leads.configure(DEALER, {"policy": {"leads": {"purchase_horizon": {"A": "P10D"}}}})
    body = {"dealer_id": DEALER, "customer": {"name": "陈静", "phones": ["13500004444"]}}
    created = (
        await leads.http.post("/v1/leads", json=body, params={"consultant_id": "c-1"})
    ).json()
    path, params = f"/v1/leads/{created['lead_id']}", {"dealer_id": DEALER}
    assert (await leads.http.get(path, params=params)).json()["expected_order_by"] is None
    entry = {
        "channel": "phone",
        "outcome": "reached",
        "grade_after": "A",
        "next_contact_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
    }
    logged = await leads.http.post(f"{path}/contacts", params=params, json=entry)
    assert logged.status_code == 201, logged.text
    lead = (await leads.http.get(path, params=params)).json()
    graded = datetime.fromisoformat(lead["graded_at"])
    assert datetime.fromisoformat(lead["expected_order_by"]) == graded + timedelta(days=10)
