"""Tests of the outage pause that wakes on recovery, and of its probes."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest

from dealerflow.devinfra.fault_proxy import proxied_pool
from dealerflow.runtime.recovery import Probe, kafka_probe, pause, pool_probe


def _probe(answers: Iterator[bool]) -> Probe:
    async def probe() -> bool:
        return next(answers, True)

    return probe


async def test_a_probe_that_fails_then_succeeds_ends_the_pause() -> None:
    started = time.monotonic()
    outcome = await pause(30.0, _probe(iter([False, False])), interval_s=0.02)
    assert outcome == "recovered"
    assert time.monotonic() - started < 1.0


async def test_a_dependency_that_never_went_away_does_not_shorten_the_pause() -> None:
    started = time.monotonic()
    outcome = await pause(0.3, _probe(iter([])), interval_s=0.02)
    assert outcome == "elapsed"
    assert time.monotonic() - started >= 0.3


async def test_stopping_ends_the_pause_at_once() -> None:
    stopping = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, stopping.set)
    started = time.monotonic()
    assert await pause(30.0, None, stopping) == "stopped"
    assert time.monotonic() - started < 1.0


async def test_kafka_probe_is_a_tcp_connect() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert await kafka_probe(f"127.0.0.1:1,127.0.0.1:{port}")()
    assert not await kafka_probe(f"127.0.0.1:{port}", timeout_s=0.2)()


@pytest.mark.integration
async def test_the_pool_probe_finds_a_hung_database_down_and_the_pause_wakes_after(
    pg_dsn: str,
) -> None:
    proxy, pool = await proxied_pool(pg_dsn, "public", timeout_s=5.0)
    probe = pool_probe(pool, timeout_s=0.5)
    try:
        assert await probe()
        await proxy.blackhole()
        started = time.monotonic()
        assert not await probe()  # a hang is a failed probe, not a hung probe
        assert time.monotonic() - started < 1.5
        waiting = asyncio.create_task(pause(30.0, probe, interval_s=0.05))
        await asyncio.sleep(1.0)  # the probe keeps failing meanwhile
        await proxy.open()
        started = time.monotonic()
        assert await asyncio.wait_for(waiting, 10) == "recovered"
        assert time.monotonic() - started < 2.0
    finally:
        await proxy.cut()
        await pool.close()
