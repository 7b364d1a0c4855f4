"""Merging duplicate leads over HTTP against real Kafka + PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.events.leads import LeadMerged
from dealerflow.devinfra.tokens import auth_header

pytestmark = pytest.mark.integration

DEALER = "cd-jinjiang-02"
Q = {"dealer_id": DEALER}


async def submit(leads: Any, phone: str, name: str = "刘洋") -> dict[str, Any]:
    body = {"dealer_id": DEALER, "customer": {"name": name, "phones": [phone]}}
    answer = await leads.http.post("/v1/leads", json=body, params={"consultant_id": "c-1"})
    assert answer.status_code in (200, 201), answer.text
    result: dict[str, Any] = answer.json()
    return result


async def test_a_merged_lead_joins_the_survivor(leads: Any) -> None:
    survivor = await submit(leads, "13900001111")
    duplicate = await submit(leads, "13900002222")
    entry = {
        "channel": "phone",
        "outcome": "reached",
        "grade_after": "B",
        "next_contact_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
    }
    logged = await leads.http.post(
        f"/v1/leads/{duplicate['lead_id']}/contacts", params=Q, json=entry
    )
    assert logged.status_code == 201, logged.text

    manager = auth_header(roles=["sales-manager"], dealers=[DEALER], sub="sm-1")
    path = f"/v1/leads/{survivor['lead_id']}/merge"
    body = {"merged_lead_ids": [duplicate["lead_id"]]}
    consultant = auth_header(roles=["consultant"], dealers=[DEALER])
    assert (await leads.http.post(path, params=Q, json=body, headers=consultant)).status_code == 403
    answer = await leads.http.post(path, params=Q, json=body, headers=manager)
    assert answer.status_code == 200, answer.text
    assert answer.json()["touch_count"] == 2

    events = await leads.wait_for_events(
        lambda es: any(isinstance(e, LeadMerged) for e in es), what="LeadMerged"
    )
    (merged,) = [e for e in events if isinstance(e, LeadMerged)]
    assert merged.lead_id == survivor["lead_id"]
    assert merged.merged_lead_ids == [duplicate["lead_id"]]
    assert [str(c) for c in merged.merged_customer_ids] == [duplicate["customer_id"]]
    assert str(merged.customer_id) == survivor["customer_id"]

    kept = (await leads.http.get(f"/v1/leads/{survivor['lead_id']}", params=Q)).json()
    assert [c["grade_after"] for c in kept["contacts"]] == ["B"]  # the duplicate's history
    assert len(kept["submissions"]) == 2
    closed = (await leads.http.get(f"/v1/leads/{duplicate['lead_id']}", params=Q)).json()
    assert (closed["status"], closed["merged_into"]) == ("merged", survivor["lead_id"])
    assert closed["contacts"] == []

    # the duplicate's number now reaches the survivor: a touch, not a new lead
    again = await submit(leads, "13900002222")
    assert (again["lead_id"], again["created"]) == (survivor["lead_id"], False)

    # refusals: into itself, a lead merged already, an unknown lead
    itself = await leads.http.post(path, params=Q, json={"merged_lead_ids": [survivor["lead_id"]]})
    assert itself.status_code == 409
    assert itself.json()["type"].endswith("/merge-refused")
    twice = await leads.http.post(path, params=Q, json=body)
    assert twice.status_code == 409
    unknown = {"merged_lead_ids": ["00000000-0000-4000-8000-000000000001"]}
    assert (await leads.http.post(path, params=Q, json=unknown)).status_code == 404
