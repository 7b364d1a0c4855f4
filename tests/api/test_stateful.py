"""schemathesis's stateful phase: sequences of calls along the links it infers between
each service's operations (a created resource's id fed to the operations on it), with
the checks of tests/api/test_openapi_fuzz.py on every answer. Bounded for CI
(``SCHEMATHESIS_STATEFUL_EXAMPLES`` scenarios of up to 10 steps per service, default 5).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.api.harness import CHECKS, SCHEMAS, RunningApps, for_dealer

pytestmark = pytest.mark.integration

SCENARIOS = int(os.environ.get("SCHEMATHESIS_STATEFUL_EXAMPLES", "5"))


@pytest.mark.parametrize("service", sorted(SCHEMAS))
def test_stateful(service: str, running_apps: RunningApps) -> None:
    running = running_apps.get(service.replace("_", "-"))
    base = SCHEMAS[service].as_state_machine()

    class Scenario(base):  # type: ignore[misc,valid-type]
        def before_call(self, case: Any) -> None:
            for_dealer(case)
            calls.append(case.operation.label)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"app": running.app, "headers": running.headers}

        def validate_response(self, response: Any, case: Any, *_: Any, **__: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    calls: list[str] = []
    Scenario.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
    )
    # the scenarios ran and some followed a link (more than one distinct operation)
    print(f"{service}: {len(calls)} calls, {len(set(calls))} operations")
    assert len(set(calls)) > 1, calls
