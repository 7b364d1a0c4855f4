"""Scenario ``rebalance``: consumer bounce with several replicas of a service (Kafka's
OffsetValidationTest pattern), issue 15 item 2.

Three notifier processes and two complaints processes run side by side for the scenario
(the same schema and consumer groups, each its own port and log: the groups' members
share the partitions). While the common load runs and while its timers (delivery
callbacks, test-drive reminders) fall due, every process is bounced once on its own
(SIGTERM restart or kill -9, alternately) and every process of each service at once (one
service with SIGTERM, the other with kill -9): each bounce moves partitions between the
members (a clean leave at once, a kill after the session times out) and timers between
the pollers. The count is the common one (every notifier replica's channel log counted:
exactly N sends for N reminders, one TaskDue per callback) plus what complaints owns of
the load: each repair's visit and each sale in its schema, none lost.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import asyncpg

from chaos.effects import Row
from chaos.harness import Harness
from chaos.load import Sent
from dealerflow.devinfra.services import SERVICES

if TYPE_CHECKING:  # chaos.scenarios registers this scenario: imported when it runs
    from chaos.scenarios import RunSettings, ScenarioResult

#: The processes of each service in this scenario (the others keep one).
REPLICAS: Mapping[str, int] = {"notifier": 3, "complaints": 2}

#: One bounce: the processes stopped at once, and whether with kill -9 (else SIGTERM).
Bounce = tuple[tuple[str, ...], bool]


def plan_bounces(processes: Mapping[str, Sequence[str]], rng: random.Random) -> list[Bounce]:
    """Each process on its own, SIGTERM and kill -9 alternately from a random start, then
    every process of each service at once (SIGTERM for one service, kill -9 for the
    next), all in a random order."""
    first_kill = rng.random() < 0.5
    singles = [key for keys in processes.values() for key in keys]
    bounces: list[Bounce] = [
        ((key,), (index % 2 == 0) == first_kill) for index, key in enumerate(singles)
    ]
    bounces += [
        (tuple(keys), (index % 2 == 0) != first_kill)
        for index, keys in enumerate(processes.values())
    ]
    rng.shuffle(bounces)
    return bounces


async def rebalance(harness: Harness, settings: RunSettings) -> ScenarioResult:
    """The load with the notifier and complaints replicated and bounced (module doc)."""
    from chaos.scenarios import run_with_faults

    spread = settings.scale.spread_s

    async def faults(h: Harness, rng: random.Random, load_done: asyncio.Event) -> None:
        bounces = plan_bounces({name: h.replicas_of(name) for name in REPLICAS}, rng)
        # begun during the load; a bounce waits until every process is ready again
        # (10-20 s here), so they run on over the callbacks falling due (12 s after a
        # delivery) and the reminders (a slot three days out: about 36 s after booking)
        moments = sorted(rng.uniform(1.0, spread) for _ in bounces)
        start = time.monotonic()
        for (keys, kill), moment in zip(bounces, moments, strict=True):
            wait = moment - (time.monotonic() - start)
            if wait > 0:
                await asyncio.sleep(wait)
            await h.bounce(keys, kill=kill, down_s=rng.uniform(0.0, 2.0))

    await harness.add_replicas(REPLICAS)
    try:
        result = await run_with_faults("rebalance", harness, settings, faults)
        result.observation.rows += await _settle_complaints(harness, result.dealer_id, result.sent)
    finally:
        await harness.remove_replicas()
    return result


# -- what complaints owns of the load ------------------------------------------------------

_VISITS = """
SELECT vin FROM "{schema}".repair_visits
WHERE dealer_id = $1 AND opened_at IS NOT NULL AND completed_at IS NOT NULL
"""
_SALES = """
SELECT vin FROM "{schema}".customer_sales
WHERE dealer_id = $1 AND signed_at IS NOT NULL AND delivered_at IS NOT NULL
"""


async def _complaints_rows(harness: Harness, dealer_id: str, sent: Sent) -> list[Row]:
    """Each repair's visit (opened and handed over) and each sale (signed and delivered)
    complaints recorded from the service and sales topics, by VIN (one row per repair
    order, per contract: a redelivery cannot double it, a loss shows)."""
    [spec] = [s for s in SERVICES if s.name == "complaints"]
    schema = harness.config.schema(spec)
    visits = Row("complaints: repair visit recorded", *_keys(sent, "repair"))
    sales = Row("complaints: sale recorded", *_keys(sent, "delivery"))
    conn = await asyncpg.connect(harness.config.pg_dsn)  # the owner: no row-level filter
    try:
        for row, sql in ((visits, _VISITS), (sales, _SALES)):
            found = await conn.fetch(sql.format(schema=schema), dealer_id)
            row.observed = Counter(r["vin"] for r in found if r["vin"] in row.expected)
    finally:
        await conn.close()
    return [visits, sales]


def _keys(sent: Sent, kind: str) -> tuple[int, set[str]]:
    keys = {a.key for a in sent.of(kind)}
    return len(keys), keys


async def _settle_complaints(harness: Harness, dealer_id: str, sent: Sent) -> list[Row]:
    from chaos.scenarios import SETTLE_TIMEOUT_S

    started = time.monotonic()
    while True:
        rows = await _complaints_rows(harness, dealer_id, sent)
        if all(r.complete for r in rows) or time.monotonic() - started > SETTLE_TIMEOUT_S:
            break
        await asyncio.sleep(2.0)
    for row in rows:
        row.settled_s = time.monotonic() - started if row.complete else None
    return rows
