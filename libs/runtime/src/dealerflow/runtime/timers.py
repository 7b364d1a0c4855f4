"""Durable timers: rows in PostgreSQL, scheduled in the business transaction.

Callbacks, reminders, SLA clocks and escalations are :func:`schedule`-d with the same
connection (and transaction) as the event that caused them, and :func:`cancel`-led by
business key. :class:`TimerPoller` fires them: it claims due timers with ``FOR UPDATE SKIP LOCKED``
(replicas never fire one twice), runs each kind's handler in the claiming transaction
(the handler's outbox rows and new timers commit together with the "fired" mark) and
compares due times against the injected clock, never the database's ``now()``, so nothing
fires early with a real, accelerated or manual clock.

Dealer isolation: the poller claims across dealers (it acts for ``*``), and each handler
runs acting for its timer's dealer only (a batch handler: its timers' dealers), so
row-level security shows a handler no other dealer's rows (:func:`~dealerflow.runtime.db.act_for`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from dealerflow.runtime import metrics, recovery
from dealerflow.runtime.clock import Clock, wall_seconds_until
from dealerflow.runtime.db import (
    ALL_DEALERS,
    DbConnection,
    act_for,
    bounded_transaction,
    is_infrastructure_error,
    transaction,
)
from dealerflow.runtime.dlq import describe_error

__all__ = [
    "BatchTimerHandler",
    "NewTimer",
    "Timer",
    "TimerHandler",
    "TimerPoller",
    "cancel",
    "cancel_many",
    "cancel_prefix",
    "notify_channel",
    "schedule",
    "schedule_many",
]

log = logging.getLogger(__name__)

# Notify only when a timer was actually created; one notification per transaction, as
# PostgreSQL folds identical notifications of one transaction into one.
_SCHEDULE = """
WITH created AS (
    INSERT INTO timers (key, kind, dealer_id, due_at, payload)
    SELECT t.key, t.kind, t.dealer_id, t.due_at, t.payload::jsonb
    FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[])
         WITH ORDINALITY AS t(key, kind, dealer_id, due_at, payload, n)
    ORDER BY t.n
    ON CONFLICT (key) WHERE status = 'pending' DO NOTHING
    RETURNING 1
), counted AS (SELECT count(*) AS n FROM created)
SELECT n, CASE WHEN n > 0 THEN pg_notify(left(current_schema() || '_timers', 63), '') END
FROM counted
"""
_CANCEL = "UPDATE timers SET status = 'cancelled' WHERE key = $1 AND status = 'pending'"
_CANCEL_MANY = (
    "UPDATE timers SET status = 'cancelled' WHERE key = ANY($1::text[]) AND status = 'pending'"
)
# the range condition uses the (C-collated) unique index on pending keys
_CANCEL_PREFIX = """
UPDATE timers SET status = 'cancelled'
WHERE status = 'pending' AND key >= $1 AND key < $2 AND starts_with(key, $1)
"""


@dataclass(frozen=True)
class Timer:
    """A due timer handed to its handler.

    ``attempts`` counts earlier failed attempts (0 the first time it fires).
    """

    id: int
    key: str
    kind: str
    dealer_id: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class NewTimer:
    """A timer to create with :func:`schedule_many`."""

    key: str
    kind: str
    dealer_id: str
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


#: Runs inside the poller's transaction (under a savepoint) with the same connection; it
#: may write outbox rows and schedule timers. Only its database effects count: it can be
#: invoked again for the same firing when another timer of its batch fails.
TimerHandler = Callable[[DbConnection, Timer], Awaitable[None]]

#: Handles all due timers of one kind in a claimed batch at once (e.g. one ``executemany``
#: instead of a round trip per timer): the fast path for high volumes. If it raises, the
#: poller calls it again with one timer at a time, each under its own savepoint, so only
#: the timers that really fail are retried.
BatchTimerHandler = Callable[[DbConnection, Sequence[Timer]], Awaitable[None]]


def notify_channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel on which :func:`schedule` wakes the pollers of ``schema``."""
    return f"{schema}_timers"[:63]


def _aware(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"due_at must be timezone-aware, got {dt!r}")
    return dt


async def schedule(
    conn: DbConnection,
    *,
    key: str,
    kind: str,
    dealer_id: str,
    due_at: datetime,
    payload: Mapping[str, Any] | None = None,
) -> bool:
    """Create a pending timer unless one with ``key`` is already pending.

    Call it inside the caller's transaction: the timer exists only if that commits.
    Returns False if a pending timer with the same key existed (that one is kept as is).
    """
    timer = NewTimer(key, kind, dealer_id, due_at, dict(payload or {}))
    return await schedule_many(conn, [timer]) == 1


async def schedule_many(conn: DbConnection, timers: Sequence[NewTimer]) -> int:
    """Create several timers in one round trip; return how many were created.

    Keys already pending (or repeated within ``timers``) are skipped, first one wins.
    """
    if not timers:
        return 0
    created = await conn.fetchval(
        _SCHEDULE,
        [t.key for t in timers],
        [t.kind for t in timers],
        [t.dealer_id for t in timers],
        [_aware(t.due_at) for t in timers],
        [json.dumps(t.payload, ensure_ascii=False, default=str) for t in timers],
    )
    return int(created or 0)


async def cancel(conn: DbConnection, key: str) -> bool:
    """Cancel the pending timer with ``key``; False if none was pending.

    A timer being fired at this moment is locked by the poller; the cancel waits for it
    and then finds it fired (False), so a timer is never both fired and cancelled.
    """
    result = await conn.execute(_CANCEL, key)
    return result.split()[-1] != "0"


def _prefix_upper_bound(prefix: str) -> str:
    # smallest string greater than every string that starts with prefix (C collation
    # sorts by code point, as UTF-8 bytes do)
    stripped = prefix.rstrip(chr(0x10FFFF))
    if not stripped:
        return chr(0x10FFFF) * (len(prefix) + 1)
    return stripped[:-1] + chr(ord(stripped[-1]) + 1)


async def cancel_many(conn: DbConnection, keys: Sequence[str]) -> int:
    """Cancel the pending timers with ``keys`` in one round trip (as :func:`cancel` each);
    how many were pending."""
    if not keys:
        return 0
    result = await conn.execute(_CANCEL_MANY, sorted(set(keys)))
    return int(result.split()[-1])


async def cancel_prefix(conn: DbConnection, prefix: str) -> int:
    """Cancel every pending timer whose key starts with ``prefix``; return how many.

    E.g. ``cancel_prefix(conn, f"complaint:{complaint_id}:")`` stops all of a complaint's
    SLA clocks when it is resolved. An empty prefix is refused.
    """
    if not prefix:
        raise ValueError("cancel_prefix needs a non-empty prefix")
    result = await conn.execute(_CANCEL_PREFIX, prefix, _prefix_upper_bound(prefix))
    return int(result.split()[-1])


# -- firing -------------------------------------------------------------------------

# Claim and mark in one statement: the "fired" mark comes before the handlers run, so a
# handler that schedules the next timer under the same key (a recurring reminder) is not
# swallowed by the one-pending-timer-per-key rule.
_CLAIM = """
WITH due AS (
    SELECT id FROM timers
    WHERE status = 'pending' AND due_at <= $1
    ORDER BY due_at LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE timers t SET status = 'fired', fired_at = $1, attempts = t.attempts + 1
FROM due WHERE t.id = due.id
RETURNING t.id, t.key, t.kind, t.dealer_id, t.due_at, t.payload::text AS payload, t.attempts
"""
# A failed timer goes back to pending with a later due time, or to failed after the last
# attempt. If a handler in the same batch scheduled a new pending timer with its key, the
# new one wins (one pending timer per key) and this one is marked failed.
_RECORD_FAILURES = """
WITH f AS (
    SELECT f.id, f.error, f.retry_at, EXISTS (
        SELECT 1 FROM timers p WHERE p.key = t.key AND p.status = 'pending'
    ) AS superseded
    FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS f(id, error, retry_at)
    JOIN timers t ON t.id = f.id
)
UPDATE timers t SET
    status = CASE WHEN t.attempts >= $4 OR f.superseded THEN 'failed' ELSE 'pending' END,
    due_at = CASE WHEN t.attempts >= $4 OR f.superseded THEN t.due_at ELSE f.retry_at END,
    last_error = CASE WHEN f.superseded
                      THEN f.error || ' (superseded by a newer pending timer with this key)'
                      ELSE f.error END,
    fired_at = NULL
FROM f WHERE t.id = f.id
RETURNING t.id, t.status
"""
_NEXT_DUE = "SELECT min(due_at) FROM timers WHERE status = 'pending'"
_PENDING = "SELECT count(*) FROM timers WHERE status = 'pending'"


class TimerPoller:
    """Fires due timers of the pool's schema; run one or more per service (replicas).

    ``run()`` sleeps until the earlier of ``poll_interval_s`` and the next due time (by
    ``clock``), wakes early on a NOTIFY from :func:`schedule`, and loops at once while
    batches come back full. A failing handler's savepoint is rolled back and the timer
    retried after ``retry_backoff * 2**(attempts-1)`` (capped at ``max_backoff``); after
    ``max_attempts`` it is marked ``failed`` with ``last_error`` and logged as an error. A
    kind with no handler is such a failure too. ``handlers`` take one timer;
    ``batch_handlers`` take all due timers of their kind in a batch (the fast path).
    ``concurrency`` claim loops run side by side (each with its own connection).
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        handlers: Mapping[str, TimerHandler],
        *,
        clock: Clock,
        batch_handlers: Mapping[str, BatchTimerHandler] | None = None,
        batch_size: int = 500,
        poll_interval_s: float = 1.0,
        max_attempts: int = 10,
        retry_backoff: timedelta = timedelta(seconds=30),
        max_backoff: timedelta = timedelta(hours=1),
        pending_metrics_interval_s: float = 15.0,
        concurrency: int = 4,
    ) -> None:
        self._pool = pool
        self._handlers = dict(handlers)
        self._batch_handlers = dict(batch_handlers or {})
        self._clock = clock
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._max_attempts = max_attempts
        self._retry_backoff = retry_backoff
        self._max_backoff = max_backoff
        self._pending_interval_s = pending_metrics_interval_s
        self._schema: str | None = None
        self._concurrency = concurrency
        self._stopping = asyncio.Event()
        self._wakes: list[asyncio.Event] = []
        self._task: asyncio.Task[None] | None = None
        self._next_pending_refresh = 0.0
        self.fired = 0  # timers this instance fired successfully (tests, logs)
        self._db_probe = recovery.pool_probe(pool)

    async def fire_due(self) -> int:
        """Claim up to ``batch_size`` timers due by ``clock.now()`` and fire them in one
        transaction; return how many were claimed (fired or failed)."""
        async with self._pool.acquire() as conn:
            schema = await self._schema_of(conn)
            async with bounded_transaction(conn):
                await act_for(conn, ALL_DEALERS)  # the claim spans dealers
                now = self._clock.now()
                rows = await conn.fetch(_CLAIM, now, self._batch_size)
                if not rows:
                    return 0
                timers = sorted((_timer(r) for r in rows), key=lambda t: (t.due_at, t.id))
                failures = await self._run_handlers(conn, timers)
                final: dict[int, str] = {}
                if failures:
                    await act_for(conn, ALL_DEALERS)  # handlers narrowed the scope
                    final = await self._record_failures(conn, timers, failures, now)
        self._after_commit(schema, timers, failures, final, now)
        return len(timers)

    async def _run_handlers(self, conn: DbConnection, timers: list[Timer]) -> dict[int, str]:
        failures: dict[int, str] = {}
        by_kind: dict[str, list[Timer]] = {}
        for t in timers:
            if t.kind in self._handlers or t.kind in self._batch_handlers:
                by_kind.setdefault(t.kind, []).append(t)
            else:
                failures[t.id] = f"no handler for timer kind {t.kind!r}"
        try:
            # fast path: one savepoint for the whole batch (a savepoint per timer doubles
            # the round trips); on any failure, redo one savepoint per timer
            async with bounded_transaction(conn):
                for kind, group in by_kind.items():
                    await self._call(conn, kind, group)
            return failures
        except Exception as exc:
            if is_infrastructure_error(exc, conn):
                raise  # the database, not a timer: one savepoint per timer would wait again
        for kind, group in by_kind.items():
            for t in group:
                try:
                    async with conn.transaction():
                        await self._call(conn, kind, [t])
                except Exception as exc:
                    # masked (an operator reads it), NUL-free (it is stored), bounded
                    failures[t.id] = describe_error(exc)
        return failures

    async def _call(self, conn: DbConnection, kind: str, group: list[Timer]) -> None:
        batch_handler = self._batch_handlers.get(kind)
        if batch_handler is not None:
            await act_for(conn, [t.dealer_id for t in group])
            await batch_handler(conn, group)
            return
        handler = self._handlers[kind]
        acting_for = None  # all of this runs in one savepoint: a raise ends it all
        for t in group:
            if t.dealer_id != acting_for:  # a round trip only when the dealer changes
                await act_for(conn, t.dealer_id)
                acting_for = t.dealer_id
            await handler(conn, t)

    async def _record_failures(
        self, conn: DbConnection, timers: list[Timer], failures: dict[int, str], now: datetime
    ) -> dict[int, str]:
        by_id = {t.id: t for t in timers}
        ids = list(failures)
        retry_at = []
        for i in ids:
            attempt = by_id[i].attempts + 1
            delay = min(self._retry_backoff * 2 ** (attempt - 1), self._max_backoff)
            retry_at.append(now + delay)
        rows = await conn.fetch(
            _RECORD_FAILURES, ids, [failures[i] for i in ids], retry_at, self._max_attempts
        )
        return {r["id"]: r["status"] for r in rows}

    def _after_commit(
        self,
        schema: str,
        timers: list[Timer],
        failures: dict[int, str],
        final: dict[int, str],
        now: datetime,
    ) -> None:
        lateness = metrics.TIMERS_LATENESS.labels(schema)
        fired_by_kind: dict[str, int] = {}
        for t in timers:
            error = failures.get(t.id)
            if error is None:
                fired_by_kind[t.kind] = fired_by_kind.get(t.kind, 0) + 1
                lateness.observe(max((now - t.due_at).total_seconds(), 0.0))
                continue
            metrics.TIMERS_FAILURES.labels(schema, t.kind).inc()
            extra = {
                "schema": schema,
                "timer_id": t.id,
                "timer_key": t.key,
                "timer_kind": t.kind,
                "dealer_id": t.dealer_id,
                "attempts": t.attempts + 1,
            }
            if final.get(t.id) == "failed":
                log.error("timer %s (%s) failed for good: %s", t.key, t.kind, error, extra=extra)
            else:
                log.warning(
                    "timer %s (%s) failed, will retry: %s", t.key, t.kind, error, extra=extra
                )
        for kind, count in fired_by_kind.items():
            metrics.TIMERS_FIRED.labels(schema, kind).inc(count)
            self.fired += count

    async def _schema_of(self, conn: DbConnection) -> str:
        if self._schema is None:
            self._schema = str(await conn.fetchval("SELECT current_schema()"))
        return self._schema

    # -- loop -----------------------------------------------------------------------

    async def run(self) -> None:
        """Fire timers until :meth:`stop`; database errors are logged and retried."""
        self._task = asyncio.current_task()
        self._stopping.clear()
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                async with self._pool.acquire() as listener:
                    channel = notify_channel(await self._schema_of(listener))
                    await listener.add_listener(channel, self._on_notify)
                    try:
                        await self._run_workers()
                    finally:
                        with contextlib.suppress(Exception):
                            await listener.remove_listener(channel, self._on_notify)
                backoff = 0.5
            except Exception:
                log.exception("timer poller failed; retrying in %.1f s", backoff)
                # woken as soon as PostgreSQL answers again after an outage
                outcome = await recovery.pause(backoff, self._db_probe, self._stopping)
                backoff = 0.5 if outcome == "recovered" else min(backoff * 2, 30.0)

    async def stop(self, grace_s: float = 30.0) -> None:
        """Finish the batches in flight and return; cancel the loop after ``grace_s`` s."""
        self._stopping.set()
        for wake in self._wakes:
            wake.set()
        task = self._task
        if task is None or task.done() or task is asyncio.current_task():
            return
        done, _ = await asyncio.wait({task}, timeout=grace_s)
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _on_notify(self, *_: object) -> None:
        for wake in self._wakes:
            wake.set()

    async def _run_workers(self) -> None:
        # several claim loops overlap one batch's database round trips with another's
        # Python work; SKIP LOCKED keeps them apart exactly as it keeps replicas apart
        self._wakes = [asyncio.Event() for _ in range(self._concurrency)]
        workers = [asyncio.create_task(self._worker(w)) for w in self._wakes]
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _worker(self, wake: asyncio.Event) -> None:
        while not self._stopping.is_set():
            claimed = await self.fire_due()
            await self._refresh_pending()
            if claimed >= self._batch_size:
                continue  # more are due: no sleep
            notified = False
            while not self._stopping.is_set():
                wake.clear()  # before reading the next due time, so no NOTIFY is lost
                delay = await self._delay_until_next_due(notified)
                if delay == 0:
                    break
                if not await self._sleep(wake, delay):
                    break  # the time came: fire
                notified = True  # a sooner timer may have appeared: look again

    async def _delay_until_next_due(self, notified: bool) -> float:
        async with transaction(self._pool, ALL_DEALERS) as conn:
            next_due = await conn.fetchval(_NEXT_DUE)
        delay = self._poll_interval_s
        if next_due is None:
            return delay
        until = wall_seconds_until(self._clock, next_due)
        if until is None:  # a manual clock: only polling can notice it moved
            return delay
        if until == 0:
            # newly scheduled and due: fire now; otherwise it is due but was not claimable
            # (another worker or replica holds it): give that one a moment, don't spin
            return 0.0 if notified else min(delay, 0.05)
        return min(delay, until)

    async def _refresh_pending(self) -> None:
        now = time.monotonic()
        if now < self._next_pending_refresh:
            return
        self._next_pending_refresh = now + self._pending_interval_s
        async with transaction(self._pool, ALL_DEALERS) as conn:
            count = await conn.fetchval(_PENDING)
        if self._schema is not None:
            metrics.TIMERS_PENDING.labels(self._schema).set(count or 0)

    async def _sleep(self, wake: asyncio.Event, seconds: float) -> bool:
        """Sleep; return True if woken by a NOTIFY (or stop), False when time ran out."""
        try:
            await asyncio.wait_for(wake.wait(), seconds)
        except TimeoutError:
            return False
        return True


def _timer(row: asyncpg.Record) -> Timer:
    return Timer(
        id=row["id"],
        key=row["key"],
        kind=row["kind"],
        dealer_id=row["dealer_id"],
        due_at=row["due_at"],
        payload=json.loads(row["payload"]),
        attempts=row["attempts"] - 1,
    )
