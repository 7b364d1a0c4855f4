"""End-to-end benchmark (c): ``--due`` real timers of the services falling due at once
among ``--pending`` pending, with all six services running as processes.

The timers are the notifier's task-due timers (``notifier.task_due``), the hottest kind
there is: every callback, follow-up and first-contact task of every dealer has one. In
the running notifier's own schema:

- ``pending`` timers of that kind due 1 to 365 days ahead (one ``INSERT ... SELECT
  generate_series``, then ``VACUUM ANALYZE timers``): they never fire during the run;
- ``due`` real tasks of the bench dealer (``service_callback`` rows of ``tasks``, status
  scheduled) with their task-due timers, keyed and with the payload ``schedule_task``
  gives them, all due at one instant ``lead_s`` ahead, written in one transaction that
  wakes the pollers as :func:`~dealerflow.runtime.timers.schedule` does.

The notifier's own poller (the services' default settings: claim batches of
``timer_batch_size``, 4 claim loops) fires them; each firing marks its task due, writes
a TaskDue to the outbox and arms the task's overdue escalation (a new timer), one
statement per table per batch (``notifier.timers.batch_handlers``). Figures: fired/s =
``due`` / (the moment no timer due at that instant is pending any more - the due time),
seen by an observer asking every 20 ms with the pollers' own index; lateness, committed
= due time -> the firing's transaction committed, from the same looks (p50/p99/max, to
20 ms); lateness, claimed = ``fired_at - due_at`` (the claim, before the handler ran);
early = timers fired or tasks marked due before their due time (must be 0).

Baseline, same run: the runtime's :class:`~dealerflow.runtime.timers.TimerPoller` with
the same settings in this process, a no-op batch handler for the same kind, on a schema
of its own with the runtime's ``timers`` table filled the same way (same pending, same
due), measured the same way: what the timers machinery costs without the services'
work, over the same table shape.

Correctness (asserted here, and by the smoke test): every due timer fired exactly once
(status fired, one attempt) and none early; in the service every task is due, has one
overdue-escalation timer and exactly one TaskDue on the notifier's topic.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import BenchResult, Figure, Infra, progress
from bench.e2e_stack import DEALER_ID, connect, cpu_seconds, profiled, schema_of
from chaos.harness import Harness
from dealerflow.contracts.envelope import decode
from dealerflow.devinfra.client import TopicReader
from dealerflow.runtime.clock import SystemClock
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.settings import ServiceSettings
from dealerflow.runtime.timers import Timer, TimerPoller, notify_channel

#: The kind under test and the kind its handler schedules (the notifier's names).
TASK_DUE = "notifier.task_due"
TASK_OVERDUE = "notifier.task_overdue"
TARGET_PER_S = 10_000
TARGET_P99_S = 0.5
FILL_CHUNK = 250_000
#: how often the observer asks whether any due timer is still pending
WATCH_INTERVAL_S = 0.02

_NOTES = {
    "rate": "from the due time to the moment none is pending (20 ms polls); each firing: "
    "task due + TaskDue outbox row + overdue escalation timer",
    "committed": "due time -> the firing's transaction committed (its effects visible), "
    "as the 20 ms observer saw it",
    "claimed": "fired_at - due_at: when the poller claimed it, before its handler ran",
    "cpu": "fired / CPU time (user + system) of the notifier's process (baseline: this "
    "process) from scheduling to the last commit: the rate with a core to itself, whatever "
    "the machine's load",
}

_FILL = """
INSERT INTO timers (key, kind, dealer_id, due_at, payload)
SELECT $1 || i, $2, $3, $4::timestamptz + (1 + random() * 364) * interval '1 day',
       jsonb_build_object('task_id', md5($1 || i)::uuid::text)
FROM generate_series($5::int, $6::int - 1) AS i
"""
# The tasks as schedule_task writes them, and their timers (key: dealer:business key)
_TASKS_AND_TIMERS = """
WITH created AS (
    INSERT INTO tasks (id, dealer_id, customer_id, business_key, kind, title, assignee,
                       assignee_role, due_at, script, related_kind, related_id,
                       source_event_id, created_at, updated_at, planned_due_at)
    SELECT md5($1 || ':task:' || i)::uuid, $2, md5($1 || ':customer:' || i)::uuid,
           'repair-order:RO-' || $1 || '-' || i || ':callback-3d', 'service_callback',
           'Service callback', 'advisor:' || $2, 'advisor', $3, 'Call the owner',
           'repair_order', 'RO-' || $1 || '-' || i, NULL, now(), now(), $3
    FROM generate_series(1, $4::int) AS i
    RETURNING id, dealer_id, business_key, due_at
)
INSERT INTO timers (key, kind, dealer_id, due_at, payload)
SELECT dealer_id || ':' || business_key, $5, dealer_id, due_at,
       jsonb_build_object('task_id', id::text)
FROM created
"""
_BARE_TIMERS = """
INSERT INTO timers (key, kind, dealer_id, due_at, payload)
SELECT $1 || i, $2, $3, $4, jsonb_build_object('task_id', md5($1 || i)::uuid::text)
FROM generate_series(1, $5::int) AS i
"""
# answered by the pollers' own partial index on pending due times
_STILL_PENDING = "SELECT count(*) FROM timers WHERE status = 'pending' AND due_at <= $1"
_STATS = """
SELECT count(*) AS n,
       count(*) FILTER (WHERE status = 'fired' AND attempts = 1) AS fired_once,
       count(*) FILTER (WHERE fired_at < due_at) AS early,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM fired_at - due_at)) AS p50,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM fired_at - due_at)) AS p99,
       max(extract(epoch FROM fired_at - due_at)) AS max
FROM timers WHERE kind = $1 AND due_at = $2
"""


async def _fill(conn: DbConnection, label: str, pending: int, tag: str) -> None:
    """``pending`` task-due timers 1-365 days ahead in the connection's ``timers``."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    for lo in range(0, pending, FILL_CHUNK):
        hi = min(pending, lo + FILL_CHUNK)
        await conn.execute(
            _FILL, f"{DEALER_ID}:bench-pending:{tag}:", TASK_DUE, DEALER_ID, now, lo, hi
        )
        rate = hi / (time.perf_counter() - started)
        progress(f"e2e timers[{label}]: {hi:,} pending ({rate:,.0f} rows/s inserted)")
    await conn.execute("VACUUM ANALYZE timers")


async def _wake(conn: DbConnection, schema: str) -> None:
    await conn.execute("SELECT pg_notify($1, '')", notify_channel(schema))


async def _watch(
    conn: DbConnection, due_at: datetime, timeout_s: float = 600.0
) -> list[tuple[float, int]]:
    """Until no timer due by ``due_at`` is pending: (wall time in epoch s, timers still
    pending) at every look, the last one with none."""
    await asyncio.sleep(max(0.0, (due_at - datetime.now(UTC)).total_seconds() - 0.2))
    deadline = time.perf_counter() + timeout_s
    seen: list[tuple[float, int]] = []
    while not seen or seen[-1][1]:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timers due at {due_at} still pending after {timeout_s:g} s")
        if seen:
            await asyncio.sleep(WATCH_INTERVAL_S)
        left = int(await conn.fetchval(_STILL_PENDING, due_at))
        seen.append((time.time(), left))
    return seen


def _committed(seen: Sequence[tuple[float, int]], due: int, due_at: datetime, q: float) -> float:
    """Seconds after ``due_at`` by which the share ``q`` of the ``due`` timers had
    committed, as the observer saw it (to its polling interval)."""
    for at, left in seen:
        if due - left >= q * due:
            return max(at - due_at.timestamp(), 0.0)
    return seen[-1][0] - due_at.timestamp()


async def _figures(
    conn: DbConnection, due: int, due_at: datetime, seen: Sequence[tuple[float, int]]
) -> dict[str, Any]:
    row = await conn.fetchrow(_STATS, TASK_DUE, due_at)
    if row is None or row["n"] != due or row["fired_once"] != due:
        raise AssertionError(
            f"{row and row['fired_once']} of {row and row['n']} timers fired once, {due} due"
        )
    seconds = seen[-1][0] - due_at.timestamp()
    return {
        "fired": row["fired_once"],
        "early": row["early"],
        "claimed_p50_s": float(row["p50"]),
        "claimed_p99_s": float(row["p99"]),
        "claimed_max_s": float(row["max"]),
        "p50_s": _committed(seen, due, due_at, 0.5),
        "p99_s": _committed(seen, due, due_at, 0.99),
        "max_s": seconds,
        "seconds_from_due": seconds,
        "timers_per_s": due / seconds if seconds > 0 else None,
    }


async def _service(
    harness: Harness, pending: int, due: int, lead_s: float, tag: str, profile: Path | None
) -> dict[str, Any]:
    """The notifier's task-due timers, fired by the running notifier."""
    schema = schema_of(harness, "notifier")
    conn = await connect(harness)
    try:
        await conn.execute(f"SET search_path TO {schema}")
        await _fill(conn, "notifier", pending, tag)
        due_at = (datetime.now(UTC) + timedelta(seconds=lead_s)).replace(microsecond=0)
        async with conn.transaction():
            await conn.execute(_TASKS_AND_TIMERS, tag, DEALER_ID, due_at, due, TASK_DUE)
            await _wake(conn, schema.strip('"'))
        progress(f"e2e timers: {due:,} task-due timers due at {due_at:%H:%M:%S} (notifier)")
        pid = harness.handles["notifier"].pid
        with profiled(pid, profile):
            cpu = cpu_seconds([pid])
            seen = await _watch(conn, due_at)
            cpu = _used(cpu, cpu_seconds([pid]))
        result = await _figures(conn, due, due_at, seen)
        result["cpu_s"] = cpu
        prefix = f"repair-order:RO-{tag}-"
        tasks = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE status = 'due') AS due,"
            " count(*) FILTER (WHERE updated_at < due_at) AS early, array_agg(id::text) AS ids"
            " FROM tasks WHERE dealer_id = $1 AND starts_with(business_key, $2)",
            DEALER_ID,
            prefix,
        )
        escalations = await conn.fetchval(
            "SELECT count(*) FROM timers WHERE kind = $1 AND status = 'pending'"
            " AND starts_with(key, $2)",
            TASK_OVERDUE,
            f"{DEALER_ID}:{prefix}",
        )
    finally:
        await conn.close()
    assert tasks is not None  # an aggregate has a row
    task_due = await _task_due_events(harness, set(tasks["ids"]))
    problems = []
    if tasks["due"] != due or tasks["early"]:
        problems.append(f"{tasks['due']:,} of {due:,} tasks due, {tasks['early']} early")
    if escalations != due:
        problems.append(f"{escalations:,} overdue escalations for {due:,} tasks")
    if len(task_due) != due or set(task_due.values()) != {1}:
        problems.append(
            f"TaskDue per task: {dict(Counter(task_due.values()))} ({len(task_due)} tasks)"
        )
    if problems:
        raise AssertionError("; ".join(problems))
    result["early"] += tasks["early"]
    result["tasks_due"] = tasks["due"]
    result["escalations"] = escalations
    result["task_due_events"] = sum(task_due.values())
    return result


async def _task_due_events(
    harness: Harness, task_ids: set[str], within_s: float = 120.0
) -> dict[str, int]:
    """TaskDue records per task of ``task_ids`` on the notifier's topic, read until every
    task has one, then to the topic's end (a duplicate would be there)."""
    counts: Counter[str] = Counter()

    def count(records: Sequence[Any]) -> None:
        for record in records:
            event = decode(record.value, record.headers).event
            task_id = getattr(event, "task_id", None)
            if event.type == "TaskDue" and task_id in task_ids:
                counts[task_id] += 1

    deadline = time.perf_counter() + within_s
    topic = harness.topics.name("notifier")
    async with TopicReader(harness.kafka_bootstrap, topic) as reader:
        while len(counts) < len(task_ids) and time.perf_counter() < deadline:
            count(await reader.poll(500))
        read = len(reader.records)
        await reader.to_end()
        count(reader.records[read:])
    return dict(counts)


async def _baseline(
    infra: Infra, pending: int, due: int, lead_s: float, tag: str
) -> dict[str, Any]:
    """The runtime's poller, a no-op batch handler, the same table shape and sizes."""
    schema = await infra.schema("e2e_timers_raw")
    pool = await infra.pool(schema)
    settings = ServiceSettings(kafka_bootstrap=infra.kafka, pg_dsn=infra.dsn)

    async def no_op(conn: DbConnection, timers: Sequence[Timer]) -> None:
        return None

    poller = TimerPoller(
        pool,
        {},
        clock=SystemClock(),
        batch_handlers={TASK_DUE: no_op},
        batch_size=settings.timer_batch_size,
        poll_interval_s=settings.timer_poll_interval_s,
        max_attempts=settings.timer_max_attempts,
    )
    async with pool.acquire() as conn:
        await _fill(conn, "baseline", pending, tag)
    task = asyncio.create_task(poller.run())
    try:
        async with pool.acquire() as conn:
            due_at = (datetime.now(UTC) + timedelta(seconds=lead_s)).replace(microsecond=0)
            async with conn.transaction():
                await conn.execute(
                    _BARE_TIMERS, f"{DEALER_ID}:bench-due:{tag}:", TASK_DUE, DEALER_ID, due_at, due
                )
                await _wake(conn, schema)
            progress(f"e2e timers: {due:,} timers due at {due_at:%H:%M:%S} (baseline poller)")
            cpu = time.process_time()
            seen = await _watch(conn, due_at)
            cpu = time.process_time() - cpu
            result = await _figures(conn, due, due_at, seen)
            result["cpu_s"] = cpu
            return result
    finally:
        await poller.stop()
        await task


async def run(
    infra: Infra,
    harness: Harness,
    *,
    pending: int,
    due: int,
    lead_s: float = 3.0,
    profile: Path | None = None,
) -> BenchResult:
    """Run benchmark (c) and its baseline; see the module docstring. ``profile``: a
    directory for the notifier's py-spy samples while it fires them."""
    tag = infra.run_id
    output = None if profile is None else profile / "service-timers-notifier.txt"
    service = await _service(harness, pending, due, lead_s, tag, output)
    progress(f"e2e timers: notifier {_describe(service)}")
    base = await _baseline(infra, pending, due, lead_s, tag)
    progress(f"e2e timers: baseline {_describe(base)}")
    rate = service["timers_per_s"]

    def pair(label: str, key: str, unit: str, **options: Any) -> Figure:
        return Figure(label, service[key], base[key], unit, **options)

    return BenchResult(
        name="e2e_timers",
        title=(
            f"(c) end to end: {due:,} of the notifier's task-due timers falling due at once, "
            f"{pending:,} pending, six services running"
        ),
        baseline=(
            "the runtime's TimerPoller (same settings) with a no-op batch handler on a "
            "timers table of its own filled the same way (same pending, same due)"
        ),
        figures=[
            pair(
                "task-due timers fired",
                "timers_per_s",
                "timers/s",
                target=f">= {TARGET_PER_S:,}",
                met=rate is not None and rate >= TARGET_PER_S,
                note=_NOTES["rate"],
            ),
            pair("lateness p50, committed", "p50_s", "s"),
            pair(
                "lateness p99, committed",
                "p99_s",
                "s",
                target=f"< {TARGET_P99_S:g} s",
                met=service["p99_s"] < TARGET_P99_S,
                lower_is_better=True,
                note=_NOTES["committed"],
            ),
            pair("lateness max, committed", "max_s", "s"),
            pair("lateness p99, claimed (fired_at)", "claimed_p99_s", "s", note=_NOTES["claimed"]),
            Figure(
                "timers per CPU-second of the firing process",
                _per_cpu_s(service),
                _per_cpu_s(base),
                "timers/s",
                note=_NOTES["cpu"],
            ),
            pair("early firings", "early", "timers", target="0", met=service["early"] == 0),
        ],
        params={"pending": pending, "due": due, "lead_s": lead_s, "kind": TASK_DUE},
        details={"service": service, "baseline": base},
    )


def _used(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def _per_cpu_s(result: dict[str, Any]) -> float | None:
    cpu = result.get("cpu_s")
    return result["fired"] / cpu if cpu else None


def _describe(r: dict[str, Any]) -> str:
    rate = r["timers_per_s"]
    return (
        f"{rate:,.0f}/s, p50 {r['p50_s']:.3f} s, p99 {r['p99_s']:.3f} s, "
        f"max {r['max_s']:.3f} s, early {r['early']}"
    )
