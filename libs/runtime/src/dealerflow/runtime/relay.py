"""Outbox relay: publishes committed outbox rows to Kafka, in id order, at least once.

Leadership. One relay per schema is active at a time. Every replica runs one; each holds
a pooled connection and tries a session-level ``pg_try_advisory_lock`` (key from the
schema name). The holder publishes; the others retry every ``leader_retry_s`` and take
over within that time once the leader's session ends (stop, crash, lost connection:
PostgreSQL releases session locks with the session). A single publisher sending rows in
id order is what keeps Kafka's per-key order equal to the order the rows were written.

Publishing. The leader wakes on ``LISTEN <schema>_outbox`` (NOTIFY from
:func:`~dealerflow.runtime.outbox.enqueue`, delivered at commit) and polls every
``poll_interval_s`` as a fallback. It reads up to ``batch_size`` rows by id, hands them to
an idempotent producer (``acks="all"``), waits for every acknowledgement and then deletes
the acknowledged prefix. While one batch waits for its acks the next one is already read
and sent (two batches in flight), which roughly doubles throughput; the delete still
happens strictly batch by batch. If a row fails, the rows before it are deleted, the row
gets ``attempts + 1`` and ``last_error``, the producer is replaced and the relay retries
from that row after an exponential backoff (cut short once a probe finds Kafka or
PostgreSQL back after an outage, :mod:`dealerflow.runtime.recovery`): nothing is
skipped or dropped, so a row Kafka keeps refusing blocks those behind it (visible in
``last_error`` and the metrics). A crash between Kafka's ack and the delete publishes
those rows again; consumers deduplicate by event id in their inbox.

Dealer scope. The relay works across dealers: its session acts for ``*``. The outbox has
no ``dealer_id`` column, so row-level security does not apply to it today; the scope
keeps the relay publishing should a later migration add one. (The pool's reset, ``RESET
ALL``, clears the setting when the connection goes back.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import struct
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from dealerflow.runtime import metrics, recovery
from dealerflow.runtime.db import ALL_DEALERS, DEALER_SCOPE_SETTING, DbConnection, drop_if_timed_out
from dealerflow.runtime.migrations import advisory_key
from dealerflow.runtime.outbox import decode_headers, notify_channel

__all__ = ["OutboxRelay", "RelayHook", "murmur2_partitioner"]

log = logging.getLogger(__name__)

#: Test hook called with the ids of a batch after Kafka acknowledged it, before the delete.
RelayHook = Callable[[Sequence[int]], Awaitable[None]]

# "id > floor" lets a pipelined read skip the batch in flight and the index entries of
# rows just deleted (dead until vacuum, each costing a heap visit). A row whose
# transaction committed after higher ids were read sits below the floor: its NOTIFY
# (payload: the transaction's lowest id) makes the next read start from floor 0 at once,
# and the periodic read from floor 0 (every rescan_interval_s) is the fallback.
_FETCH = """
SELECT id, topic, key, value, headers::text AS headers
FROM outbox WHERE id > $1 ORDER BY id LIMIT $2
"""
_DELETE = "DELETE FROM outbox WHERE id = ANY($1::bigint[])"
_RECORD_ERROR = "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1"
_BACKLOG = """
SELECT count(*) AS rows,
       coalesce(extract(epoch FROM now() - (SELECT created_at FROM outbox ORDER BY id LIMIT 1)),
                0)::float8 AS age
FROM outbox
"""


@lru_cache(maxsize=65_536)
def _murmur2(data: bytes) -> int:
    # Kafka's murmur2 (same partitions as the Java client and aiokafka's default), reading
    # four bytes at a time; aiokafka's byte-wise version costs ~15 us a key
    m = 0x5BD1E995
    length = len(data)
    h = 0x9747B28C ^ length
    whole = length & ~3
    for (k,) in struct.iter_unpack("<I", data[:whole]):
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    rest = length & 3
    if rest >= 3:
        h ^= data[whole + 2] << 16
    if rest >= 2:
        h ^= data[whole + 1] << 8
    if rest >= 1:
        h ^= data[whole]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def murmur2_partitioner(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """aiokafka partitioner equal to Kafka's default for keyed records, with a key cache."""
    if key is None:
        return random.choice(available or all_partitions)
    return all_partitions[(_murmur2(key) & 0x7FFFFFFF) % len(all_partitions)]


@dataclass
class _Batch:
    rows: list[asyncpg.Record]
    futures: list[asyncio.Future[Any]]
    send_error: BaseException | None  # raised by send() for rows[len(futures)]

    @property
    def last_id(self) -> int:
        return int(self.rows[-1]["id"])


class OutboxRelay:
    """Publishes the outbox of the pool's schema to Kafka; see the module docstring.

    ``client_options`` are more producer arguments: the SASL/TLS ones of
    :func:`~dealerflow.runtime.kafka_security.kafka_client_options`.
    """

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
        rescan_interval_s: float = 1.0,
        metrics_interval_s: float = 5.0,
        client_id: str | None = None,
        client_options: Mapping[str, Any] | None = None,
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
            "partitioner": murmur2_partitioner,
            # SASL/TLS: kafka_security.kafka_client_options(settings)
            **(client_options or {}),
        }
        self._delivery_timeout_s = delivery_timeout_s
        self._retry_backoff_s = retry_backoff_s
        self._max_backoff_s = max_backoff_s
        self._leader_retry_s = leader_retry_s
        self._rescan_interval_s = rescan_interval_s
        self._metrics_interval_s = metrics_interval_s
        self._after_send = after_send
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        # the ids read since the last read from floor 0, and whether a commit below the
        # highest of them was notified since (read from floor 0 next)
        self._read_ids: set[int] = set()
        self._read_floor = 0
        self._late_commit = False
        self._task: asyncio.Task[None] | None = None
        self._is_leader = False
        self._backoff = retry_backoff_s
        self._next_metrics = 0.0
        self._producer: AIOKafkaProducer | None = None
        # probed while backing off, so the relay resumes right after an outage
        self._db_probe = recovery.pool_probe(pool)
        self._kafka_probe = recovery.kafka_probe(bootstrap_servers)
        self.published = 0  # rows this instance published and deleted (tests, logs)

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
                await self._pause(self._next_backoff(), self._db_probe)

    async def stop(self, grace_s: float = 30.0) -> None:
        """Finish the batches in flight, stop the producer and give up leadership.

        If that takes longer than ``grace_s`` seconds the relay task is cancelled (rows
        sent but not yet deleted are published again by the next leader).
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
        await conn.execute("SELECT set_config($1, $2, false)", DEALER_SCOPE_SETTING, ALL_DEALERS)
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
        except TimeoutError as exc:
            drop_if_timed_out(conn, exc)  # the database hangs: the UNLISTEN, the unlock
            raise  # and the release below would each wait out the timeout again
        finally:
            self._is_leader = False
            metrics.OUTBOX_RELAY_LEADER.labels(schema).set(0)
            await self._drop_producer()
            # the pool's reset on release also unlistens and unlocks; doing it here keeps
            # the hand-over prompt, and a dead connection is simply discarded
            with contextlib.suppress(Exception):
                await conn.remove_listener(channel, self._on_notify)
                await conn.execute("SELECT pg_advisory_unlock($1)", key)

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        if isinstance(payload, str) and payload.isdigit():
            lowest = int(payload)
            if lowest <= self._read_floor and lowest not in self._read_ids:
                self._late_commit = True
        self._wake.set()

    # -- publishing -----------------------------------------------------------------

    async def _publish_loop(self, conn: DbConnection, schema: str) -> None:
        in_flight: _Batch | None = None  # sent, acks not yet awaited
        next_rescan = 0.0
        while not (self._stopping.is_set() and in_flight is None):
            self._wake.clear()
            if in_flight is not None and (
                self._stopping.is_set() or self._late_commit or time.monotonic() >= next_rescan
            ):
                # settle before a read from floor 0, which would see the rows in flight
                batch, in_flight = in_flight, None
                await self._settle(conn, schema, batch)
                continue
            floor = in_flight.last_id if in_flight is not None else 0
            if floor == 0:
                next_rescan = time.monotonic() + self._rescan_interval_s
                self._read_ids.clear()
                self._late_commit = False
            rows = await conn.fetch(_FETCH, floor, self._batch_size)
            if rows:
                self._read_ids.update(int(r["id"]) for r in rows)
                self._read_floor = int(rows[-1]["id"])
            sent: _Batch | None = None
            if rows:
                sent = await self._send(schema, rows)
                if sent is None:  # Kafka unreachable; _send has backed off
                    await self._housekeeping(conn, schema, empty=False)
                    continue
            if in_flight is not None:
                batch, in_flight = in_flight, None
                if not await self._settle(conn, schema, batch):
                    # rows of `sent` may reach Kafka too; they are sent again (duplicates)
                    continue
            if sent is not None and sent.send_error is None:
                in_flight = sent
                if time.monotonic() >= self._next_metrics:
                    await self._housekeeping(conn, schema, empty=False)
                continue
            if sent is not None:  # send() refused a row: settle up to it, then back off
                await self._settle(conn, schema, sent)
                continue
            await self._housekeeping(conn, schema, empty=floor == 0)
            await self._idle(self._poll_interval_s)

    async def _producer_or_none(self, schema: str) -> AIOKafkaProducer | None:
        if self._producer is not None:
            return self._producer
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
            await self._pause(delay, self._kafka_probe)
            return None
        self._producer = producer
        return producer

    async def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await _close_producer(producer)

    async def _send(self, schema: str, rows: list[asyncpg.Record]) -> _Batch | None:
        """Hand ``rows`` to the producer in order; stop at the first row send() refuses."""
        producer = await self._producer_or_none(schema)
        if producer is None:
            return None
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
        return _Batch(rows, futures, send_error)

    async def _settle(self, conn: DbConnection, schema: str, batch: _Batch) -> bool:
        """Await the batch's acks, delete the acknowledged prefix; False on any failure."""
        acked, error = await self._await_acks(batch)
        ids = [r["id"] for r in batch.rows[:acked]]
        if self._after_send is not None and ids:
            await self._after_send(ids)
        if ids:
            await conn.execute(_DELETE, ids)
            metrics.OUTBOX_PUBLISHED.labels(schema).inc(len(ids))
            self.published += len(ids)
        if error is None:
            self._backoff = self._retry_backoff_s
            return True
        failed = batch.rows[acked]
        reason = _describe(error)
        metrics.OUTBOX_PUBLISH_ERRORS.labels(schema).inc()
        await conn.execute(_RECORD_ERROR, failed["id"], reason)
        delay = self._next_backoff()
        log.warning(
            "outbox row %s to %s not acknowledged (%s); retrying from it in %.1f s",
            failed["id"],
            failed["topic"],
            reason,
            delay,
            extra={"schema": schema, "outbox_id": failed["id"]},
        )
        # a producer that lost a batch may hold stale sequence state: start afresh
        await self._drop_producer()
        await self._pause(delay, self._kafka_probe)
        return False

    async def _await_acks(self, batch: _Batch) -> tuple[int, BaseException | None]:
        """(length of the acknowledged prefix, error of the first row after it)."""
        if batch.futures:
            await asyncio.wait(batch.futures, timeout=self._delivery_timeout_s)
        for index, fut in enumerate(batch.futures):
            if not fut.done():
                timeout = TimeoutError(f"no ack within {self._delivery_timeout_s:.0f} s")
                return index, timeout
            if fut.cancelled():
                return index, RuntimeError("delivery cancelled")
            failure = fut.exception()
            if failure is not None:
                return index, failure
        return len(batch.futures), batch.send_error

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

    # -- waiting --------------------------------------------------------------------

    def _next_backoff(self) -> float:
        delay = self._backoff
        self._backoff = min(self._backoff * 2, self._max_backoff_s)
        return delay

    async def _pause(self, seconds: float, probe: recovery.Probe | None = None) -> bool:
        """Sleep up to ``seconds``, less if ``probe`` finds the dependency back (the
        backoff then starts over); return True if stopping."""
        outcome = await recovery.pause(seconds, probe, self._stopping)
        if outcome == "recovered":
            log.info("outbox relay: the dependency is back; resuming")
            self._backoff = self._retry_backoff_s
        return outcome == "stopped"

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
