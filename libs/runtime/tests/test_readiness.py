"""The shared readiness: which checks a service gets, and the background task checks."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from dealerflow.runtime.http import ReadinessCheck, kafka_check
from dealerflow.runtime.readiness import BACKGROUND_TASKS, service_readiness, task_check


def _names(checks: list[ReadinessCheck]) -> list[str]:
    return [check.name for check in checks]


def _no_pool() -> asyncpg.Pool:
    raise AssertionError("not called")


def test_a_service_with_its_background_needs_postgres_kafka_relay_and_poller() -> None:
    full = service_readiness(_no_pool, background=True, kafka_bootstrap="127.0.0.1:1")
    assert _names(full) == ["postgres", "kafka", *BACKGROUND_TASKS]
    assert _names(service_readiness(_no_pool, background=False)) == ["postgres"]


async def test_a_background_task_is_ready_only_while_it_runs() -> None:
    tasks: dict[str, asyncio.Task[Any]] = {}
    check = task_check("outbox-relay", tasks)
    assert await check.run() == "RuntimeError: not started"

    async def crash() -> None:
        raise ConnectionResetError("gone")

    tasks["outbox-relay"] = running = asyncio.create_task(asyncio.sleep(30))
    assert await check.run() is None
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert await check.run() == "RuntimeError: stopped"
    tasks["outbox-relay"] = crashed = asyncio.create_task(crash())
    await asyncio.gather(crashed, return_exceptions=True)
    assert await check.run() == "RuntimeError: crashed: ConnectionResetError"


@pytest.mark.integration
async def test_kafka_check_names_an_unreachable_cluster() -> None:
    reason = await kafka_check("127.0.0.1:1", timeout_s=1).run()
    assert reason is not None
