"""Benchmark 3: durable timers, ``due`` timers falling due at once among many pending.

Setup: the runtime's ``timers`` table (migrations included) is filled with COPY to each
``pending`` count in turn (100k, then 1M: the second fill adds to the first); those
timers fall due 1 to 365 days from now and never fire during the run. ``VACUUM ANALYZE``
follows each fill (the state autovacuum would reach on its own).

Measured: ``due`` timers are created with :func:`schedule_many` (one statement) with one
``due_at`` ``lead_s`` ahead; then a :class:`TimerPoller` as services run it (real clock;
batch size, poll interval and claim concurrency from the service defaults) is started
and fires them. Two handlers, each writing one effect row per timer with
``clock_timestamp()``: a batch handler (``batch_handlers``: one ``unnest`` insert per
claimed batch, the fast path) and a per-timer handler (``handlers``: one insert, i.e. one
round trip, per timer). Figures: timers/s = ``due`` / (last effect - due time); lateness
= effect time - due time (p50/p99/max); early firings = effects or ``fired_at`` before
``due_at`` (must be 0).

Baselines, same run and same pending counts:
- *no partial index* (the headline baseline): the same TimerPoller with the same handler
  on a second schema whose ``timers`` table lacks ``timers_pending_due_idx``, i.e. the plain
  ``SELECT ... WHERE status = 'pending' AND due_at <= now ORDER BY due_at LIMIT n FOR
  UPDATE SKIP LOCKED`` on an unindexed due time. It shows what the index buys and whether
  the cost stays flat as pending timers grow.
- *row at a time*: the indexed table, but one claim loop taking one timer per
  transaction (``batch_size=1, concurrency=1``), as a naive poller firing row by row
  would; compared with the per-timer handler, so only the claiming differs. It fires at
  most ``ROW_AT_A_TIME_MAX`` timers (its rate is what is compared).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from bench.common import BenchResult, Figure, Infra, paired_ratio, progress, summarize
from dealerflow.runtime.clock import SystemClock
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.settings import ServiceSettings
from dealerflow.runtime.timers import NewTimer, Timer, TimerPoller, schedule_many

TARGET_PER_S = 5_000
TARGET_P99_S = 1.0
FILL_CHUNK = 100_000
#: the row-at-a-time baseline fires at most this many (at a few hundred a second, more
#: would only make the run longer: its rate is the figure compared)
ROW_AT_A_TIME_MAX = 2_000

_EFFECTS = """
CREATE TABLE timer_effects (
    timer_id  bigint PRIMARY KEY,
    kind      text NOT NULL,
    due_at    timestamptz NOT NULL,
    effect_at timestamptz NOT NULL
)
"""
_INSERT_ONE = """
INSERT INTO timer_effects (timer_id, kind, due_at, effect_at)
VALUES ($1, $2, $3, clock_timestamp())
"""
_INSERT_MANY = """
INSERT INTO timer_effects (timer_id, kind, due_at, effect_at)
SELECT t.id, t.kind, t.due_at, clock_timestamp()
FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS t(id, kind, due_at)
"""
_STATS = """
SELECT count(*) AS n,
       count(*) FILTER (WHERE e.effect_at < e.due_at OR t.fired_at < t.due_at) AS early,
       min(extract(epoch FROM e.effect_at - e.due_at)) AS min,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM e.effect_at - e.due_at))
           AS p50,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM e.effect_at - e.due_at))
           AS p99,
       max(extract(epoch FROM e.effect_at - e.due_at)) AS max,
       extract(epoch FROM max(e.effect_at) - min(e.due_at)) AS span,
       extract(epoch FROM max(e.effect_at) - min(e.effect_at)) AS firing
FROM timer_effects e JOIN timers t ON t.id = e.timer_id
WHERE e.kind = $1
"""


async def _per_timer(conn: DbConnection, timer: Timer) -> None:
    await conn.execute(_INSERT_ONE, timer.id, timer.kind, timer.due_at)


async def _per_batch(conn: DbConnection, timers: Sequence[Timer]) -> None:
    await conn.execute(
        _INSERT_MANY, [t.id for t in timers], [t.kind for t in timers], [t.due_at for t in timers]
    )


async def _fill(pool: asyncpg.Pool, label: str, start: int, stop: int) -> None:
    """COPY pending timers ``start..stop-1`` (due 1-365 days ahead) into ``timers``."""
    rng = random.Random(start)
    base = datetime.now(UTC)
    started = time.perf_counter()
    async with pool.acquire() as conn:
        for lo in range(start, stop, FILL_CHUNK):
            hi = min(stop, lo + FILL_CHUNK)
            rows = [
                (
                    f"bench:pending:{i}",
                    "bench.pending",
                    f"dealer-{i % 50:02d}",
                    base + timedelta(seconds=rng.uniform(86_400, 365 * 86_400)),
                    f'{{"lead_id": "{i}"}}',
                )
                for i in range(lo, hi)
            ]
            await conn.copy_records_to_table(
                "timers", records=rows, columns=("key", "kind", "dealer_id", "due_at", "payload")
            )
            elapsed = time.perf_counter() - started
            progress(
                f"timers[{label}]: {hi:,} pending ({(hi - start) / elapsed:,.0f} rows/s inserted)"
            )
        await conn.execute("VACUUM ANALYZE timers")


async def _fire(
    pool: asyncpg.Pool,
    kind: str,
    due: int,
    settings: ServiceSettings,
    *,
    batch_size: int,
    lead_s: float,
    batch: bool = False,
    concurrency: int | None = None,
) -> dict[str, Any]:
    """Schedule ``due`` timers ``lead_s`` ahead, let a poller fire them, return the figures."""
    handlers: dict[str, Any] = {} if batch else {kind: _per_timer}
    extra: dict[str, Any] = {"batch_handlers": {kind: _per_batch}} if batch else {}
    if concurrency is not None:
        extra["concurrency"] = concurrency
    poller = TimerPoller(
        pool,
        handlers,
        clock=SystemClock(),
        batch_size=batch_size,
        poll_interval_s=settings.timer_poll_interval_s,
        max_attempts=settings.timer_max_attempts,
        **extra,
    )
    # Scheduled before the poller starts, so that scheduling never competes with a
    # poller's scans (the unindexed baseline's are expensive); the poller then has the
    # rest of the lead to start, find the next due time and sleep until it.
    due_at = datetime.now(UTC) + timedelta(seconds=lead_s)
    timers = [
        NewTimer(f"{kind}:{i}", kind, f"dealer-{i % 50:02d}", due_at, {"n": i}) for i in range(due)
    ]
    async with pool.acquire() as conn, conn.transaction():
        created = await schedule_many(conn, timers)
    if created != due:
        raise AssertionError(f"scheduled {created} of {due} timers")
    if (due_at - datetime.now(UTC)).total_seconds() < lead_s / 2:
        progress(f"timers: WARNING scheduling {kind} used more than half of the lead")
    task = asyncio.create_task(poller.run())
    try:
        # the poller's own counter (after each commit) costs the database nothing; the
        # effect rows are counted once at the end
        deadline = time.perf_counter() + lead_s + 600
        while poller.fired < due:
            if task.done():
                task.result()
                raise RuntimeError("the timer poller stopped")
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{kind}: {poller.fired} of {due} fired")
            await asyncio.sleep(0.02)
    finally:
        await poller.stop()
        await task
    async with pool.acquire() as conn:
        row = await conn.fetchrow(_STATS, kind)
    if row is None or row["n"] != due:
        raise AssertionError(f"{kind}: {row and row['n']} effect rows for {due} timers")
    span = float(row["span"])
    return {
        "fired": row["n"],
        "early": row["early"],
        "min_s": float(row["min"]),
        "p50_s": float(row["p50"]),
        "p99_s": float(row["p99"]),
        "max_s": float(row["max"]),
        "seconds_from_due": span,
        "seconds_first_to_last": float(row["firing"]),
        "timers_per_s": row["n"] / span if span > 0 else None,
    }


async def _prepare(infra: Infra, name: str, *, drop_due_index: bool) -> asyncpg.Pool:
    schema = await infra.schema(name)
    pool = await infra.pool(schema)
    await pool.execute(_EFFECTS)
    if drop_due_index:
        await pool.execute("DROP INDEX timers_pending_due_idx")
    return pool


def _scenario_figures(
    pending: int, main: dict[str, Any], base: dict[str, Any], label: str
) -> list[Figure]:
    k = _k(pending)
    rate = main["timers_per_s"]
    main_runs, base_runs = main.get("runs", [main]), base.get("runs", [base])
    return [
        Figure(
            f"{k} pending, {label}: throughput",
            rate,
            base["timers_per_s"],
            "timers/s",
            f">= {TARGET_PER_S:,}",
            rate is not None and rate >= TARGET_PER_S,
            paired_ratio=paired_ratio(main_runs, base_runs, "timers_per_s"),
        ),
        Figure(f"{k} pending, {label}: lateness p50", main["p50_s"], base["p50_s"], "s"),
        Figure(
            f"{k} pending, {label}: lateness p99",
            main["p99_s"],
            base["p99_s"],
            "s",
            f"< {TARGET_P99_S:g} s",
            main["p99_s"] < TARGET_P99_S,
            lower_is_better=True,
            paired_ratio=paired_ratio(main_runs, base_runs, "p99_s"),
        ),
        Figure(f"{k} pending, {label}: lateness max", main["max_s"], base["max_s"], "s"),
        Figure(
            f"{k} pending, {label}: early firings",
            main["early"],
            base["early"],
            "timers",
            "0",
            main["early"] == 0,
        ),
    ]


async def run(
    infra: Infra, *, pending: Sequence[int], due: int, repeat: int = 1, lead_s: float = 2.0
) -> BenchResult:
    """Run benchmark 3 and its baselines (``repeat`` times, medians); see the docstring.

    The row-at-a-time baseline runs once per pending count (it is slow and far behind).
    ``lead_s``: how far ahead the due timers are scheduled.
    """
    settings = ServiceSettings(kafka_bootstrap=infra.kafka, pg_dsn=infra.dsn)
    indexed = await _prepare(infra, "timers", drop_due_index=False)
    unindexed = await _prepare(infra, "timers_noidx", drop_due_index=True)
    size = settings.timer_batch_size
    figures: list[Figure] = []
    details: dict[str, Any] = {}
    have = 0
    for count in pending:
        await _fill(indexed, "indexed", have, count)
        await _fill(unindexed, "no due index", have, count)
        have = count
        sc = _Scenario(count, due, settings, lead_s)
        for _ in range(repeat):
            # each handler against its own baseline: same handler, table without the index
            await sc.fire("batch", "batch handler", indexed, batch_size=size, batch=True)
            await sc.fire(
                "batch_no_index",
                "batch handler, baseline without the partial index",
                unindexed,
                batch_size=size,
                batch=True,
            )
            await sc.fire("per_timer", "per-timer handler", indexed, batch_size=size)
            await sc.fire(
                "per_timer_no_index",
                "per-timer handler, baseline without the partial index",
                unindexed,
                batch_size=size,
            )
        await sc.fire(
            "row_at_a_time",
            "baseline row at a time",
            indexed,
            batch_size=1,
            concurrency=1,
            due=min(due, ROW_AT_A_TIME_MAX),
        )
        scenario = {key: _summary(value) for key, value in sc.runs.items()}
        details[str(count)] = scenario

        main = scenario["per_timer"]
        figures += _scenario_figures(
            count, scenario["batch"], scenario["batch_no_index"], "batch handler"
        )
        figures += _scenario_figures(
            count, main, scenario["per_timer_no_index"], "per-timer handler"
        )
        figures.append(
            Figure(
                f"{_k(count)} pending: per-timer handler vs row-at-a-time poller",
                main["timers_per_s"],
                scenario["row_at_a_time"]["timers_per_s"],
                "timers/s",
                note=(
                    "baseline here: TimerPoller(batch_size=1, concurrency=1), a transaction "
                    "per timer"
                ),
            )
        )
    counts = ", ".join(f"{p:,}" for p in pending)
    return BenchResult(
        name="timers",
        title=f"3. Timers: {due:,} falling due at once, pending {counts}; claim batches of {size}",
        baseline=(
            "the same TimerPoller and handler on a copy of the timers table without the "
            "partial index on pending due times (plain ORDER BY due_at LIMIT n FOR UPDATE "
            "SKIP LOCKED); the row-at-a-time rows compare with TimerPoller(batch_size=1, "
            "concurrency=1)"
        ),
        figures=figures,
        params={
            "pending": list(pending),
            "due": due,
            "repeat": repeat,
            "lead_s": lead_s,
            "timer_batch_size": size,
            "timer_poll_interval_s": settings.timer_poll_interval_s,
        },
        details=details,
    )


class _Scenario:
    """Repeated firings at one pending count, each with its own timer kind."""

    def __init__(self, count: int, due: int, settings: ServiceSettings, lead_s: float) -> None:
        self.count = count
        self.due = due
        self.settings = settings
        self.lead_s = lead_s
        self.runs: dict[str, list[dict[str, Any]]] = {}

    async def fire(
        self, key: str, label: str, pool: asyncpg.Pool, *, due: int | None = None, **options: Any
    ) -> None:
        runs = self.runs.setdefault(key, [])
        kind = f"bench.{self.count}.{key}.{len(runs)}"
        count = self.due if due is None else due
        result = await _fire(pool, kind, count, self.settings, lead_s=self.lead_s, **options)
        runs.append(result)
        progress(f"timers {self.count:,}: {label} {_describe(result)}")


def _summary(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    # medians, except the worst case where the worst case is the point
    summary = summarize(runs)
    summary["early"] = max(r["early"] for r in runs)
    summary["max_s"] = max(r["max_s"] for r in runs)
    return summary


def _k(count: int) -> str:
    return f"{count // 1000:,}k" if count < 1_000_000 else f"{count / 1e6:g}M"


def _describe(r: dict[str, Any]) -> str:
    rate = r["timers_per_s"]
    return (
        f"{rate:,.0f}/s, first {r['min_s']:.3f} s, p50 {r['p50_s']:.3f} s, p99 {r['p99_s']:.3f} s, "
        f"max {r['max_s']:.3f} s, early {r['early']}"
    )
