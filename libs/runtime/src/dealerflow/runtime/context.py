"""The use-case context: what every use case of a service works with, whatever started it.

An HTTP request, an event handler and a timer handler all hand their use case one
:class:`UseCaseContext` (event handlers get the :class:`~dealerflow.runtime.consumer.HandlerContext`
subclass, which also says where the event came from). It holds:

- ``conn``: the connection, inside the one transaction of this request, message or timer;
- ``now``: the time the use case happens at (the service's injectable clock, read once);
- ``settings``: the service's own settings type (``UseCaseContext[ComplaintsSettings]``);
- ``publish(event)``: enqueue an event in the same transaction (the outbox). Inside an
  event handler the new event is caused by the incoming one (causation, correlation and
  trace context filled in); elsewhere it starts a chain;
- ``schedule_timer`` (``schedule_timers`` for many) / ``cancel_timer`` / ``cancel_timers``:
  durable timers in the same transaction;
- ``dealer(dealer_id)`` / ``policy(dealer_id)``: the dealer's configuration (profile, rules,
  people) through one interface (:class:`DealerConfiguration`), loaded at most once per
  use case run.

Use cases never read a policy from settings and never build a publisher themselves; the
runtime builds the context in one place (``ServiceContext.use_case`` in
:mod:`dealerflow.runtime.service`).

:func:`run_in_transaction` is the one way an entry point without a transaction of its own
(HTTP) runs a use case: a transaction per attempt, retried on a deadlock or serialization
failure. Consumers and the timer poller own their transactions and retry the same way
(a batch that hits a deadlock is redelivered; a timer is retried with backoff).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

import asyncpg

from dealerflow.contracts.events.base import DomainEvent
from dealerflow.policy import DealerPolicy, DealerSettings, settings_with_overrides
from dealerflow.runtime import timers
from dealerflow.runtime.clock import Clock
from dealerflow.runtime.db import (
    TRANSIENT_ERRORS,
    DbConnection,
    is_transient,
    transaction,
)
from dealerflow.runtime.settings import ServiceSettings

__all__ = [
    "TRANSIENT_ERRORS",
    "DealerConfiguration",
    "EnvironmentDealerConfiguration",
    "Publish",
    "StaticDealerConfiguration",
    "TimerScope",
    "UseCaseContext",
    "is_transient",
    "run_in_transaction",
]

log = logging.getLogger("dealerflow.context")

S = TypeVar("S", bound=ServiceSettings)
T = TypeVar("T")

#: Enqueue an event in the current transaction; returns its event id.
Publish = Callable[[DomainEvent], Awaitable[str]]


class DealerConfiguration(Protocol):
    """Where a dealer's profile, rules, calendar and people come from (one interface for
    every service)."""

    async def settings(self, conn: DbConnection, dealer_id: str) -> DealerSettings:
        """The effective configuration of ``dealer_id``, read in the caller's transaction."""
        ...


@dataclass(frozen=True)
class EnvironmentDealerConfiguration:
    """DOMAIN.md defaults with the service-wide overrides of its settings, the same for
    every dealer: ``overrides`` is a partial `DealerPolicy` (``<PREFIX>POLICY_OVERRIDES``),
    ``settings_overrides`` a partial `DealerSettings` (profile, people) over it."""

    overrides: Mapping[str, Any] = field(default_factory=dict)
    settings_overrides: Mapping[str, Any] = field(default_factory=dict)
    _settings: DealerSettings = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # validated once, at start-up: a bad override fails the service, not a request
        object.__setattr__(
            self,
            "_settings",
            settings_with_overrides({"policy": dict(self.overrides)}, self.settings_overrides),
        )

    @property
    def defaults(self) -> DealerSettings:
        """The configuration every dealer gets."""
        return self._settings

    async def settings(self, conn: DbConnection, dealer_id: str) -> DealerSettings:
        """The one configuration every dealer shares."""
        return self._settings


@dataclass(frozen=True)
class StaticDealerConfiguration:
    """Fixed configurations per dealer over a default (tests, tools): no database."""

    by_dealer: Mapping[str, DealerSettings] = field(default_factory=dict)
    default: DealerSettings = field(default_factory=DealerSettings)

    async def settings(self, conn: DbConnection, dealer_id: str) -> DealerSettings:
        """The dealer's configuration, or the default."""
        return self.by_dealer.get(dealer_id, self.default)


class TimerScope:
    """Durable-timer helpers of a context holding the transaction's ``conn``."""

    conn: DbConnection

    async def schedule_timer(
        self,
        *,
        key: str,
        kind: str,
        dealer_id: str,
        due_at: datetime,
        payload: Mapping[str, Any] | None = None,
    ) -> bool:
        """Schedule a durable timer in this transaction (see ``timers.schedule``)."""
        return await timers.schedule(
            self.conn, key=key, kind=kind, dealer_id=dealer_id, due_at=due_at, payload=payload
        )

    async def schedule_timers(self, new: Sequence[timers.NewTimer]) -> int:
        """Schedule many durable timers in this transaction with one statement (see
        ``timers.schedule_many``); how many were created."""
        return await timers.schedule_many(self.conn, new) if new else 0

    async def cancel_timer(self, key: str) -> bool:
        """Cancel the pending timer with business key ``key``."""
        return await timers.cancel(self.conn, key)

    async def cancel_timers_keyed(self, keys: Sequence[str]) -> int:
        """Cancel the pending timers with business keys ``keys`` (one statement)."""
        return await timers.cancel_many(self.conn, keys)

    async def cancel_timers(self, prefix: str) -> int:
        """Cancel every pending timer whose key starts with ``prefix``."""
        return await timers.cancel_prefix(self.conn, prefix)


@dataclass(kw_only=True)
class UseCaseContext(TimerScope, Generic[S]):
    """Dependencies of one use case run, all bound to one transaction (module docstring)."""

    conn: DbConnection
    clock: Clock
    settings: S
    dealers: DealerConfiguration
    #: the enqueue function of this entry point (see :meth:`publish`)
    publisher: Publish
    #: id of the event whose handling runs this use case (None for HTTP and timers)
    source_event_id: str | None = None
    #: who acts: the bearer token's subject in an HTTP request, the incoming event's
    #: ``actor`` in a handler (None for timers and events without one)
    actor: str | None = None
    now: datetime = field(default=None)  # type: ignore[assignment]  # set in __post_init__
    _dealers: dict[str, DealerSettings] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.now is None:
            self.now = self.clock.now()

    async def publish(self, event: DomainEvent) -> str:
        """Enqueue ``event`` in this transaction (published iff it commits); its id."""
        return await self.publisher(event)

    async def dealer(self, dealer_id: str) -> DealerSettings:
        """The dealer's effective configuration: profile, policy, people (loaded once per
        use case run)."""
        found = self._dealers.get(dealer_id)
        if found is None:
            found = await self.dealers.settings(self.conn, dealer_id)
            self._dealers[dealer_id] = found
        return found

    async def policy(self, dealer_id: str) -> DealerPolicy:
        """The dealer's effective policy (rules and calendar)."""
        return (await self.dealer(dealer_id)).policy


async def run_in_transaction(
    pool: asyncpg.Pool,
    build: Callable[[DbConnection], UseCaseContext[S]],
    work: Callable[[UseCaseContext[S]], Awaitable[T]],
    *,
    attempts: int = 3,
    backoff_s: float = 0.02,
) -> T:
    """Run ``work`` in a transaction of its own, committed when it returns; on a deadlock
    or serialization failure the transaction is rolled back and ``work`` runs again with
    a fresh context (up to ``attempts`` times, with a short jittered backoff)."""
    for attempt in range(1, attempts + 1):
        try:
            async with transaction(pool) as conn:
                return await work(build(conn))
        except TRANSIENT_ERRORS as exc:
            if attempt == attempts:
                raise
            log.warning("transaction attempt %d failed (%s); retrying", attempt, exc)
            await asyncio.sleep(backoff_s * attempt * (1 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover
