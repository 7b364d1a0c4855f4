"""A complaint whose text holds NUL (or a lone surrogate) is refused 422 with the field,
against real PostgreSQL and Kafka: nothing is stored, the next complaint opens."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.integration


async def test_nul_or_a_lone_surrogate_in_a_complaint_is_422_and_nothing_is_stored(
    harness: Any,
) -> None:
    body_of = harness.complaint_body
    refused = []
    for field, text in (("details", "Squeal\u0000 when braking"), ("summary", "Noise \udc9f")):
        # json.dumps escapes both (\u0000, \udc9f), as a client library would send them
        body = json.dumps(body_of(**{field: text})).encode()
        response = await harness.client.post(
            "/v1/complaints", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["type"].endswith("/validation-error")
        refused.append(problem["errors"][0]["loc"])
    nested = await harness.client.post(
        "/v1/complaints",
        content=json.dumps(body_of(contact={"name": "张\u0000伟", "phone": "138 0013 8000"})),
        headers={"Content-Type": "application/json"},
    )
    assert nested.status_code == 422, nested.text
    assert refused == [["body", "details"], ["body", "summary"]]
    assert nested.json()["errors"][0]["loc"] == ["body", "contact", "name"]
    assert await harness.db("SELECT id FROM complaints") == []
    opened = await harness.client.post("/v1/complaints", json=body_of())
    assert opened.status_code == 201, opened.text
