"""Submissions PostgreSQL could not store, or nested to exhaust a parser, against real
Kafka + PostgreSQL: NUL or a lone surrogate is 422 with the field, an ADF or JSON document
5,000 deep is 400 with the reason; nothing is stored, and a good submission still works."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.integration

DEALER = "sh-pudong-01"
LEAD: dict[str, Any] = {
    "dealer_id": DEALER,
    "channel": "online",
    "source": "website",
    "customer": {"name": "王芳", "phones": ["13800138000"]},
    "vehicles": [{"make": "BYD", "model": "Seal"}],
}


async def _nothing_stored(leads: Any) -> None:
    listed = await leads.http.get("/v1/leads", params={"dealer_id": DEALER})
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == []


@pytest.mark.parametrize(
    ("content_type", "body", "loc"),
    [
        (
            "application/json",
            {**LEAD, "customer": {"name": "王\u0000芳", "phones": ["13800138000"]}},
            ["body", "customer", "name"],
        ),
        # no content type: the route sniffs JSON, and so does the check
        (None, {**LEAD, "vehicles": [{"make": "BYD", "model": "Seal\udce2"}]}, None),
    ],
)
async def test_an_unstorable_character_is_422_with_the_field(
    leads: Any, content_type: str | None, body: dict[str, Any], loc: list[str] | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    answer = await leads.http.post("/v1/leads", content=json.dumps(body), headers=headers)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["type"].endswith("/validation-error")
    assert problem["errors"][0]["loc"] == (loc or ["body", "vehicles", "0", "model"])
    assert problem["errors"][0]["type"] == "unstorable_character"
    await _nothing_stored(leads)
    assert (await leads.http.post("/v1/leads", json=LEAD)).status_code == 201


async def test_documents_nested_5000_deep_are_400_with_the_reason(leads: Any) -> None:
    adf = (
        b'<?xml version="1.0"?><adf><prospect><customer><contact>'
        b"<phone>13800138000</phone></contact></customer>"
        + b"<x>" * 5000
        + b"</x>" * 5000
        + b"</prospect></adf>"
    )
    answer = await leads.http.post("/v1/leads", content=adf, headers={"Content-Type": "text/xml"})
    assert answer.status_code == 400, answer.text
    assert answer.json()["detail"] == "document nested deeper than 32 elements"
    deep_json = json.dumps(LEAD)[:-1] + ', "extra": ' + "[" * 5000 + "]" * 5000 + "}"
    answer = await leads.http.post(
        "/v1/leads", content=deep_json, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["type"].endswith("/nesting-too-deep")
    await _nothing_stored(leads)
