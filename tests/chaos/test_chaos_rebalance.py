"""The rebalance scenario (docs/reliability.md): its bounce plan, and its short version
in CI, three notifier and two complaints replicas bounced one at a time and all at once
under the mixed load and while the timers fall due; every expected effect there exactly
once (every replica's channel sends counted), none early, nothing complaints owns lost."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # ``chaos`` is a top-level package, like ``bench``
    sys.path.insert(0, str(ROOT))

from chaos.scenario_rebalance import REPLICAS, plan_bounces  # noqa: E402
from chaos.scenarios import ScenarioResult  # noqa: E402

PROCESSES = {
    "notifier": ["notifier", "notifier#2", "notifier#3"],
    "complaints": ["complaints", "complaints#2"],
}


def test_every_process_is_bounced_alone_and_every_service_at_once_both_ways() -> None:
    bounces = plan_bounces(PROCESSES, random.Random(5))
    assert plan_bounces(PROCESSES, random.Random(5)) == bounces
    singles = sorted(keys[0] for keys, _ in bounces if len(keys) == 1)
    assert singles == sorted(k for keys in PROCESSES.values() for k in keys)
    together = {keys: kill for keys, kill in bounces if len(keys) > 1}
    assert set(together) == {tuple(keys) for keys in PROCESSES.values()}
    assert set(together.values()) == {True, False}  # one service SIGTERM, one kill -9
    assert {kill for keys, kill in bounces if len(keys) == 1} == {True, False}


@pytest.mark.e2e
@pytest.mark.timeout(1500)
def test_bounced_replicas_lose_duplicate_and_hurry_nothing(
    short_scenario: Callable[[str], ScenarioResult],
) -> None:
    result = short_scenario("rebalance")  # 0 lost, 0 duplicated, 0 early, all recovered
    table = result.table()
    bounced = {key for f in result.faults for key in f.target.split(" + ")}
    assert bounced == {k for name in REPLICAS for k in PROCESSES[name]}, table
    assert {f.what for f in result.faults} == {"kill -9", "SIGTERM restart"}, table
    rows = {row.effect for row in result.observation.rows}
    assert {"complaints: repair visit recorded", "complaints: sale recorded"} <= rows, table
