"""What every chaos CI entry shares: a scenario at the short scale on the test
infrastructure (``CHAOS_SEED`` replays a seed), checked for what every scenario must
hold: no request given up, 0 lost, 0 duplicated, 0 early, every fault recovered."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # ``chaos`` is a top-level package, like ``bench``
    sys.path.insert(0, str(ROOT))

from chaos.__main__ import run_suite  # noqa: E402
from chaos.scenarios import ScenarioResult  # noqa: E402


@pytest.fixture
def short_scenario(kafka_bootstrap: str, pg_dsn: str) -> Callable[[str], ScenarioResult]:
    """Run one scenario at the short scale and check the common figures."""

    def run(name: str) -> ScenarioResult:
        seed = int(os.environ["CHAOS_SEED"]) if os.environ.get("CHAOS_SEED") else None
        [result] = run_suite(
            [name], scale="short", seed=seed, kafka_bootstrap=kafka_bootstrap, pg_dsn=pg_dsn
        )
        result.check()
        return result

    return run
