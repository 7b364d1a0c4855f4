"""The committed docs/openapi/complaints.json matches the service's OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path

from dealerflow.complaints.app import DEFINITION
from dealerflow.devinfra.service_testing import assert_openapi_committed

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "complaints.json"


def test_committed_openapi_is_current() -> None:
    assert_openapi_committed(DEFINITION, COMMITTED)


def test_openapi_documents_every_endpoint() -> None:
    paths = json.loads(COMMITTED.read_text(encoding="utf-8"))["paths"]
    actions = ("acknowledge", "assign", "inform", "resolve", "close", "reopen", "pause", "resume")
    expected = {
        "/v1/complaints": {"get", "post"},
        "/v1/complaints/stats": {"get"},
        "/v1/complaints/{complaint_id}": {"get"},
        **{f"/v1/complaints/{{complaint_id}}/{a}": {"post"} for a in actions},
    }
    assert {path: set(ops) for path, ops in paths.items()} == expected
