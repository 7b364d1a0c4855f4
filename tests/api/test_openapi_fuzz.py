"""schemathesis against every service's OpenAPI, in process on the real PostgreSQL.

For each of the six services (tests/api/harness.py), every operation gets the examples,
coverage and fuzzing phases with a manager/GM token of the configured dealer ``D001``:
no answer may be a 5xx, and every answer must have a documented status, content type and
a body matching the documented schema. Bounded for CI (``SCHEMATHESIS_EXAMPLES``
examples per operation, default 10); ``SCHEMATHESIS_EXAMPLES=200`` goes deeper.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.harness import DEALER, SERVICES, RunningApps

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "10"))

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "openapi"


def _schema(name: str) -> Any:
    # The committed documents (the services' drift tests keep them equal to the apps').
    document = json.loads((DOCS / f"{name}.json").read_text(encoding="utf-8"))
    return schemathesis.openapi.from_dict(document)


SCHEMAS = {name.replace("-", "_"): _schema(name) for name in SERVICES}


def _for_dealer(case: Any) -> None:
    """Requests name the token's dealer, so they reach the use cases (not only 403)."""
    if isinstance(case.body, dict) and "dealer_id" in case.body:
        case.body["dealer_id"] = DEALER
    if isinstance(case.query, dict) and "dealer_id" in case.query:
        case.query["dealer_id"] = DEALER
    if isinstance(case.path_parameters, dict) and "dealer_id" in case.path_parameters:
        case.path_parameters["dealer_id"] = DEALER


@schemathesis.pytest.parametrize(**SCHEMAS)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_operation(case: Any, running_apps: RunningApps) -> None:
    service = running_apps.get(_service_of(case))
    _for_dealer(case)
    case.call_and_validate(app=service.app, headers=service.headers, checks=CHECKS)


def _service_of(case: Any) -> str:
    for name, loaded in SCHEMAS.items():
        if case.operation.schema.raw_schema is loaded.raw_schema:
            return name.replace("_", "-")
    raise AssertionError(f"no service documents {case.operation.label}")
