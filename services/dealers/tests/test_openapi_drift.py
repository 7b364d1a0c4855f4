"""The committed docs/openapi/dealers.json matches the service's OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path

from dealerflow.dealers.app import DEFINITION
from dealerflow.devinfra.service_testing import assert_openapi_committed

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "dealers.json"


def test_committed_openapi_is_current() -> None:
    assert_openapi_committed(DEFINITION, COMMITTED)


def test_openapi_documents_every_endpoint() -> None:
    paths = json.loads(COMMITTED.read_text(encoding="utf-8"))["paths"]
    change = {"get", "put", "patch"}
    expected = {
        "/v1/dealers": {"get"},
        "/v1/dealers/{dealer_id}": change,
        "/v1/dealers/{dealer_id}/history": {"get"},
        "/v1/dealers/{dealer_id}/calendar/years/{year}": {"put"},
        **{
            f"/v1/dealers/{{dealer_id}}/{s}": change
            for s in ("profile", "calendar", "rules", "people")
        },
        "/v1/dealer-groups/{group_id}": change,
        "/v1/dealer-groups/{group_id}/history": {"get"},
        "/v1/dealer-groups/{group_id}/calendar/years/{year}": {"put"},
        **{f"/v1/dealer-groups/{{group_id}}/{s}": change for s in ("calendar", "rules", "people")},
    }
    assert {path: set(ops) for path, ops in paths.items()} == expected
    patch = paths["/v1/dealers/{dealer_id}"]["patch"]["requestBody"]["content"]
    assert set(patch) == {"application/merge-patch+json", "application/json"}
