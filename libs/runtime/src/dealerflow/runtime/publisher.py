"""Publishing domain events: encode as a binary-mode CloudEvent and write to the outbox.

Nothing here talks to Kafka. The event is enqueued in the caller's transaction, so it is
published (by the outbox relay) if and only if the state change that caused it commits.
Use cases call :func:`publish_event`; event handlers publish through the context the
consumer hands them (:class:`HandlerContext`, :class:`BatchContext`), which fills in
causation, correlation and trace context from the incoming event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dealerflow.contracts.envelope import Envelope, encode_binary
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.runtime.clock import Clock
from dealerflow.runtime.context import (
    DealerConfiguration,
    EnvironmentDealerConfiguration,
    Publish,
    TimerScope,
    UseCaseContext,
)
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.outbox import OutboxMessage, enqueue
from dealerflow.runtime.telemetry import current_trace_headers

if TYPE_CHECKING:
    from dealerflow.policy import DealerSettings
    from dealerflow.runtime.settings import ServiceSettings

CE_ID_HEADER = "ce_id"
TraceHeaders = tuple[str | None, str | None]


def header_value(headers: Sequence[tuple[str, bytes]], name: str) -> str | None:
    """The first value of header ``name`` decoded as UTF-8 (lenient), or None."""
    for key, value in headers:
        if key == name:
            return value.decode("utf-8", errors="replace") if value is not None else None
    return None


def event_source(service_name: str) -> str:
    """The CloudEvents ``source`` our services use: ``/dealerflow/<service>``."""
    return f"/dealerflow/{service_name}"


def outbox_message_for(
    event: DomainEvent,
    *,
    source: str,
    topics: TopicRegistry,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    event_id: str | None = None,
    trace_headers: TraceHeaders | None = None,
    actor: str | None = None,
) -> tuple[str, OutboxMessage]:
    """Encode ``event`` for its topic; returns ``(event id, outbox message)``.

    ``trace_headers`` (``traceparent``, ``tracestate``) default to the active span's, so
    the consumers continue this trace.
    """
    traceparent, tracestate = trace_headers or current_trace_headers()
    record = encode_binary(
        event,
        source=source,
        event_id=event_id,
        correlation_id=correlation_id,
        causation_id=causation_id,
        actor=actor,
        traceparent=traceparent,
        tracestate=tracestate,
    )
    ce_id = header_value(record.headers, CE_ID_HEADER)
    if ce_id is None:  # pragma: no cover - encode_binary always sets ce_id
        raise RuntimeError("encoded event carries no ce_id header")
    message = OutboxMessage(
        topic=topics.for_event(event),
        key=record.key,
        value=record.value,
        headers=list(record.headers),
    )
    return ce_id, message


async def publish_event(
    conn: DbConnection,
    event: DomainEvent,
    *,
    source: str,
    topics: TopicRegistry,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    event_id: str | None = None,
    actor: str | None = None,
) -> str:
    """Enqueue ``event`` to the outbox inside the caller's transaction; returns its event id.

    ``correlation_id``/``causation_id`` become the ``ce_correlationid``/``ce_causationid``
    extensions; inside a consumer use ``ctx.publish`` which fills them in.
    """
    ce_id, message = outbox_message_for(
        event,
        source=source,
        topics=topics,
        correlation_id=correlation_id,
        causation_id=causation_id,
        event_id=event_id,
        actor=actor,
    )
    await enqueue(conn, [message])
    return ce_id


def caused_outbox_message(
    event: DomainEvent,
    cause: Envelope[Any],
    source: str,
    topics: TopicRegistry,
    *,
    event_id: str | None = None,
    trace_headers: TraceHeaders | None = None,
) -> tuple[str, OutboxMessage]:
    """``event`` encoded as caused by ``cause``: causation = its id, correlation = its
    correlation id (or, at the start of a chain, its id); trace headers default to the
    active span's."""
    meta = cause.meta
    return outbox_message_for(
        event,
        source=source,
        topics=topics,
        correlation_id=meta.correlation_id or meta.id,
        causation_id=meta.id,
        event_id=event_id,
        trace_headers=trace_headers,
        actor=meta.actor,
    )


@dataclass(kw_only=True)
class _ConsumerScope(TimerScope):
    """What every handler gets: the batch's connection (in its transaction) and helpers."""

    conn: DbConnection
    clock: Clock
    settings: ServiceSettings
    topics: TopicRegistry
    source: str
    consumer: str
    # Buffered: the consumer writes all of a batch's messages with one enqueue, and a
    # handler attempt that fails takes its messages with it.
    outbox: list[OutboxMessage] = field(default_factory=list)

    def _publish_caused_by(
        self,
        event: DomainEvent,
        cause: Envelope[DomainEvent],
        event_id: str | None,
        trace_headers: TraceHeaders | None,
    ) -> str:
        ce_id, message = caused_outbox_message(
            event, cause, self.source, self.topics, event_id=event_id, trace_headers=trace_headers
        )
        self.outbox.append(message)
        return ce_id


@dataclass(kw_only=True)
class ConsumedContext(UseCaseContext[Any]):
    """A use-case context inside a consumer's batch transaction (base of the event and
    raw-record handler contexts): what it publishes is buffered and written with the
    batch's other messages in one enqueue, and a handler attempt that fails takes its
    messages with it."""

    topics: TopicRegistry
    source: str
    consumer: str
    publisher: Publish = field(default=None)  # type: ignore[assignment]  # set below
    outbox: list[OutboxMessage] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.publisher is None:
            self.publisher = self._buffer

    async def _buffer(self, event: DomainEvent) -> str:
        ce_id, message = self._encode(event)
        self.outbox.append(message)
        return ce_id

    def _encode(self, event: DomainEvent) -> tuple[str, OutboxMessage]:
        """The event's outbox message; here it starts a chain."""
        return outbox_message_for(event, source=self.source, topics=self.topics)


@dataclass(kw_only=True)
class HandlerContext(ConsumedContext):
    """Context of a per-event handler, ``async def h(ctx, env)``: the use-case context of
    the batch's transaction, plus where the event came from.

    ``publish`` enqueues caused by the incoming event (causation = its id; correlation =
    its correlation id or, at the start of a chain, its id; traceparent = this handler's
    span, which continues the incoming trace); timers default to the event's dealer.
    """

    envelope: Envelope[DomainEvent]
    topic: str
    partition: int
    offset: int

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.source_event_id is None:
            self.source_event_id = self.envelope.meta.id
        if self.actor is None:
            self.actor = self.envelope.meta.actor

    def _encode(self, event: DomainEvent) -> tuple[str, OutboxMessage]:
        return caused_outbox_message(event, self.envelope, self.source, self.topics)

    async def schedule_timer(
        self,
        *,
        key: str,
        kind: str,
        due_at: datetime,
        payload: Mapping[str, Any] | None = None,
        dealer_id: str | None = None,
    ) -> bool:
        """Schedule a durable timer; ``dealer_id`` defaults to the incoming event's."""
        return await super().schedule_timer(
            key=key,
            kind=kind,
            dealer_id=dealer_id or self.envelope.meta.dealer_id,
            due_at=due_at,
            payload=payload,
        )


@dataclass(kw_only=True)
class _BatchedEventContext(HandlerContext):
    """One event's use-case context inside a batch handler (:meth:`BatchContext.event_contexts`):
    what it publishes continues the incoming event's trace, as :meth:`BatchContext.publish`
    does (the batch span is no event's own)."""

    def _encode(self, event: DomainEvent) -> tuple[str, OutboxMessage]:
        meta = self.envelope.meta
        trace = (meta.traceparent, meta.tracestate) if meta.traceparent else None
        return caused_outbox_message(
            event, self.envelope, self.source, self.topics, trace_headers=trace
        )


@dataclass(kw_only=True)
class BatchContext(_ConsumerScope):
    """Context of a batch handler: ``async def h(ctx, envs)`` for a run of events."""

    envelopes: Sequence[Envelope[DomainEvent]]
    dealers: DealerConfiguration = field(default_factory=EnvironmentDealerConfiguration)
    #: where each envelope was read: (topic, partition, offset), when known
    positions: Sequence[tuple[str, int, int]] = ()
    _events: list[HandlerContext] | None = field(default=None, repr=False)

    async def publish(
        self, event: DomainEvent, *, caused_by: Envelope[Any], event_id: str | None = None
    ) -> str:
        """Publish ``event`` as caused by the incoming ``caused_by`` (causation,
        correlation and trace context taken from it); returns the new event's id."""
        meta = caused_by.meta
        trace = (meta.traceparent, meta.tracestate) if meta.traceparent else None
        return self._publish_caused_by(event, caused_by, event_id, trace)

    def event_contexts(self) -> list[HandlerContext]:
        """One use-case context per event of the batch, in order: what a per-event
        handler would get (``source_event_id``, ``actor``, ``publish`` caused by that
        event), so a use case over the batch runs set-based SQL on ``conn`` and still
        publishes each effect caused by its own event.

        The contexts share this batch's buffered outbox, one ``now`` and one load of each
        dealer's configuration; every batch handler of the batch gets the same ones.
        """
        if self._events is None:
            now = self.clock.now()
            loaded: dict[str, DealerSettings] = {}
            positions = self.positions or [("", -1, -1)] * len(self.envelopes)
            self._events = [
                _BatchedEventContext(
                    conn=self.conn,
                    clock=self.clock,
                    settings=self.settings,
                    dealers=self.dealers,
                    topics=self.topics,
                    source=self.source,
                    consumer=self.consumer,
                    outbox=self.outbox,
                    envelope=envelope,
                    topic=topic,
                    partition=partition,
                    offset=offset,
                    now=now,
                    _dealers=loaded,
                )
                for envelope, (topic, partition, offset) in zip(
                    self.envelopes, positions, strict=True
                )
            ]
        return self._events
