"""Opening complaints over HTTP against real PostgreSQL and Kafka."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from dealerflow.contracts.events.complaints import ComplaintOpened
from dealerflow.contracts.identity import customer_id_for

pytestmark = pytest.mark.integration


async def test_open_publishes_complaint_opened_and_starts_four_clocks(harness: Any) -> None:
    created = await harness.open_complaint(severity="high")
    cid = created["id"]
    assert created["status"] == "opened"
    # customer id by the contracts identity rule (default dealer group) from the phone
    assert created["customer_id"] == str(customer_id_for("default", "+8613800138000"))
    assert created["contact"]["phone"] == "+8613800138000"

    clocks = {c["kind"]: c for c in created["clocks"]}
    assert set(clocks) == {"acknowledge", "first_update", "resolve", "inform"}
    assert all(c["status"] == "running" for c in clocks.values())
    pending = await harness.pending_timers(f"complaint:{cid}:")
    assert sorted(r["key"] for r in pending) == sorted(
        f"complaint:{cid}:clock:{kind}:0.0"
        for kind in ("acknowledge", "first_update", "resolve", "inform")
    )
    # high severity: 2 business hours to acknowledge from Wed 10:00 Shanghai
    ack_due = next(r["due_at"] for r in pending if ":acknowledge:" in r["key"])
    assert ack_due == harness.start + timedelta(hours=2)

    events = await harness.complaints_events(
        lambda seen: harness.seen_of(ComplaintOpened, cid), what="ComplaintOpened"
    )
    opened = next(e for e in events if isinstance(e.event, ComplaintOpened))
    assert opened.meta.dealer_id == "sh-pudong-01"
    assert opened.meta.source == "/dealerflow/complaints"
    assert opened.event.contact.name == "张伟"
    assert str(opened.event.customer_id) == created["customer_id"]
    assert opened.event.acknowledge_due_at == ack_due
    assert opened.event.origin.kind == "manual"

    fetched = await harness.client.get(
        f"/v1/complaints/{cid}", params={"dealer_id": "sh-pudong-01"}
    )
    assert fetched.status_code == 200
    assert {c["kind"] for c in fetched.json()["clocks"]} == set(clocks)


async def test_idempotency_key_and_client_id_never_open_twice(harness: Any) -> None:
    body = harness.complaint_body()
    headers = {"Idempotency-Key": "call-centre-4711"}
    first = await harness.client.post("/v1/complaints", json=body, headers=headers)
    again = await harness.client.post("/v1/complaints", json=body, headers=headers)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]

    changed = await harness.client.post(
        "/v1/complaints", json={**body, "summary": "Something else"}, headers=headers
    )
    assert changed.status_code == 422
    assert changed.json()["type"].endswith("idempotency-key-reused")

    client_id = str(uuid.uuid4())
    one = await harness.client.post("/v1/complaints", json={**body, "complaint_id": client_id})
    two = await harness.client.post("/v1/complaints", json={**body, "complaint_id": client_id})
    assert (one.status_code, two.status_code) == (201, 200)
    assert one.json()["id"] == two.json()["id"] == client_id
    # another dealer cannot take (or see) that id
    other = await harness.client.post(
        "/v1/complaints", json={**body, "complaint_id": client_id, "dealer_id": "bj-01"}
    )
    assert other.status_code == 422

    rows = await harness.db("SELECT count(*) AS n FROM complaints")
    assert rows[0]["n"] == 2
    timers = await harness.db("SELECT count(*) AS n FROM timers WHERE status = 'pending'")
    assert timers[0]["n"] == 8  # four clocks each, no duplicates


async def test_validation_errors_are_422_problems(harness: Any) -> None:
    bad_phone = await harness.client.post(
        "/v1/complaints", json=harness.complaint_body(contact={"name": "X", "phone": "12"})
    )
    assert bad_phone.status_code == 422
    assert bad_phone.headers["content-type"].startswith("application/problem+json")

    nobody = harness.complaint_body()
    del nobody["contact"]
    assert (await harness.client.post("/v1/complaints", json=nobody)).status_code == 422

    unknown_customer = {**nobody, "customer_id": str(uuid.uuid4())}
    response = await harness.client.post("/v1/complaints", json=unknown_customer)
    assert response.status_code == 422
    assert "no known contact" in response.json()["detail"]

    for field, value in (("channel", "pigeon"), ("summary", ""), ("dealer_id", "no spaces")):
        response = await harness.client.post(
            "/v1/complaints", json=harness.complaint_body(**{field: value})
        )
        assert response.status_code == 422, field
        assert response.json()["errors"], field

    listing = await harness.client.get("/v1/complaints")
    assert listing.status_code == 422  # dealer_id is required
