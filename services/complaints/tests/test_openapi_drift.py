"""The committed docs/openapi/complaints.json matches the service's OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.routing import iter_route_contexts

from dealerflow.complaints.app import DEFINITION
from dealerflow.devinfra.service_testing import assert_openapi_committed
from dealerflow.runtime.auth import allowed_roles
from dealerflow.runtime.service import build_app

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "complaints.json"


def test_committed_openapi_is_current() -> None:
    assert_openapi_committed(DEFINITION, COMMITTED)


def test_openapi_documents_every_endpoint() -> None:
    paths = json.loads(COMMITTED.read_text(encoding="utf-8"))["paths"]
    actions = ("acknowledge", "assign", "inform", "resolve", "close", "reopen", "pause", "resume")
    expected = {
        "/v1/complaints": {"get", "post"},
        "/v1/complaints/stats": {"get"},
        "/v1/complaints/analysis": {"get"},
        "/v1/complaints/export.csv": {"get"},
        "/v1/improvement-actions": {"get", "post"},
        "/v1/improvement-actions/{action_id}": {"get"},
        "/v1/improvement-actions/{action_id}/completion": {"post"},
        "/v1/complaints/{complaint_id}": {"get"},
        "/v1/complaints/{complaint_id}/clocks": {"get"},
        **{f"/v1/complaints/{{complaint_id}}/{a}": {"post"} for a in actions},
        "/v1/complaints/{complaint_id}/investigation": {"get"},
        "/v1/complaints/{complaint_id}/confirmation": {"post"},
    }
    assert {path: set(ops) for path, ops in paths.items()} == expected


def test_every_v1_route_declares_its_roles() -> None:
    app = build_app(DEFINITION, DEFINITION.settings_factory(), run_background=False)
    v1 = [
        ctx
        for ctx in iter_route_contexts(app.routes)
        if ctx.path is not None and ctx.path.startswith("/v1")
    ]
    # 4 of opening and reading, 8 actions, the clocks, the investigation and the
    # confirmation step, analysis and export, 4 of improvement actions
    assert len(v1) == 21
    undeclared = [ctx.path for ctx in v1 if allowed_roles(ctx.original_route) is None]
    assert undeclared == []


def test_an_unknown_complaint_is_documented() -> None:
    # schemathesis (tests/api) found the 404 of GET /v1/complaints/{id} undocumented
    paths = json.loads(COMMITTED.read_text(encoding="utf-8"))["paths"]
    assert "404" in paths["/v1/complaints/{complaint_id}"]["get"]["responses"]
