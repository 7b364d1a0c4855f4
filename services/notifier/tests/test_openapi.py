"""The committed OpenAPI document (docs/openapi/notifier.json) matches the code.

Regenerate after an API change: ``uv run dealerflow-notifier openapi > docs/openapi/notifier.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.routing import iter_route_contexts

from dealerflow.devinfra.service_testing import assert_openapi_committed
from dealerflow.notifier.app import DEFINITION
from dealerflow.runtime.auth import allowed_roles, is_public
from dealerflow.runtime.service import build_app

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "notifier.json"


def test_committed_openapi_document_is_current() -> None:
    assert_openapi_committed(DEFINITION, COMMITTED)


def test_the_task_api_staff_front_ends_use_is_documented() -> None:
    paths = json.loads(COMMITTED.read_text(encoding="utf-8"))["paths"]
    params = {p["name"] for p in paths["/v1/tasks"]["get"]["parameters"]}
    assert {"dealer_id", "assignee", "customer_id", "status", "due_from", "due_to"} <= params
    assert {"limit", "cursor"} <= params
    assert "post" in paths["/v1/tasks/{task_id}/complete"]
    assert not [path for path in paths if path.startswith("/v1/dealers/")]  # dealers service


def test_every_v1_route_declares_its_roles() -> None:
    app = build_app(DEFINITION, DEFINITION.settings_factory(), run_background=False)
    v1 = [
        ctx
        for ctx in iter_route_contexts(app.routes)
        if ctx.path is not None and ctx.path.startswith("/v1")
    ]
    # tasks (list, one, complete, manual, claim, snooze, reassign), notifications, reminders,
    # customer tier, consents (record, current, history), inbound SMS, the unsubscribe link
    # (page, confirm: public), delivery receipts (aliyun, tencent, twilio, wechat check and
    # push: public), weather warnings, the care calendar (read, preview)
    assert len(v1) == 24
    undeclared = [
        ctx.path
        for ctx in v1
        if allowed_roles(ctx.original_route) is None and not is_public(ctx.original_route)
    ]
    assert undeclared == []
