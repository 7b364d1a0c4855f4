"""The chaos suite's scenarios on infrastructure of their own (chaos/scenario_infra.py),
short: the broker and the PostgreSQL postmaster killed with SIGKILL mid-load and
restarted; every service's links to them slowed, blackholed and cut. Every expected
effect there exactly once, none early, and the run's Kafka and PostgreSQL gone after it
(docs/reliability.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # ``chaos`` is a top-level package, like ``bench``
    sys.path.insert(0, str(ROOT))

from chaos.__main__ import run_suite  # noqa: E402
from chaos.own_infra import free_port, free_port_pair  # noqa: E402
from chaos.scenarios import ScenarioResult  # noqa: E402
from dealerflow.devinfra.proc import port_open  # noqa: E402
from dealerflow.devinfra.services import SERVICES  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]


def _run(name: str) -> tuple[ScenarioResult, list[int]]:
    seed = int(os.environ["CHAOS_SEED"]) if os.environ.get("CHAOS_SEED") else None
    kafka_port, pg_port = free_port_pair(), free_port()  # the controller on kafka_port + 1
    [result] = run_suite(
        [name], scale="short", seed=seed, infra_kafka_port=kafka_port, infra_pg_port=pg_port
    )
    result.check()
    return result, [kafka_port, kafka_port + 1, pg_port]


def test_kill9_of_the_broker_and_of_postgres_loses_duplicates_and_hurries_nothing() -> None:
    result, ports = _run("infra-kill9")
    killed = sorted(f.target.split(" (")[0] for f in result.faults)
    assert killed == ["the Kafka broker", "the PostgreSQL postmaster"], result.table()
    assert "crash recovery" in next(f.target for f in result.faults if "Postgre" in f.target)
    assert not any(port_open("127.0.0.1", p) for p in ports), "the run's infrastructure runs on"


def test_slow_hung_and_cut_links_lose_duplicate_and_hurry_nothing() -> None:
    result, ports = _run("links")
    links = {f.target for f in result.faults}
    assert links == {f"{s.name} -> {t}" for s in SERVICES for t in ("kafka", "postgres")}
    kinds = sorted(f.what.split(" ")[0] for f in result.faults)
    assert kinds == sorted(["latency", "blackhole", "cut"] * len(links)), result.table()
    assert not any(port_open("127.0.0.1", p) for p in ports), "the run's infrastructure runs on"
