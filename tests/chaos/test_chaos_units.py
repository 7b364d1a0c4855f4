"""The chaos harness's own arithmetic: seeded plans replay, rows count lost and
duplicated effects by key."""

from __future__ import annotations

import asyncio
import random
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # ``chaos`` is a top-level package, like ``bench``
    sys.path.insert(0, str(ROOT))

from chaos.effects import Row  # noqa: E402
from chaos.harness import at_random_moments  # noqa: E402
from chaos.load import SCALES, plan  # noqa: E402


def test_a_seed_replays_the_same_plan_and_every_key_is_distinct() -> None:
    scale = SCALES["short"]
    first = plan(scale, random.Random(42), 7)
    assert first == plan(scale, random.Random(42), 7)
    assert first != plan(scale, random.Random(43), 7)
    assert len({a.key for a in first}) == len(first)
    total = scale.leads + scale.deliveries + scale.repairs + scale.outside_deliveries
    total += scale.test_drives
    assert len(first) == total
    assert all(0 <= a.at_s <= scale.spread_s for a in first)
    assert [a.at_s for a in first] == sorted(a.at_s for a in first)


def test_a_row_counts_lost_and_duplicated_by_key() -> None:
    row = Row("x", sent=3, expected={"a", "b", "c"}, observed=Counter({"a": 1, "b": 3, "z": 2}))
    assert (row.found, row.lost, row.duplicated, row.complete) == (2, 1, 2, False)
    row.observed["c"] = 1
    assert (row.lost, row.complete) == (0, True)


def test_faults_strike_every_target_once_in_an_order_the_seed_replays() -> None:
    async def order(seed: int) -> list[str]:
        targets = ["kafka", "postgres", "leads", "notifier"]
        return [t async for t in at_random_moments(targets, random.Random(seed), 0.0, 0.01)]

    first = asyncio.run(order(5))
    assert sorted(first) == ["kafka", "leads", "notifier", "postgres"]
    assert first == asyncio.run(order(5))
    assert {tuple(asyncio.run(order(seed))) for seed in range(20)} != {tuple(first)}
