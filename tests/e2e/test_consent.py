"""Consent on the running notifier (its own process, as the non-owner database role, so
row-level security holds): staff record an opt-out and read it back with its history; the
SMS gateway's STOP is recorded under the integration role; a made-up unsubscribe link is
refused without a token."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.e2e.conftest import ISSUER


def _as(roles: list[str], dealer_id: str, sub: str) -> dict[str, str]:
    token = ISSUER.token(sub=sub, roles=roles, dealers=[dealer_id])
    return {"Authorization": f"Bearer {token}"}


async def test_consent_routes_on_the_running_notifier(stack: Any, dealer_id: str) -> None:
    customer = uuid.uuid4()
    async with httpx.AsyncClient(base_url=stack.urls["notifier"], timeout=30) as http:
        staff = _as(["customer_relations"], dealer_id, "cr-wang")
        url = f"/v1/customers/{customer}/consents"
        recorded = await http.post(
            url,
            params={"dealer_id": dealer_id},
            json={"purpose": "marketing", "channel": "email", "granted": False},
            headers={**staff, "Idempotency-Key": "e2e-1"},
        )
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["recorded_by"] == "cr-wang"
        current = await http.get(url, params={"dealer_id": dealer_id}, headers=staff)
        assert [c["consent_id"] for c in current.json()["current"]] == [
            recorded.json()["consent_id"]
        ]
        history = await http.get(f"{url}/history", params={"dealer_id": dealer_id}, headers=staff)
        assert len(history.json()["items"]) == 1

        gateway = _as(["integration"], dealer_id, "sms-gateway")
        body = {
            "dealer_id": dealer_id,
            "from": "+8613600136000",
            "text": "STOP",
            "received_at": "2026-11-23T10:00:00Z",
        }
        reply = await http.post("/v1/inbound/sms", json=body, headers=gateway)
        assert reply.status_code == 201, reply.text
        assert reply.json()["opt_out"] is True

        forged = await http.get("/v1/unsubscribe/bm90.c2lnbmVk")
        assert forged.status_code == 404
        assert forged.headers["content-type"].startswith("text/html")
