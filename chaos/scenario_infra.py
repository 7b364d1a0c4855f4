"""The scenarios that break the infrastructure itself, on a Kafka broker and a
PostgreSQL cluster of the run's own (chaos/own_infra.py), never the shared test ones:

- ``infra-kill9``: SIGKILL of the broker and of the PostgreSQL postmaster (not clean
  stops) at random moments of the load and while timers fall due, each restarted after
  a few seconds (the broker recovers its logs, PostgreSQL does crash recovery);
- ``links``: every service's link to Kafka and to PostgreSQL through a fault proxy of
  its own, and on each link, at random moments, 200 ms of latency each way, a blackhole
  (a partition: connections accepted, nothing flows, they hang) and a cut (connections
  reset, new ones refused) for a few seconds.

Both expect what ``kill9`` expects: 0 lost, 0 duplicated, 0 early.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chaos.harness import Fault, Harness, at_random_moments
from chaos.own_infra import Link, OwnInfra

if TYPE_CHECKING:
    from chaos.scenarios import RunSettings, ScenarioResult

#: How long a killed broker or postmaster stays down before it is started again.
DOWN_S = (2.0, 6.0)
#: The latency of a slow link, each way (every chunk forwarded waits this long).
LINK_LATENCY_S = 0.2
#: How long a link stays slow, blackholed or cut.
LINK_FAULT_S = (3.0, 8.0)
#: How long every service may take to answer ready again after a fault healed.
READY_TIMEOUT_S = 240.0


@dataclass(frozen=True)
class InfraNeeds:
    """What infrastructure of its own a scenario runs on."""

    #: Each service's links to Kafka and PostgreSQL through a fault proxy of its own.
    proxied: bool


@contextlib.contextmanager
def _kafka_client_quiet() -> Iterator[None]:
    """The load's and the count's Kafka clients log every failed reconnection while the
    broker is down (hundreds of lines): expected here, not worth reading."""
    logger = logging.getLogger("aiokafka")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _infra(harness: Harness) -> OwnInfra:
    if harness.infra is None:
        raise RuntimeError("this scenario runs on infrastructure of its own (own_infra.py)")
    return harness.infra


async def _all_ready(harness: Harness) -> None:
    await harness.ready(timeout_s=READY_TIMEOUT_S)


async def _kill_and_restart(harness: Harness, target: str, down_s: float) -> Fault:
    """SIGKILL ``target`` (``kafka`` or ``postgres``), leave it down ``down_s``, start it
    again and wait until every service is ready; the fault says how long each took."""
    infra = _infra(harness)
    label = "the Kafka broker" if target == "kafka" else "the PostgreSQL postmaster"
    fault = Fault(harness.elapsed(), "kill -9", label)
    harness.faults.append(fault)
    kill, start = (
        (infra.kill9_kafka, infra.start_kafka)
        if target == "kafka"
        else (infra.kill9_postgres, infra.start_postgres)
    )
    await asyncio.to_thread(kill)
    await asyncio.sleep(down_s)
    restarting = time.monotonic()
    await asyncio.to_thread(start)
    started_s = time.monotonic() - restarting
    await _all_ready(harness)
    recovery = ", crash recovery" if target == "postgres" and infra.postgres_recovered() else ""
    fault.target = f"{label} (down {down_s:.1f} s, its start took {started_s:.1f} s{recovery})"
    fault.recovered_s = harness.elapsed() - fault.at_s
    return fault


async def infra_kill9(harness: Harness, settings: RunSettings) -> ScenarioResult:
    """kill -9 of the Kafka broker and of the PostgreSQL postmaster, ``kill_rounds``
    times each, at random moments over the load and the first callbacks falling due."""
    from chaos.scenarios import run_with_faults

    spread = settings.scale.spread_s

    async def faults(h: Harness, rng: random.Random, load_done: asyncio.Event) -> None:
        targets = ["kafka", "postgres"] * settings.kill_rounds
        async for target in at_random_moments(targets, rng, 2.0, spread + 15.0):
            await _kill_and_restart(h, target, rng.uniform(*DOWN_S))

    with _kafka_client_quiet():
        return await run_with_faults("infra-kill9", harness, settings, faults)


def _on_proxies(link: Link, infra: OwnInfra) -> Callable[[str], Awaitable[None]]:
    """Apply one kind of fault (or heal it) on ``link``, on the proxies' loop."""
    proxies = infra.proxies
    if proxies is None:
        raise RuntimeError("the links scenario needs proxied infrastructure")
    proxy = link.proxy

    async def on_loop(kind: str) -> None:
        if kind == "latency":
            proxy.latency_s = LINK_LATENCY_S
        elif kind == "blackhole":
            await proxy.blackhole()
        elif kind == "cut":
            await proxy.cut()
        else:  # heal
            proxy.latency_s = 0.0
            await proxy.open()

    async def apply(kind: str) -> None:
        await proxies.run_async(on_loop(kind))

    return apply


async def links(harness: Harness, settings: RunSettings) -> ScenarioResult:
    """On each of the twelve links (six services, to Kafka and to PostgreSQL), in a
    random order at random moments over the load and the first callbacks falling due:
    latency, a blackhole and a cut, a few seconds each; links break concurrently."""
    from chaos.scenarios import run_with_faults

    infra = _infra(harness)
    spread = settings.scale.spread_s

    async def one_link(h: Harness, link: Link, rng: random.Random) -> None:
        apply = _on_proxies(link, infra)
        kinds = ["latency", "blackhole", "cut"]
        async for kind in at_random_moments(kinds, rng, 1.0, spread + 10.0):
            lasts = rng.uniform(*LINK_FAULT_S)
            what = (
                f"{kind} ({LINK_LATENCY_S * 1000:.0f} ms each way)" if kind == "latency" else kind
            )
            fault = Fault(h.elapsed(), f"{what} {lasts:.1f} s", link.name)
            h.faults.append(fault)
            await apply(kind)
            try:
                await asyncio.sleep(lasts)
            finally:  # healed when the run is stopped too: the teardown needs the links
                await apply("heal")
            await _all_ready(h)
            fault.recovered_s = h.elapsed() - fault.at_s

    async def faults(h: Harness, rng: random.Random, load_done: asyncio.Event) -> None:
        rngs = [random.Random(rng.random()) for _ in infra.links]
        await asyncio.gather(
            *(one_link(h, link, r) for link, r in zip(infra.links, rngs, strict=True))
        )

    with _kafka_client_quiet():
        return await run_with_faults("links", harness, settings, faults)


#: The scenarios of this module and the infrastructure each needs (chaos/__main__.py
#: starts it for them).
NEEDS: dict[str, InfraNeeds] = {
    "infra-kill9": InfraNeeds(proxied=False),
    "links": InfraNeeds(proxied=True),
}
