"""Backing off from an outage, and waking as soon as the dependency is back.

A relay, timer poller or consumer that fails because PostgreSQL or Kafka is away backs off
exponentially (up to 10-30 s) so as not to hammer it. Sleeping the whole delay blindly
means resuming up to that long after the dependency came back. :func:`pause` sleeps the
delay but probes the dependency meanwhile (every ``interval_s``): once a probe that
failed succeeds again, it returns at once (``"recovered"``) and the caller resets its
backoff. A dependency the probe always finds reachable (the failure was of another kind)
does not shorten the pause, so a record Kafka keeps refusing is not retried in a tight loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Literal

import asyncpg

__all__ = ["Probe", "kafka_probe", "pause", "pool_probe"]

Probe = Callable[[], Awaitable[bool]]
Outcome = Literal["elapsed", "recovered", "stopped"]


def pool_probe(pool: asyncpg.Pool, timeout_s: float = 1.0) -> Probe:
    """A probe that PostgreSQL answers ``SELECT 1`` on a connection of ``pool``.

    A database that hangs fails the probe within about ``timeout_s`` (at most twice
    that: the connection that timed out is handed back within the same budget, not the
    pool's acquire timeout)."""

    async def probe() -> bool:
        try:
            async with asyncio.timeout(timeout_s), pool.acquire(timeout=timeout_s) as conn:
                await conn.fetchval("SELECT 1")
        except Exception:
            return False
        return True

    return probe


def kafka_probe(bootstrap_servers: str, timeout_s: float = 1.0) -> Probe:
    """A probe that one of the bootstrap brokers accepts a TCP connection."""
    addresses = []
    for part in bootstrap_servers.split(","):
        host, _, port = part.strip().rpartition(":")
        if host and port.isdigit():
            addresses.append((host.strip("[]"), int(port)))

    async def probe() -> bool:
        for host, port in addresses:
            try:
                async with asyncio.timeout(timeout_s):
                    _, writer = await asyncio.open_connection(host, port)
            except (OSError, TimeoutError):
                continue
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            return True
        return False

    return probe


async def pause(
    seconds: float,
    probe: Probe | None,
    stopping: asyncio.Event | None = None,
    *,
    interval_s: float = 0.25,
) -> Outcome:
    """Sleep up to ``seconds``: ``"stopped"`` as soon as ``stopping`` is set,
    ``"recovered"`` as soon as ``probe`` succeeds after failing during the pause, else
    ``"elapsed"``. Without a probe this is a plain (stoppable) sleep."""
    stop = stopping or asyncio.Event()
    deadline = time.monotonic() + seconds
    seen_down = False
    while (remaining := deadline - time.monotonic()) > 0:
        step = remaining if probe is None else min(interval_s, remaining)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), step)
        if stop.is_set():
            return "stopped"
        if probe is None or time.monotonic() >= deadline:
            break
        if await probe():
            if seen_down:
                return "recovered"
        else:
            seen_down = True
    return "stopped" if stop.is_set() else "elapsed"
