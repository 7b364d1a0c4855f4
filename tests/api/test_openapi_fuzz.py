"""schemathesis against every service's OpenAPI, in process on the real PostgreSQL.

For each of the six services (tests/api/harness.py), every operation gets the examples,
coverage and fuzzing phases with a manager/GM token of the configured dealer ``D001``:
no answer may be a 5xx, and every answer must have a documented status, content type and
a body matching the documented schema. Bounded for CI (``SCHEMATHESIS_EXAMPLES``
examples per operation, default 10); ``SCHEMATHESIS_EXAMPLES=200`` goes deeper.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.api.harness import CHECKS, SCHEMAS, RunningApps, for_dealer

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "10"))


@schemathesis.pytest.parametrize(**SCHEMAS)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_operation(case: Any, running_apps: RunningApps) -> None:
    service = running_apps.get(_service_of(case))
    for_dealer(case)
    case.call_and_validate(app=service.app, headers=service.headers, checks=CHECKS)


def _service_of(case: Any) -> str:
    for name, loaded in SCHEMAS.items():
        if case.operation.schema.raw_schema is loaded.raw_schema:
            return name.replace("_", "-")
    raise AssertionError(f"no service documents {case.operation.label}")
