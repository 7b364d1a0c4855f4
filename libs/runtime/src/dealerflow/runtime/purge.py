"""The purge: what the runtime's tables keep, and for how long, on the services' clock.

Without it the bookkeeping tables grow with every event and request for ever: the inbox
keeps one row per event a consumer handled, ``idempotency_keys`` one per request with a
key, ``timers`` every fired and cancelled timer. :class:`Purger` runs in every service
process (beside the outbox relay and the timer poller) and every ``interval_s`` deletes,
in batches of ``batch_size`` rows:

- inbox rows received more than ``inbox`` ago (default 14 days: beyond Kafka's default
  7-day retention, so a redelivery of anything still on a topic, a consumer group reset
  to the earliest offset included, still finds its row);
- ``idempotency_keys`` rows created more than ``idempotency_keys`` ago (default 7 days:
  a client retries within minutes or hours; the IETF draft suggests 24 hours), in the
  schemas that have the table;
- ``fired`` and ``cancelled`` timers whose firing (a cancelled one: its due time) is more
  than ``timers`` ago (default 30 days of history). ``failed`` timers are kept: they wait
  for an operator (docs/runtime-db.md). Pending timers are never touched.

The services' clock. The retentions are durations on the services' clock. Timers carry
times of that clock (``due_at``, ``fired_at``) and are compared against ``clock.now()``.
The inbox and idempotency rows are stamped by the database (``now()``, real time), so
their cutoff is the retention converted to real time (:func:`wall_duration`): with an
accelerated clock (x7200 in the e2e and chaos runs) 14 days of the services' clock pass
in 168 real seconds, and a purge comparing real stamps against the full 14 real days
would keep everything for the whole run (what the soak found before this module).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from dealerflow.runtime import recovery
from dealerflow.runtime.clock import Clock, wall_duration
from dealerflow.runtime.db import ALL_DEALERS, transaction
from dealerflow.runtime.dlq import describe_error

__all__ = ["PurgeCounts", "Purger", "RetentionPolicy", "purge_once"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each table keeps a row, on the services' clock."""

    inbox: timedelta = timedelta(days=14)
    idempotency_keys: timedelta = timedelta(days=7)
    timers: timedelta = timedelta(days=30)


@dataclass
class PurgeCounts:
    """Rows one purge deleted, per table."""

    inbox: int = 0
    idempotency_keys: int = 0
    timers: int = 0

    @property
    def total(self) -> int:
        return self.inbox + self.idempotency_keys + self.timers


# Batches by ctid: a bounded delete per statement, whatever the backlog (a first purge
# after months holds no lock for long and writes no huge WAL burst).
_PURGE_INBOX = """
DELETE FROM inbox WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM inbox WHERE received_at < now() - $1::interval LIMIT $2))
"""
_PURGE_IDEMPOTENCY = """
DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM idempotency_keys WHERE created_at < now() - $1::interval LIMIT $2))
"""
_PURGE_TIMERS = """
DELETE FROM timers WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM timers
    WHERE status IN ('fired', 'cancelled') AND coalesce(fired_at, due_at) < $1 LIMIT $2))
"""
_HAS_IDEMPOTENCY = "SELECT to_regclass('idempotency_keys') IS NOT NULL"


def _deleted(status: str) -> int:
    # asyncpg's command tag: "DELETE <n>"
    return int(status.rsplit(" ", 1)[-1])


async def purge_once(
    pool: asyncpg.Pool, clock: Clock, policy: RetentionPolicy, *, batch_size: int = 5000
) -> PurgeCounts:
    """Delete what ``policy`` no longer keeps, one batch a transaction until none is
    left, acting for every dealer (the tables with row-level security)."""
    counts = PurgeCounts()

    async def drain(sql: str, cutoff: object) -> int:
        total = 0
        while True:
            async with transaction(pool, ALL_DEALERS) as conn:
                n = _deleted(await conn.execute(sql, cutoff, batch_size))
            total += n
            if n < batch_size:
                return total

    counts.inbox = await drain(_PURGE_INBOX, wall_duration(clock, policy.inbox))
    async with pool.acquire() as conn:
        has_idempotency = await conn.fetchval(_HAS_IDEMPOTENCY)
    if has_idempotency:
        counts.idempotency_keys = await drain(
            _PURGE_IDEMPOTENCY, wall_duration(clock, policy.idempotency_keys)
        )
    counts.timers = await drain(_PURGE_TIMERS, clock.now() - policy.timers)
    return counts


class Purger:
    """Runs :func:`purge_once` every ``interval_s`` (real seconds) until stopped."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        policy: RetentionPolicy | None = None,
        *,
        interval_s: float = 60.0,
        batch_size: int = 5000,
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._policy = policy or RetentionPolicy()
        self._interval_s = interval_s
        self._batch_size = batch_size
        self._stopping = asyncio.Event()
        self.purged = PurgeCounts()
        self.runs = 0
        #: Set once the first pass is done (what was due at start-up is gone).
        self.first_pass = asyncio.Event()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                counts = await purge_once(
                    self._pool, self._clock, self._policy, batch_size=self._batch_size
                )
            except Exception as exc:  # the database away: try again next time
                log.warning(
                    "purge failed (%s); retrying in %.0f s", describe_error(exc), self._interval_s
                )
            else:
                self.runs += 1
                self.first_pass.set()
                self.purged.inbox += counts.inbox
                self.purged.idempotency_keys += counts.idempotency_keys
                self.purged.timers += counts.timers
                if counts.total:
                    log.info(
                        "purged %d inbox, %d idempotency key and %d timer rows",
                        counts.inbox,
                        counts.idempotency_keys,
                        counts.timers,
                    )
            await recovery.pause(self._interval_s, None, self._stopping)

    async def stop(self) -> None:
        self._stopping.set()
