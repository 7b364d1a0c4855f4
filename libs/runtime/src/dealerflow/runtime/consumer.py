"""The idempotent, batched event consumer.

A service registers handlers on an :class:`EventRouter`, wraps it in an
:class:`EventConsumer` and attaches that to its FastStream broker with
:func:`attach_consumer` (defined in :mod:`dealerflow.runtime.broker`, re-exported here).
Per Kafka batch (see docs/runtime-kafka.md):

1. decode every record (``EventDecodeError`` -> dead letter with the reason);
2. in ONE PostgreSQL transaction: claim all event ids in the inbox with one statement
   (duplicates -> no effect); run the handlers of the fresh events; a failing handler is
   retried in its own savepoint (``consumer_max_retries``) and then dead-lettered; dead
   letters are written to the outbox (-> ``<topic>.dlq``) in the same transaction;
3. commit; only then FastStream commits the Kafka offsets. If the transaction fails the
   batch is nacked (every partition seeks back) and redelivered after a backoff.

Handlers first run optimistically under ONE savepoint for the whole batch; only when one
raises is that savepoint rolled back and the events up to the failing one re-run with a
savepoint each, after which the rest of the batch continues optimistically. Handlers must
therefore only have effects through ``ctx.conn`` / ``ctx.publish`` / ``ctx`` timers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
from dealerflow.contracts.envelope import Envelope, EventDecodeError, decode
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.runtime import inbox, timers
from dealerflow.runtime.broker import attach_consumer
from dealerflow.runtime.clock import Clock
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.dlq import dead_letter_message, describe_error
from dealerflow.runtime.outbox import OutboxMessage, enqueue
from dealerflow.runtime.publisher import event_source, outbox_message_for
from dealerflow.runtime.telemetry import context_from_trace_headers
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind, TracerProvider
from prometheus_client import Counter, Histogram

if TYPE_CHECKING:
    from aiokafka import ConsumerRecord
    from dealerflow.runtime.settings import ServiceSettings

__all__ = [
    "BatchOutcome",
    "EventConsumer",
    "EventHandler",
    "EventRouter",
    "HandlerContext",
    "attach_consumer",
]

E = TypeVar("E", bound=DomainEvent)
EventHandler = Callable[["HandlerContext", Envelope[Any]], Awaitable[None]]

_LOG = logging.getLogger("dealerflow.consumer")

EVENTS = Counter(
    "dealerflow_consumer_events_total",
    "Records seen by dealerflow consumers, by outcome",
    ["consumer", "outcome"],  # handled | duplicate | ignored | dead_lettered
)
BATCH_SECONDS = Histogram(
    "dealerflow_consumer_batch_seconds",
    "Time to process one batch, transaction commit included",
    ["consumer"],
)
HANDLER_FAILURES = Counter(
    "dealerflow_consumer_handler_failures_total",
    "Handler attempts that raised (each retry counts)",
    ["consumer"],
)


class EventRouter:
    """Maps event classes to handlers: ``@router.on(VehicleDelivered) async def h(ctx, env)``.

    Several handlers for one class run in registration order within one savepoint. A
    handler registered for a base class also receives its subclasses.
    """

    def __init__(self) -> None:
        self._handlers: dict[type[DomainEvent], list[EventHandler]] = {}
        self._resolved: dict[type[DomainEvent], tuple[EventHandler, ...]] = {}

    def on(self, *event_classes: type[E]) -> Callable[[EventHandler], EventHandler]:
        """Decorator registering a handler for one or more event classes."""
        if not event_classes:
            raise ValueError("on() needs at least one event class")

        def register(handler: EventHandler) -> EventHandler:
            for cls in event_classes:
                self._handlers.setdefault(cls, []).append(handler)
            self._resolved.clear()
            return handler

        return register

    def include(self, other: EventRouter) -> None:
        """Add every handler of ``other`` (after this router's own)."""
        for cls, handlers in other._handlers.items():
            self._handlers.setdefault(cls, []).extend(handlers)
        self._resolved.clear()

    def handlers_for(self, event_class: type[DomainEvent]) -> tuple[EventHandler, ...]:
        """The handlers an event of ``event_class`` is dispatched to (maybe none)."""
        found = self._resolved.get(event_class)
        if found is None:
            found = tuple(h for base in event_class.__mro__ for h in self._handlers.get(base, ()))
            self._resolved[event_class] = found
        return found

    @property
    def event_classes(self) -> frozenset[type[DomainEvent]]:
        return frozenset(self._handlers)


@dataclass
class HandlerContext:
    """What a handler gets besides the envelope: the batch's connection and helpers."""

    conn: DbConnection
    clock: Clock
    envelope: Envelope[DomainEvent]
    settings: ServiceSettings
    topics: TopicRegistry
    source: str
    consumer: str
    topic: str
    partition: int
    offset: int
    outbox: list[OutboxMessage] = field(default_factory=list)

    async def publish(self, event: DomainEvent, *, event_id: str | None = None) -> str:
        """Publish ``event`` (to its context's topic) in this transaction; returns its id.

        causation = the incoming event's id; correlation = the incoming correlation id
        (or, at the start of a chain, the incoming event's id); traceparent = the span
        of this handler, which continues the incoming event's trace.
        """
        meta = self.envelope.meta
        ce_id, message = outbox_message_for(
            event,
            source=self.source,
            topics=self.topics,
            correlation_id=meta.correlation_id or meta.id,
            causation_id=meta.id,
            event_id=event_id,
        )
        # Buffered: the consumer writes all of a batch's messages with one enqueue, and a
        # handler attempt that fails takes its messages with it.
        self.outbox.append(message)
        return ce_id

    async def schedule_timer(
        self,
        *,
        key: str,
        kind: str,
        due_at: datetime,
        payload: dict[str, Any],
        dealer_id: str | None = None,
    ) -> bool:
        """Schedule a durable timer in this transaction (see ``timers.schedule``)."""
        return await timers.schedule(
            self.conn,
            key=key,
            kind=kind,
            dealer_id=dealer_id or self.envelope.meta.dealer_id,
            due_at=due_at,
            payload=payload,
        )

    async def cancel_timer(self, key: str) -> bool:
        """Cancel the pending timer with business key ``key``."""
        return await timers.cancel(self.conn, key)

    async def cancel_timers(self, prefix: str) -> int:
        """Cancel every pending timer whose key starts with ``prefix``."""
        return await timers.cancel_prefix(self.conn, prefix)


@dataclass(frozen=True)
class BatchOutcome:
    """What one batch did (also exported as ``dealerflow_consumer_events_total``)."""

    handled: int = 0
    duplicates: int = 0
    ignored: int = 0
    dead_lettered: int = 0


@dataclass
class _Item:
    record: ConsumerRecord[Any, Any]
    envelope: Envelope[DomainEvent]
    handlers: tuple[EventHandler, ...]


@dataclass
class _Failure:
    record: ConsumerRecord[Any, Any]
    error: str
    attempts: int
    event_id: str | None = None


class _HandlerFailed(Exception):
    def __init__(self, index: int, cause: Exception) -> None:
        super().__init__(str(cause))
        self.index = index
        self.cause = cause


def _is_infrastructure_error(exc: BaseException, conn: DbConnection) -> bool:
    """Errors that say the database (not the event) is the problem: never dead-letter."""
    return conn.is_closed() or isinstance(
        exc,
        asyncpg.PostgresConnectionError
        | asyncpg.InterfaceError
        | asyncpg.exceptions.OperatorInterventionError
        | OSError,
    )


class EventConsumer:
    """Processes batches of Kafka records for one logical consumer (inbox name)."""

    def __init__(
        self,
        *,
        name: str,
        router: EventRouter,
        pool: asyncpg.Pool,
        settings: ServiceSettings,
        clock: Clock | None = None,
        topics: TopicRegistry | None = None,
        source: str | None = None,
        max_retries: int | None = None,
        retry_backoff_s: float = 0.0,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self.name = name
        self.router = router
        self.pool = pool
        self.settings = settings
        self.clock = clock or settings.clock()
        self.topics = topics or TopicRegistry(settings.topic_prefix)
        self.source = source or event_source(settings.service_name)
        self.max_retries = settings.consumer_max_retries if max_retries is None else max_retries
        self.retry_backoff_s = retry_backoff_s
        self._tracer = trace.get_tracer(
            "dealerflow.runtime.consumer", tracer_provider=tracer_provider
        )

    async def process_batch(self, records: Sequence[ConsumerRecord[Any, Any]]) -> BatchOutcome:
        """Process ``records`` in one transaction; raises if it could not commit."""
        started = time.perf_counter()
        items: list[_Item] = []
        failures: list[_Failure] = []
        for record in records:
            try:
                envelope = decode(record.value, record.headers)
            except EventDecodeError as exc:
                failures.append(_Failure(record, f"EventDecodeError: {exc}", 0))
                continue
            except Exception as exc:  # a decoder bug must not block the partition either
                failures.append(_Failure(record, describe_error(exc), 0))
                continue
            items.append(_Item(record, envelope, self.router.handlers_for(type(envelope.event))))

        handled = duplicates = ignored = 0
        async with self.pool.acquire() as conn, conn.transaction():
            fresh = await inbox.claim_many(conn, self.name, [i.envelope.meta.id for i in items])
            todo: list[_Item] = []
            for item in items:
                if item.envelope.meta.id not in fresh:
                    duplicates += 1
                elif not item.handlers:
                    fresh.discard(item.envelope.meta.id)
                    ignored += 1  # a catalogue event we do not react to: inbox only
                else:
                    fresh.discard(item.envelope.meta.id)  # later copies in the batch: dups
                    todo.append(item)
            outbox: list[OutboxMessage] = []
            failed = await self._run_handlers(conn, todo, outbox)
            handled = len(todo) - len(failed)
            if failed:
                # Dead letters keep no inbox row, so a replay from the DLQ is processed.
                await inbox.release(conn, self.name, [f.event_id for f in failed if f.event_id])
                failures.extend(failed)
            failed_at = datetime.now(UTC)
            outbox.extend(self._dead_letter(f, failed_at) for f in failures)
            if outbox:
                await enqueue(conn, outbox)

        for f in failures:
            _LOG.error(
                "dead-lettered %s/%s@%s: %s",
                f.record.topic,
                f.record.partition,
                f.record.offset,
                f.error,
                extra={"consumer": self.name, "event_id": f.event_id},
            )
        outcome = BatchOutcome(handled, duplicates, ignored, len(failures))
        self._observe(outcome, time.perf_counter() - started)
        return outcome

    def _dead_letter(self, failure: _Failure, failed_at: datetime) -> OutboxMessage:
        rec = failure.record
        return dead_letter_message(
            topic=rec.topic,
            partition=rec.partition,
            offset=rec.offset,
            key=rec.key,
            value=rec.value,
            headers=rec.headers,
            error=failure.error,
            consumer=self.name,
            failed_at=failed_at,
            attempts=failure.attempts,
        )

    def _observe(self, outcome: BatchOutcome, seconds: float) -> None:
        for label, count in (
            ("handled", outcome.handled),
            ("duplicate", outcome.duplicates),
            ("ignored", outcome.ignored),
            ("dead_lettered", outcome.dead_lettered),
        ):
            if count:
                EVENTS.labels(self.name, label).inc(count)
        BATCH_SECONDS.labels(self.name).observe(seconds)

    async def _run_handlers(
        self, conn: DbConnection, items: Sequence[_Item], outbox: list[OutboxMessage]
    ) -> list[_Failure]:
        failed: list[_Failure] = []
        pos = 0
        while pos < len(items):
            try:
                async with conn.transaction():  # one savepoint for the rest of the batch
                    segment: list[OutboxMessage] = []
                    for index in range(pos, len(items)):
                        try:
                            segment.extend(await self._invoke(conn, items[index]))
                        except Exception as exc:
                            if _is_infrastructure_error(exc, conn):
                                raise
                            raise _HandlerFailed(index, exc) from exc
            except _HandlerFailed as stop:
                HANDLER_FAILURES.labels(self.name).inc()
                # Redo the events before the failing one, then the failing one with
                # retries, each in its own savepoint; then go optimistic again.
                for index in range(pos, stop.index + 1):
                    prior = (1, stop.cause) if index == stop.index else (0, None)
                    failure = await self._run_isolated(conn, items[index], outbox, *prior)
                    if failure is not None:
                        failed.append(failure)
                pos = stop.index + 1
            else:
                outbox.extend(segment)
                break
        return failed

    async def _run_isolated(
        self,
        conn: DbConnection,
        item: _Item,
        outbox: list[OutboxMessage],
        attempts: int,
        last_error: Exception | None,
    ) -> _Failure | None:
        while attempts <= self.max_retries:
            if attempts and self.retry_backoff_s:
                await asyncio.sleep(self.retry_backoff_s * 2 ** (attempts - 1))
            attempts += 1
            try:
                async with conn.transaction():
                    messages = await self._invoke(conn, item)
            except Exception as exc:
                if _is_infrastructure_error(exc, conn):
                    raise
                HANDLER_FAILURES.labels(self.name).inc()
                last_error = exc
                continue
            outbox.extend(messages)
            return None
        assert last_error is not None
        return _Failure(item.record, describe_error(last_error), attempts, item.envelope.meta.id)

    async def _invoke(self, conn: DbConnection, item: _Item) -> list[OutboxMessage]:
        """Run the item's handlers in a span continuing the event's trace."""
        meta = item.envelope.meta
        rec = item.record
        ctx = HandlerContext(
            conn=conn,
            clock=self.clock,
            envelope=item.envelope,
            settings=self.settings,
            topics=self.topics,
            source=self.source,
            consumer=self.name,
            topic=rec.topic,
            partition=rec.partition,
            offset=rec.offset,
        )
        # Parent: the producer's span (traceparent header) so the whole causal chain is
        # one trace; link: the FastStream batch span we run in (if any).
        batch_span = trace.get_current_span().get_span_context()
        with self._tracer.start_as_current_span(
            f"{rec.topic} process {meta.type}",
            context=context_from_trace_headers(meta.traceparent, meta.tracestate),
            kind=SpanKind.CONSUMER,
            links=[Link(batch_span)] if batch_span.is_valid else None,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": rec.topic,
                "messaging.kafka.destination.partition": rec.partition,
                "messaging.kafka.message.offset": rec.offset,
                "messaging.message.id": meta.id,
                "messaging.consumer.group.name": self.name,
                "cloudevents.event_type": meta.type,
            },
        ):
            for handler in item.handlers:
                await handler(ctx, item.envelope)
        return ctx.outbox
