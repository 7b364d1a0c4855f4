"""The chaos suite's short version in CI (``make chaos-short``): the six services under
the mixed load, each killed with SIGKILL at a random moment and restarted; every
expected effect there exactly once, none early (docs/reliability.md)."""

from __future__ import annotations

import os

import pytest

from chaos.__main__ import run_suite
from dealerflow.devinfra.services import SERVICES

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]


def test_kill9_of_every_service_loses_duplicates_and_hurries_nothing(
    kafka_bootstrap: str, pg_dsn: str
) -> None:
    seed = int(os.environ["CHAOS_SEED"]) if os.environ.get("CHAOS_SEED") else None
    [result] = run_suite(
        ["kill9"], scale="short", seed=seed, kafka_bootstrap=kafka_bootstrap, pg_dsn=pg_dsn
    )
    table = result.table()
    totals = result.observation.totals()
    assert not result.sent.failed, table
    assert (totals["lost"], totals["duplicated"], totals["early"]) == (0, 0, 0), table
    assert {f.target for f in result.faults} == {s.name for s in SERVICES}, table
    assert all(f.recovered_s is not None for f in result.faults), table
