"""The chaos suite's short version in CI (``make chaos-short``): the six services under
the mixed load, each killed with SIGKILL at a random moment and restarted; every
expected effect there exactly once, none early (docs/reliability.md)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # ``chaos`` is a top-level package, like ``bench``
    sys.path.insert(0, str(ROOT))

from chaos.scenarios import ScenarioResult  # noqa: E402
from dealerflow.devinfra.services import SERVICES  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]


def test_kill9_of_every_service_loses_duplicates_and_hurries_nothing(
    short_scenario: Callable[[str], ScenarioResult],
) -> None:
    result = short_scenario("kill9")  # 0 lost, 0 duplicated, 0 early, all recovered
    assert {f.target for f in result.faults} == {s.name for s in SERVICES}, result.table()
