"""Millisecond tests of event handlers: feed events to an ``EventRouter`` in memory.

For handlers (and the use cases behind them) that only *decide*: which events to publish,
which timers to schedule or cancel. Each delivery runs the router's handlers for the
event exactly as the consumer would, with a real
:class:`~dealerflow.runtime.consumer.HandlerContext` (so ``publish`` fills causation and
correlation, timers default to the event's dealer), except that:

- the connection is a stand-in that fails the test on first use: a handler that needs
  the database belongs in an integration test against PostgreSQL;
- timers are recorded instead of written;
- published events are decoded back from the outbox messages the context buffered, so a
  test sees what a consumer downstream would receive.

    harness = RouterHarness(consumers.router, NotifierSettings(), clock=ManualClock(START))
    result = await harness.deliver(lead_created)
    assert [type(e.event) for e in result.published] == [TaskScheduled]
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from dealerflow.contracts.envelope import Envelope, decode, encode_binary
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.runtime.clock import Clock
from dealerflow.runtime.consumer import EventRouter, HandlerContext
from dealerflow.runtime.context import DealerConfiguration, EnvironmentDealerConfiguration
from dealerflow.runtime.settings import ServiceSettings

__all__ = ["Delivery", "NoDatabase", "RouterHarness", "ScheduledTimer"]

S = TypeVar("S", bound=ServiceSettings)


class NoDatabase:
    """A connection that is not there: any use fails with a clear message."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(
            f"the handler used the database (conn.{name}); test it against PostgreSQL"
        )


@dataclass(frozen=True)
class ScheduledTimer:
    """A timer a handler scheduled."""

    key: str
    kind: str
    dealer_id: str
    due_at: datetime
    payload: Mapping[str, Any]


@dataclass
class Delivery:
    """What handling one event did."""

    handled: bool
    published: list[Envelope[DomainEvent]] = field(default_factory=list)
    timers: list[ScheduledTimer] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    cancelled_prefixes: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class _RecordingContext(HandlerContext):
    delivery: Delivery

    async def schedule_timer(
        self,
        *,
        key: str,
        kind: str,
        due_at: datetime,
        payload: Mapping[str, Any] | None = None,
        dealer_id: str | None = None,
    ) -> bool:
        self.delivery.timers.append(
            ScheduledTimer(
                key, kind, dealer_id or self.envelope.meta.dealer_id, due_at, dict(payload or {})
            )
        )
        return True

    async def cancel_timer(self, key: str) -> bool:
        self.delivery.cancelled.append(key)
        return True

    async def cancel_timers(self, prefix: str) -> int:
        self.delivery.cancelled_prefixes.append(prefix)
        return 0


class RouterHarness(Generic[S]):
    """Runs ``router``'s handlers for single events in memory (module docstring)."""

    def __init__(
        self,
        router: EventRouter,
        settings: S,
        *,
        clock: Clock,
        dealers: DealerConfiguration | None = None,
        source: str = "/test/producer",
    ) -> None:
        self.router = router
        self.settings = settings
        self.clock = clock
        self.dealers = dealers or EnvironmentDealerConfiguration(settings.policy_overrides)
        self.source = source
        self.topics = TopicRegistry(settings.topic_prefix)

    async def deliver(self, event: DomainEvent, *, event_id: str | None = None) -> Delivery:
        """Handle ``event`` as if it arrived on its topic (binary mode, round-tripped
        through the envelope codec so the handlers see exactly what Kafka would carry)."""
        record = encode_binary(event, source=self.source, event_id=event_id or str(uuid.uuid4()))
        envelope = decode(record.value, record.headers)
        handlers, batch_handlers = self.router.handlers_for(type(envelope.event))
        if batch_handlers:
            raise TypeError("RouterHarness runs per-event handlers; batch handlers need a DB")
        delivery = Delivery(handled=bool(handlers))
        ctx = _RecordingContext(
            conn=NoDatabase(),  # type: ignore[arg-type]
            clock=self.clock,
            settings=self.settings,
            dealers=self.dealers,
            topics=self.topics,
            source=f"/dealerflow/{self.settings.service_name}",
            consumer="harness",
            envelope=envelope,
            topic=self.topics.for_event(envelope.event),
            partition=0,
            offset=0,
            delivery=delivery,
        )
        for handler in handlers:
            await handler(ctx, envelope)
        delivery.published = [decode(m.value, m.headers) for m in ctx.outbox]
        return delivery
