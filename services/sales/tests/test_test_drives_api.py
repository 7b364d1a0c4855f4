"""Test drives in depth through the HTTP API on a real PostgreSQL: the dealer's fleet, the
drive started with the licence checked on the day and the consent signed, completed with
feedback (TestDriveCompleted), cancelled (the slot is free again)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest

from dealerflow.contracts.events.sales import TestDriveCompleted
from dealerflow.devinfra.tokens import auth_header

pytestmark = pytest.mark.integration

D = {"dealer_id": "D001"}
LICENCE = {"number": "310101199001011234", "expires_on": "2030-01-01"}
CONSENT = {"signed_by": "王芳", "signed_at": "2025-03-03T01:55:00Z", "text_version": "TD-2025-01"}


def drive(person: dict[str, Any], start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {
        "dealer_id": "D001",
        "customer": {
            k: v for k, v in person.items() if k not in ("address", "id_document_verified")
        },
        "vehicle_id": "TD-01",
        "model": "Aurora X5",
        "consultant_id": "consultant-li",
        "starts_at": start,
        "ends_at": end,
        "licence": LICENCE,
        **extra,
    }


async def _book(api: httpx.AsyncClient, person: dict[str, Any], **extra: Any) -> str:
    booked = await api.post(
        "/v1/test-drives",
        json=drive(person, "2025-03-03T03:00:00Z", "2025-03-03T04:00:00Z", **extra),
    )
    assert booked.status_code == 201, booked.text
    return str(booked.json()["test_drive_id"])


async def test_a_drive_starts_with_licence_and_consent_and_completes_with_feedback(
    api: httpx.AsyncClient, outbox: Any, customer_body: Callable[..., dict[str, Any]]
) -> None:
    drive_id = await _book(api, customer_body())
    steps = f"/v1/test-drives/{drive_id}"
    early = await api.post(f"{steps}/complete", json={**D, "ratings": {"overall": 5}})
    assert early.status_code == 409
    assert "booked" in early.json()["reason"]

    expired = {**D, "licence": {**LICENCE, "expires_on": "2025-03-02"}, "consent": CONSENT}
    refused = await api.post(f"{steps}/start", json=expired)
    assert refused.status_code == 422
    assert "expired" in refused.text
    missing = await api.post(f"{steps}/start", json={**D, "consent": CONSENT})
    assert missing.status_code == 422
    assert "licence number is missing" in missing.text
    unsigned = await api.post(f"{steps}/start", json={**D, "licence": LICENCE})
    assert unsigned.status_code == 422
    assert "consent" in unsigned.text

    body = {**D, "licence": LICENCE, "consent": CONSENT, "route": "city loop B"}
    key = {"Idempotency-Key": "start-1"}
    started = await api.post(f"{steps}/start", json=body, headers=key)
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "started"
    assert started.json()["route"] == "city loop B"
    assert started.json()["consent"]["text_version"] == "TD-2025-01"
    assert started.json()["licence_checked_at"] is not None
    assert "3101011990" not in started.text
    assert (await api.post(f"{steps}/start", json=body, headers=key)).status_code == 200
    too_late = await api.post(f"{steps}/cancel", json={**D, "reason": "changed mind"})
    assert too_late.status_code == 409

    feedback = {**D, "ratings": {"overall": 4, "vehicle": 5, "consultant": 4}, "notes": "安静"}
    bad = await api.post(f"{steps}/complete", json={**D, "ratings": {"overall": 6}})
    assert bad.status_code == 422
    done = await api.post(f"{steps}/complete", json=feedback, headers={"Idempotency-Key": "c1"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    assert done.json()["feedback"] == {"overall": 4, "vehicle": 5, "consultant": 4, "notes": "安静"}
    again = await api.post(f"{steps}/complete", json=feedback, headers={"Idempotency-Key": "c2"})
    assert again.status_code == 200

    events = await outbox.events()
    assert [e.type for e in events] == ["TestDriveScheduled", "TestDriveCompleted"]
    completed = events[1]
    assert isinstance(completed, TestDriveCompleted)
    assert completed.test_drive_id == drive_id
    assert completed.licence_checked
    assert completed.consent_signed
    assert completed.feedback_rating == 4
    assert completed.feedback == "安静"
    assert completed.licence_valid_until == date.fromisoformat(LICENCE["expires_on"])


async def test_a_cancelled_booking_frees_its_slot(
    api: httpx.AsyncClient, outbox: Any, customer_body: Callable[..., dict[str, Any]]
) -> None:
    person = customer_body()
    drive_id = await _book(api, person)
    clash = await api.post(
        "/v1/test-drives", json=drive(person, "2025-03-03T03:30:00Z", "2025-03-03T04:30:00Z")
    )
    assert clash.status_code == 409
    cancel = {**D, "reason": "customer called off"}
    cancelled = await api.post(f"/v1/test-drives/{drive_id}/cancel", json=cancel)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "customer called off"
    assert (await api.post(f"/v1/test-drives/{drive_id}/cancel", json=cancel)).status_code == 200
    start = {**D, "licence": LICENCE, "consent": CONSENT}
    assert (await api.post(f"/v1/test-drives/{drive_id}/start", json=start)).status_code == 409
    again = await api.post(
        "/v1/test-drives", json=drive(person, "2025-03-03T03:30:00Z", "2025-03-03T04:30:00Z")
    )
    assert again.status_code == 201, again.text
    events = await outbox.events()
    assert [e.type for e in events] == [
        "TestDriveScheduled",
        "TestDriveCancelled",
        "TestDriveScheduled",
    ]
    assert events[1].test_drive_id == drive_id
    assert events[1].scheduled_start.isoformat() == "2025-03-03T03:00:00+00:00"
    window = {**D, "from": "2025-03-03T00:00:00Z", "to": "2025-03-04T00:00:00Z"}
    slots = await api.get("/v1/test-drive-vehicles/TD-01/bookings", params=window)
    assert slots.status_code == 200, slots.text
    assert [(b["starts_at"], b["free_from"]) for b in slots.json()["items"]] == [
        ("2025-03-03T03:30:00Z", "2025-03-03T04:30:00Z")
    ]


async def test_managers_keep_the_fleet_and_only_its_vehicles_in_service_are_booked(
    api: httpx.AsyncClient, customer_body: Callable[..., dict[str, Any]]
) -> None:
    consultant = auth_header(roles=["consultant"], dealers=["D001"], sub="consultant-wu")
    manager = auth_header(roles=["sales_manager"], dealers=["D001"], sub="m-zhou")
    car = {**D, "model": "Aurora X5", "vin": "LSVAU2180N2183294", "plate": "沪A·D1234"}
    denied = await api.put("/v1/test-drive-vehicles/TD-01", json=car, headers=consultant)
    assert denied.status_code == 403
    put = await api.put("/v1/test-drive-vehicles/TD-01", json=car, headers=manager)
    assert put.status_code == 200, put.text
    assert put.json()["in_service"] is True

    person = customer_body()
    await _book(api, person)
    unknown = await api.post(
        "/v1/test-drives",
        json=drive(person, "2025-03-04T03:00:00Z", "2025-03-04T04:00:00Z", vehicle_id="TD-77"),
    )
    assert unknown.status_code == 422
    assert "not in the dealer's test-drive fleet" in unknown.text

    out = {**car, "in_service": False}
    assert (
        await api.put("/v1/test-drive-vehicles/TD-01", json=out, headers=manager)
    ).status_code == 200
    refused = await api.post(
        "/v1/test-drives", json=drive(person, "2025-03-04T03:00:00Z", "2025-03-04T04:00:00Z")
    )
    assert refused.status_code == 422
    assert "out of service" in refused.text

    listed = await api.get("/v1/test-drive-vehicles", params=D, headers=consultant)
    assert [v["vehicle_id"] for v in listed.json()["items"]] == ["TD-01"]
    in_service = await api.get(
        "/v1/test-drive-vehicles", params={**D, "in_service": "true"}, headers=consultant
    )
    assert in_service.json()["items"] == []
    one = await api.get("/v1/test-drive-vehicles/TD-01", params=D, headers=consultant)
    assert one.json()["plate"] == "沪A·D1234"
    gone = await api.delete("/v1/test-drive-vehicles/TD-01", params=D, headers=manager)
    assert gone.status_code == 204
    missing = await api.get("/v1/test-drive-vehicles/TD-01", params=D, headers=consultant)
    assert missing.status_code == 404
