"""Outbox relay: publishes committed outbox rows to Kafka, in id order, at least once.

One relay per schema is active at a time. Every replica runs one; each holds a pooled
connection and tries a session-level ``pg_try_advisory_lock`` (key from the schema name).
The holder publishes; the others retry every ``leader_retry_s`` and take over within that
time when the leader's connection ends (stop, crash, network loss: PostgreSQL releases
session locks when the session ends). A single publisher that sends rows in id order is
what keeps Kafka's per-key order equal to the order the transactions wrote the rows.

The leader wakes on ``LISTEN <schema>_outbox`` (sent by :func:`~dealerflow.runtime.outbox.
enqueue` at commit) and polls every ``poll_interval_s`` as a fallback. Per cycle it reads up
to ``batch_size`` unpublished rows by id, hands them all to an idempotent producer
(``acks="all"``), waits for every acknowledgement and then marks the acknowledged prefix
published. If a row fails, the rows before it are marked, the row gets ``attempts + 1`` and
``last_error``, the producer is replaced and the relay retries from that row after an
exponential backoff. Nothing is skipped or dropped; a crash between Kafka's ack and the
mark publishes those rows again (consumers deduplicate by event id in their inbox).
Published rows are deleted after ``retention`` (default 24 h).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from dealerflow.runtime import metrics
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.migrations import advisory_key
from dealerflow.runtime.outbox import decode_headers, notify_channel, purge_published

__all__ = ["OutboxRelay", "RelayHook"]

log = logging.getLogger(__name__)

#: Test hook called with the ids of a batch after Kafka acknowledged it, before the mark.
RelayHook = Callable[[Sequence[int]], Awaitable[None]]

_FETCH = """
SELECT id, topic, key, value, headers::text AS headers
FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1
"""
_MARK = """
UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY($1::bigint[])
"""
_RECORD_ERROR = "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1"
_BACKLOG = """
SELECT count(*) AS rows,
       coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age
FROM outbox WHERE published_at IS NULL
"""


class OutboxRelay:
    """Publishes the outbox of the pool's schema to Kafka; see the module docstring."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        bootstrap_servers: str,
        *,
        batch_size: int = 1000,
        poll_interval_s: float = 1.0,
        linger_ms: int = 5,
        max_batch_bytes: int = 1_048_576,
        compression_type: str | None = None,
        request_timeout_ms: int = 30_000,
        delivery_timeout_s: float = 120.0,
        retry_backoff_s: float = 0.2,
        max_backoff_s: float = 30.0,
        leader_retry_s: float = 1.0,
        retention: timedelta | None = timedelta(hours=24),
        metrics_interval_s: float = 5.0,
        client_id: str | None = None,
        after_send: RelayHook | None = None,
    ) -> None:
        self._pool = pool
        self._bootstrap = bootstrap_servers
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._producer_options: dict[str, Any] = {
            "bootstrap_servers": bootstrap_servers,
            "enable_idempotence": True,
            "acks": "all",
            "linger_ms": linger_ms,
            "max_batch_size": max_batch_bytes,
            "max_request_size": max(max_batch_bytes, 1_048_576),
            "compression_type": compression_type,
            "request_timeout_ms": request_timeout_ms,
            "client_id": client_id or "dealerflow-outbox-relay",
        }
        self._delivery_timeout_s = delivery_timeout_s
        self._retry_backoff_s = retry_backoff_s
        self._max_backoff_s = max_backoff_s
        self._leader_retry_s = leader_retry_s
        self._retention = retention
        self._metrics_interval_s = metrics_interval_s
        self._after_send = after_send
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._is_leader = False
        self._backoff = retry_backoff_s
        self._next_metrics = 0.0
        self._next_cleanup = 0.0
        self.published = 0  # rows this instance marked published (tests, logs)

    @property
    def is_leader(self) -> bool:
        """True while this relay holds the schema's leadership lock."""
        return self._is_leader

    async def run(self) -> None:
        """Relay until :meth:`stop`; survives database and Kafka outages by retrying."""
        self._task = asyncio.current_task()
        self._stopping.clear()
        while not self._stopping.is_set():
            try:
                async with self._pool.acquire() as conn:
                    await self._lead(conn)
            except Exception:
                log.exception("outbox relay failed; retrying in %.1f s", self._backoff)
                await self._pause(self._next_backoff())

    async def stop(self, grace_s: float = 30.0) -> None:
        """Finish the batch in flight, stop the producer and give up leadership.

        If that takes longer than ``grace_s`` seconds, the relay task is cancelled (any
        rows sent but not marked are published again by the next leader).
        """
        self._stopping.set()
        task = self._task
        if task is None or task.done() or task is asyncio.current_task():
            return
        done, _ = await asyncio.wait({task}, timeout=grace_s)
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- leadership -----------------------------------------------------------------

    async def _lead(self, conn: DbConnection) -> None:
        schema = str(await conn.fetchval("SELECT current_schema()"))
        key = advisory_key("outbox-relay", schema)
        while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
            if await self._pause(self._leader_retry_s):
                return
        self._is_leader = True
        metrics.OUTBOX_RELAY_LEADER.labels(schema).set(1)
        channel = notify_channel(schema)
        log.info("outbox relay is the leader for schema %s", schema)
        try:
            await conn.add_listener(channel, self._on_notify)
            await self._publish_loop(conn, schema)
        finally:
            self._is_leader = False
            metrics.OUTBOX_RELAY_LEADER.labels(schema).set(0)
            # the pool's reset on release also unlistens and unlocks; doing it here keeps
            # the hand-over prompt, and a dead connection is simply discarded
            with contextlib.suppress(Exception):
                await conn.remove_listener(channel, self._on_notify)
                await conn.execute("SELECT pg_advisory_unlock($1)", key)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    # -- publishing -----------------------------------------------------------------

    async def _publish_loop(self, conn: DbConnection, schema: str) -> None:
        producer: AIOKafkaProducer | None = None
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                rows = await conn.fetch(_FETCH, self._batch_size)
                await self._housekeeping(conn, schema, empty=not rows)
                if not rows:
                    await self._idle(self._poll_interval_s)
                    continue
                if producer is None:
                    producer = await self._start_producer(schema)
                    if producer is None:
                        continue
                sent, error = await self._send(producer, rows)
                if self._after_send is not None and sent:
                    await self._after_send([r["id"] for r in rows[:sent]])
                if sent:
                    await conn.execute(_MARK, [r["id"] for r in rows[:sent]])
                    metrics.OUTBOX_PUBLISHED.labels(schema).inc(sent)
                    self.published += sent
                if error is None:
                    self._backoff = self._retry_backoff_s
                    continue
                failed = rows[sent]
                metrics.OUTBOX_PUBLISH_ERRORS.labels(schema).inc()
                await conn.execute(_RECORD_ERROR, failed["id"], _describe(error))
                delay = self._next_backoff()
                log.warning(
                    "outbox row %s to %s not acknowledged (%s); retrying from it in %.1f s",
                    failed["id"],
                    failed["topic"],
                    _describe(error),
                    delay,
                    extra={"schema": schema, "outbox_id": failed["id"]},
                )
                # a producer that lost a batch may hold stale sequence state: start afresh
                await _close_producer(producer)
                producer = None
                await self._pause(delay)
        finally:
            if producer is not None:
                await _close_producer(producer)

    async def _start_producer(self, schema: str) -> AIOKafkaProducer | None:
        producer = AIOKafkaProducer(**self._producer_options)
        try:
            await producer.start()
        except Exception as exc:
            metrics.OUTBOX_PUBLISH_ERRORS.labels(schema).inc()
            delay = self._next_backoff()
            log.warning(
                "cannot connect to Kafka at %s (%s); retrying in %.1f s",
                self._bootstrap,
                _describe(exc),
                delay,
            )
            await _close_producer(producer)
            await self._pause(delay)
            return None
        return producer

    async def _send(
        self, producer: AIOKafkaProducer, rows: Sequence[asyncpg.Record]
    ) -> tuple[int, BaseException | None]:
        """Send all rows, await every ack; return (acknowledged prefix length, first error)."""
        futures: list[asyncio.Future[Any]] = []
        send_error: BaseException | None = None
        for row in rows:
            try:
                fut = await producer.send(
                    row["topic"],
                    value=row["value"],
                    key=row["key"],
                    headers=decode_headers(row["headers"]),
                )
            except Exception as exc:  # too large, unknown topic, closed producer, ...
                send_error = exc
                break
            futures.append(fut)
        if futures:
            await asyncio.wait(futures, timeout=self._delivery_timeout_s)
        for index, fut in enumerate(futures):
            if not fut.done():
                return index, TimeoutError(
                    f"no acknowledgement within {self._delivery_timeout_s:.0f} s"
                )
            if fut.cancelled():
                return index, RuntimeError("delivery cancelled")
            failure = fut.exception()
            if failure is not None:
                return index, failure
        return len(futures), send_error

    async def _housekeeping(self, conn: DbConnection, schema: str, *, empty: bool) -> None:
        now = time.monotonic()
        if empty:
            metrics.OUTBOX_BACKLOG.labels(schema).set(0)
            metrics.OUTBOX_OLDEST_AGE.labels(schema).set(0)
        elif now >= self._next_metrics:
            self._next_metrics = now + self._metrics_interval_s
            row = await conn.fetchrow(_BACKLOG)
            if row is not None:
                metrics.OUTBOX_BACKLOG.labels(schema).set(row["rows"])
                metrics.OUTBOX_OLDEST_AGE.labels(schema).set(row["age"])
        if self._retention is not None and now >= self._next_cleanup:
            self._next_cleanup = now + 10.0
            # bounded so a large backlog of old rows never stalls publishing for long
            deadline = now + 1.0
            while (
                await purge_published(conn, self._retention) == 10_000
                and time.monotonic() < deadline
            ):
                pass

    # -- waiting --------------------------------------------------------------------

    def _next_backoff(self) -> float:
        delay = self._backoff
        self._backoff = min(self._backoff * 2, self._max_backoff_s)
        return delay

    async def _pause(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return True if stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return self._stopping.is_set()

    async def _idle(self, seconds: float) -> None:
        """Sleep until a NOTIFY, stop, or ``seconds`` passed."""
        wake = asyncio.ensure_future(self._wake.wait())
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({wake, stop}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            wake.cancel()
            stop.cancel()


async def _close_producer(producer: AIOKafkaProducer) -> None:
    # stop() flushes; against an unreachable cluster it would wait forever
    try:
        await asyncio.wait_for(producer.stop(), 10.0)
    except Exception as exc:
        log.debug("closing the Kafka producer failed: %s", _describe(exc))


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
