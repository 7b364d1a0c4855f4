"""The end-to-end benchmarks at their quick size (``python -m bench deliveries leads
memory --quick``, ``python -m bench service-timers --quick``): the six services running,
every effect there exactly once; and benchmark (a) scaled out (``deliveries --quick
--notifier-replicas 1,2 --partitions 4``): each round's deliveries reacted to exactly
once, the second by two notifier processes sharing the reactions group. Only
correctness is asserted, never a figure (docs/benchmarks.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # ``bench`` is a top-level package, like ``chaos``
    sys.path.insert(0, str(ROOT))

from bench.__main__ import main  # noqa: E402
from dealerflow.devinfra.services import SERVICES  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def test_quick_end_to_end_benchmarks_see_every_effect_exactly_once(
    kafka_bootstrap: str, pg_dsn: str, tmp_path: Path
) -> None:
    out = tmp_path / "bench.json"
    argv = ["deliveries", "leads", "memory", "--quick", "--json", str(out)]
    assert main([*argv, "--kafka", kafka_bootstrap, "--dsn", pg_dsn]) == 0
    results = {r["name"]: r for r in json.loads(out.read_text())["results"]}

    deliveries = results["deliveries"]["details"]
    n = results["deliveries"]["params"]["deliveries"]
    assert deliveries["effects"]["reacted"] == n
    effects = deliveries["effects"]["effects_per_customer"]
    assert effects.get("tasks.delivery_callback") == 1, effects  # once per delivery
    assert all(count >= 1 for count in effects.values()), effects
    assert deliveries["rows_per_event"]["tasks"] >= 1

    steps = results["leads"]["details"]["steps"]
    assert steps, "no step of the leads benchmark ran"
    for step in steps:  # every request sent was answered (its lead's one task: in run)
        assert step["answered"] > 0, step
        assert step["answered"] + step["failures"] == step["sent"], step

    memory = results["memory"]["details"]
    assert set(memory["idle"]) == set(memory["after"]) == {s.name for s in SERVICES}
    assert all(rss and rss > 0 for rss in [*memory["idle"].values(), *memory["after"].values()])


def test_quick_service_timers_benchmark_fires_every_timer_once_none_early(
    kafka_bootstrap: str, pg_dsn: str, tmp_path: Path
) -> None:
    out = tmp_path / "bench.json"
    argv = ["service-timers", "--quick", "--json", str(out)]
    assert main([*argv, "--kafka", kafka_bootstrap, "--dsn", pg_dsn]) == 0
    [result] = json.loads(out.read_text())["results"]
    due = result["params"]["due"]
    service, baseline = result["details"]["service"], result["details"]["baseline"]
    for fired in (service, baseline):  # once each (status fired, one attempt), none early
        assert (fired["fired"], fired["early"]) == (due, 0), fired
    # each task due once, its one TaskDue published once, its escalation armed once
    assert service["tasks_due"] == service["task_due_events"] == service["escalations"] == due


def test_two_notifier_replicas_share_the_reactions_and_react_exactly_once(
    kafka_bootstrap: str, pg_dsn: str, tmp_path: Path
) -> None:
    out = tmp_path / "bench.json"
    argv = ["deliveries", "--quick", "--notifier-replicas", "1,2", "--partitions", "4"]
    argv += ["--json", str(out)]
    assert main([*argv, "--kafka", kafka_bootstrap, "--dsn", pg_dsn]) == 0
    [result] = json.loads(out.read_text())["results"]
    n = result["params"]["deliveries"]
    rounds = result["details"]["rounds"]
    assert [r["replicas"] for r in rounds] == [1, 2]
    for measured in rounds:
        effects = measured["effects"]
        assert effects["problems"] == [], measured
        assert effects["reacted"] == n
        assert effects["effects_per_customer"].get("tasks.delivery_callback") == 1, effects
    # the same effects per delivery with one process as with two
    assert (
        rounds[0]["effects"]["effects_per_customer"] == rounds[1]["effects"]["effects_per_customer"]
    )
    assert rounds[0]["rows_per_event"] == rounds[1]["rows_per_event"]
    # both processes read the sales topic (4 partitions), every partition of it once
    two = rounds[1]["assignment"]
    assert len(two) == 2, two
    assert all(two.values()), two
    assert sorted(p for assigned in two.values() for p in assigned) == [0, 1, 2, 3]
    assert result["params"]["partitions"] == 4
