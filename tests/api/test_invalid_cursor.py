"""One status for one mistake: every list operation of every service answers a cursor it
did not make with 422 ``invalid-cursor`` (issue 15 item 3)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from schemathesis.python.asgi import get_client

from tests.api.harness import DEALER, DOCS, SERVICES, RunningApps

pytestmark = pytest.mark.integration


def _paged_operations() -> list[tuple[str, str, list[dict[str, Any]]]]:
    found = []
    for name in SERVICES:
        document = json.loads((DOCS / f"{name}.json").read_text(encoding="utf-8"))
        for path, operations in document["paths"].items():
            parameters = operations.get("get", {}).get("parameters", [])
            if any(p["name"] == "cursor" and p["in"] == "query" for p in parameters):
                found.append((name, path, parameters))
    return found


PAGED = _paged_operations()


def _value(parameter: dict[str, Any]) -> str:
    if parameter["name"] == "dealer_id":
        return DEALER
    if parameter["schema"].get("format") == "uuid":
        return str(uuid.uuid4())
    return "G001"


def test_every_service_has_paged_lists() -> None:
    assert {name for name, _, _ in PAGED} == set(SERVICES)


@pytest.mark.parametrize(
    ("service", "path", "parameters"), PAGED, ids=[f"{s} {p}" for s, p, _ in PAGED]
)
def test_an_invalid_cursor_is_422(
    service: str, path: str, parameters: list[dict[str, Any]], running_apps: RunningApps
) -> None:
    running = running_apps.get(service)
    url = path
    query = {"cursor": "not-a-cursor!"}
    for parameter in parameters:
        if parameter.get("required") and parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", _value(parameter))
        elif parameter.get("required") and parameter["in"] == "query":
            query[parameter["name"]] = _value(parameter)
    with get_client(running.app) as client:
        answer = client.get(url, params=query, headers=running.headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["type"].endswith("/invalid-cursor"), answer.text
