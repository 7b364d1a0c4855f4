"""The chaos harness's own arithmetic: seeded plans replay, rows count lost and
duplicated effects by key, the soak's verdict and merged waves."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

from chaos.effects import Observation, Row
from chaos.harness import at_random_moments
from chaos.load import SCALES, Sent, plan
from chaos.scenario_soak import Check, Retentions, Sample, age_checks, merged, verdict
from chaos.scenarios import ScenarioResult


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


def _samples(rss: list[int], inbox: list[int], fds: int = 20) -> list[Sample]:
    return [
        Sample(float(i), {"svc": r * 1024}, {"svc": fds}, {"svc.inbox": n}, {"svc": 0}, i)
        for i, (r, n) in enumerate(zip(rss, inbox, strict=True))
    ]


def _failed(checks: list[Check]) -> set[str]:
    return {c.what for c in checks if not c.ok}


def test_the_soak_verdict_passes_a_plateau_and_fails_growth() -> None:
    flat = _samples(
        [90, 95, 100, 100, 101, 100, 101, 100, 102], [0, 50, 80, 90, 85, 92, 88, 91, 90]
    )
    assert _failed(verdict(flat, wave_rows=10)) == set()
    # memory growing by 5 MiB a sample: the last third's mean is 12.5% above the second's
    leaking = _samples([100 + 5 * i for i in range(9)], [90] * 9)
    assert _failed(verdict(leaking, wave_rows=10)) == {"svc memory flat"}
    # a table never purged grows with the load
    growing = _samples([100] * 9, [100 * i for i in range(9)])
    assert _failed(verdict(growing, wave_rows=10)) == {"svc.inbox bounded"}
    assert _failed(verdict(growing[:5], wave_rows=10)) == {"samples"}


def test_the_row_age_check_fails_a_row_kept_past_its_retention() -> None:
    retentions = Retentions({"inbox": 24.0, "idempotency_keys": 24.0, "timers": 24.0}, 10.0)
    assert retentions.bound_s("inbox") == 24 + 2 * 10 + 5

    def samples(inbox_ages: list[float]) -> list[Sample]:
        return [
            Sample(10.0 * i, {}, {}, {}, {}, i, {"svc.inbox": a, "ntf.timers": 30.0})
            for i, a in enumerate(inbox_ages)
        ]

    # a purge that keeps the inbox at most about one retention old
    kept = samples([5, 15, 25, 35, 30, 38, 31, 40])
    assert _failed(age_checks(kept, retentions)) == set()
    # the oldest row only ages: nothing is purged, or the wrong rows are
    never = samples([5, 15, 25, 35, 45, 55, 65, 75])
    (failed,) = [c for c in age_checks(never, retentions) if not c.ok]
    assert failed.what == "inbox rows within retention"
    assert "oldest 75 s" in failed.detail
    # too young a run to tell (no sample a retention after the first): not checked
    young = age_checks(samples([5, 15]), retentions)
    assert all(c.ok and c.detail.startswith("not checked") for c in young)


def test_the_waves_merge_into_one_count_with_keys_of_their_own() -> None:
    def wave(observed: Counter[str]) -> ScenarioResult:
        row = Row("x", sent=2, expected={"a", "b"}, observed=observed)
        return ScenarioResult("w", 1, Observation([row], 2, 0), Sent())

    observation, _ = merged([wave(Counter({"a": 1, "b": 1})), wave(Counter({"a": 2}))])
    [row] = observation.rows
    assert (row.sent, row.found, row.lost, row.duplicated) == (4, 3, 1, 1)


def test_a_scenario_that_raised_is_a_failed_result_with_its_error() -> None:
    crashed = ScenarioResult.crashed("rebalance", 7, RuntimeError("notifier#2 not ready in time"))
    assert not crashed.ok
    assert "given up: scenario: RuntimeError: notifier#2 not ready in time" in crashed.table()


def test_a_free_port_pair_is_two_adjacent_ports_free_on_loopback() -> None:
    import socket

    from chaos.own_infra import free_port_pair

    port = free_port_pair()
    with socket.socket() as a, socket.socket() as b:
        a.bind(("127.0.0.1", port))
        b.bind(("127.0.0.1", port + 1))
