"""The soak's short version in CI: three minutes of waves of the mixed load at x7200
(fifteen days of the services' clock), retentions of two days so the purge runs many times;
memory flat, descriptors and the purged tables bounded, every wave's effects there
exactly once, none early (docs/reliability.md, "Scenario soak")."""

from __future__ import annotations

import pytest

from chaos.__main__ import run_suite
from chaos.scenario_soak import SoakResult

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def test_a_short_soak_keeps_memory_flat_and_the_purged_tables_bounded(
    kafka_bootstrap: str, pg_dsn: str
) -> None:
    [result] = run_suite(["soak"], scale="short", kafka_bootstrap=kafka_bootstrap, pg_dsn=pg_dsn)
    assert isinstance(result, SoakResult)
    result.check()  # no request given up, 0 lost, 0 duplicated, 0 early
    table = result.table()
    assert len(result.waves) >= 2, table
    # without the purge the inbox and timers tables grow with every wave and fail here
    assert [c.what for c in result.checks if not c.ok] == [], table
