"""Fixtures of the schemathesis tests: the services' apps (tests/api/harness.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.harness import RunningApps


@pytest.fixture(scope="module")
def running_apps(pg_dsn: str, kafka_bootstrap: str) -> Iterator[RunningApps]:
    """The services' apps, each started when its first operation is tested."""
    apps = RunningApps(pg_dsn, kafka_bootstrap)
    try:
        yield apps
    finally:
        apps.stop()
