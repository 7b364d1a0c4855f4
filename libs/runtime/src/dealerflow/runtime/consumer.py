"""The idempotent, batched event consumer.

A service registers handlers on an :class:`EventRouter`, wraps it in an
:class:`EventConsumer` and attaches that to its FastStream broker with
:func:`attach_consumer` (defined in :mod:`dealerflow.runtime.broker`, re-exported here).
Per Kafka batch (see docs/runtime-kafka.md):

1. decode every record (``EventDecodeError`` -> dead letter with the reason; so is an
   event whose ``ce_dealerid`` differs from its payload's ``dealer_id``, one holding
   a character PostgreSQL cannot store, :mod:`dealerflow.runtime.storable`, a record
   larger than ``consumer_max_event_bytes`` (not even decoded), and an event whose time
   is implausibly far ahead of the consumer's clock or before 2000,
   :func:`implausible_time`);
2. in ONE PostgreSQL transaction acting for the dealers of the batch's events
   (:func:`~dealerflow.runtime.db.act_for`: row-level security shows the handlers those
   dealers' rows only): claim the ids of the events it has handlers for in the inbox
   with one statement (duplicates -> no effect; the others are acked, no row); an
   event to handle that names a dealer with no materialised configuration is
   dead-lettered at once with the reason (setting
   ``unknown_dealers="refuse"``, the default; ``DealerConfigured`` is always accepted,
   it is what makes a dealer known); run the handlers of the fresh events; a failing handler is
   retried in its own savepoint (``consumer_max_retries``) and then dead-lettered (at
   once when it raises :class:`UnprocessableEvent`: retrying an invalid event cannot
   help, nor a PostgreSQL "character not storable" error); dead letters are written to
   the outbox (-> ``<topic>.dlq``) in the same transaction;
3. commit; only then FastStream commits the Kafka offsets. If the transaction fails the
   batch is nacked (every partition seeks back) and redelivered after a backoff.

Handlers first run optimistically under ONE savepoint for the whole batch; only when one
raises is that savepoint rolled back and the work up to the failing handler re-run with a
savepoint each (a failing batch handler event by event), after which the rest of the
batch continues optimistically. Handlers must therefore only have effects through
``ctx.conn`` / ``ctx.publish`` / the ``ctx`` timer helpers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind, TracerProvider
from prometheus_client import Counter, Histogram

from dealerflow.contracts.envelope import Envelope, decode
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.events.dealers import DealerConfigured
from dealerflow.contracts.registry import EVENT_TYPES
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.runtime import inbox
from dealerflow.runtime.broker import attach_consumer
from dealerflow.runtime.clock import Clock
from dealerflow.runtime.context import (
    DealerConfiguration,
    EnvironmentDealerConfiguration,
)
from dealerflow.runtime.db import (
    DbConnection,
    act_for,
    bounded_transaction,
    is_infrastructure_error,
)
from dealerflow.runtime.dlq import dead_letter_message, describe_error
from dealerflow.runtime.outbox import OutboxMessage, enqueue
from dealerflow.runtime.publisher import BatchContext, HandlerContext, event_source
from dealerflow.runtime.storable import (
    first_unstorable,
    is_unstorable_error,
    may_hold_unstorable,
    unstorable_reason,
)
from dealerflow.runtime.telemetry import context_from_trace_headers

if TYPE_CHECKING:
    from aiokafka import ConsumerRecord

    from dealerflow.runtime.settings import ServiceSettings

__all__ = [
    "BatchContext",
    "BatchHandler",
    "BatchOutcome",
    "EventConsumer",
    "EventHandler",
    "EventRouter",
    "HandlerContext",
    "UnprocessableEvent",
    "attach_consumer",
    "implausible_time",
    "oversize_reason",
    "time_out_of_bounds",
    "unknown_dealer_error",
    "unknown_dealers",
]

E = TypeVar("E", bound=DomainEvent)
EventHandler = Callable[[HandlerContext, Envelope[Any]], Awaitable[None]]
BatchHandler = Callable[[BatchContext, Sequence[Envelope[Any]]], Awaitable[None]]
_Handlers = tuple[EventHandler, ...]
_BatchHandlers = tuple[BatchHandler, ...]

_LOG = logging.getLogger("dealerflow.consumer")
_MAX_LINKS = 64  # span links of a batch-handler span (one per event, capped)

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


class UnprocessableEvent(Exception):
    """Raised by a handler for an event that can never be handled (its content is
    invalid): the event is dead-lettered with this cause after the first attempt, without
    the retries meant for passing failures, and the partition moves on."""


# Which of the given dealers have a materialised configuration (runtime migration 0004).
_KNOWN_DEALERS = "SELECT dealer_id FROM dealer_configurations WHERE dealer_id = ANY($1::text[])"


async def unknown_dealers(conn: DbConnection, dealer_ids: Sequence[str]) -> set[str]:
    """Those of ``dealer_ids`` the dealer configuration does not know (no
    ``dealer_configurations`` row: no ``DealerConfigured`` received for them)."""
    wanted = sorted(set(dealer_ids))
    if not wanted:
        return set()
    known = {r["dealer_id"] for r in await conn.fetch(_KNOWN_DEALERS, wanted)}
    return set(wanted) - known


def unknown_dealer_error(dealer_id: str) -> UnprocessableEvent:
    """What an event of an unknown dealer is dead-lettered with (``unknown_dealers="refuse"``)."""
    return UnprocessableEvent(
        f"dealer {dealer_id!r} is unknown to the dealer configuration "
        "(no DealerConfigured received; unknown_dealers=refuse)"
    )


def _require_classes(classes: Sequence[type[DomainEvent]]) -> None:
    if not classes:
        raise ValueError("name at least one event class")


class EventRouter:
    """Maps event classes to handlers.

    ``@router.on(VehicleDelivered) async def h(ctx, env)`` runs once per event;
    ``@router.on_batch(VehicleDelivered) async def h(ctx, envs)`` gets each run of
    consecutive such events in a Kafka batch at once (for set-based SQL). Several handlers
    of one kind run in registration order; a class has handlers of one kind only. A
    handler registered for a base class also receives its subclasses.
    """

    def __init__(self) -> None:
        self._handlers: dict[type[DomainEvent], list[EventHandler]] = {}
        self._batch: dict[type[DomainEvent], list[BatchHandler]] = {}
        self._resolved: dict[type[DomainEvent], tuple[_Handlers, _BatchHandlers]] = {}

    def on(self, *event_classes: type[E]) -> Callable[[EventHandler], EventHandler]:
        """Decorator registering a per-event handler for one or more event classes."""
        _require_classes(event_classes)

        def register(handler: EventHandler) -> EventHandler:
            self._add(self._handlers, self._batch, event_classes, handler)
            return handler

        return register

    def on_batch(self, *event_classes: type[E]) -> Callable[[BatchHandler], BatchHandler]:
        """Decorator registering a batch handler for one or more event classes."""
        _require_classes(event_classes)

        def register(handler: BatchHandler) -> BatchHandler:
            self._add(self._batch, self._handlers, event_classes, handler)
            return handler

        return register

    def _add(self, table: Any, other: Any, classes: Sequence[type[E]], handler: Any) -> None:
        for cls in classes:
            if cls in other:
                raise ValueError(f"{cls.__name__} has handlers of the other kind already")
            table.setdefault(cls, []).append(handler)
        self._resolved.clear()

    def include(self, other: EventRouter) -> None:
        """Add every handler of ``other`` (after this router's own)."""
        for cls, handlers in other._handlers.items():
            for handler in handlers:
                self._add(self._handlers, self._batch, [cls], handler)
        for cls, batch_handlers in other._batch.items():
            for batch_handler in batch_handlers:
                self._add(self._batch, self._handlers, [cls], batch_handler)

    def event_classes(self) -> frozenset[type[DomainEvent]]:
        """The event classes with handlers registered (per-event or batch)."""
        return frozenset(self._handlers) | frozenset(self._batch)

    def handlers_for(self, event_class: type[DomainEvent]) -> tuple[_Handlers, _BatchHandlers]:
        """``(per-event handlers, batch handlers)`` for ``event_class`` (maybe both empty)."""
        found = self._resolved.get(event_class)
        if found is None:
            mro = event_class.__mro__
            found = (
                tuple(h for base in mro for h in self._handlers.get(base, ())),
                tuple(h for base in mro for h in self._batch.get(base, ())),
            )
            if found[0] and found[1]:
                raise TypeError(f"{event_class.__name__} has per-event and batch handlers")
            self._resolved[event_class] = found
        return found


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
    handlers: _Handlers
    batch_handlers: _BatchHandlers


@dataclass
class _Unit:
    """What runs as one piece: one event's handlers, or batch handlers over a run."""

    items: list[_Item]
    batch_handlers: _BatchHandlers = ()


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


def _reused_id(event_id: str) -> str:
    """The dead-letter reason of an event whose id a different event already used."""
    refusal = UnprocessableEvent(
        f"duplicate event id {event_id} with a different body: this consumer already "
        "handled another event (type, source, dealer, subject or payload) under this id; "
        "a producer must give every event an id of its own"
    )
    return describe_error(refusal)


def _refused(exc: BaseException | None) -> bool:
    """Errors no retry can help: the event is invalid, or holds text PostgreSQL refuses."""
    return isinstance(exc, UnprocessableEvent) or (exc is not None and is_unstorable_error(exc))


def unstorable_in(record: ConsumerRecord[Any, Any], envelope: Envelope[Any]) -> str | None:
    """Where ``envelope`` (decoded from ``record``) holds a character PostgreSQL cannot
    store (NUL, a lone surrogate), e.g. ``"data.note: U+0000"``; None when it holds none.
    The payload is walked only when the record's bytes hold such an escape."""
    meta = envelope.meta
    attributes = {
        "id": meta.id,
        "type": meta.type,
        "source": meta.source,
        "subject": meta.subject,
        "dealerid": meta.dealer_id,
        "correlationid": meta.correlation_id,
        "causationid": meta.causation_id,
        "actor": meta.actor,
        "traceparent": meta.traceparent,
        "tracestate": meta.tracestate,
    }
    if (where := first_unstorable(attributes)) is not None:
        return f"attribute {where}"
    if may_hold_unstorable(record.value):
        return first_unstorable(envelope.event.model_dump(), "data")
    return None


def oversize_reason(
    record: ConsumerRecord[Any, Any], settings: ServiceSettings
) -> UnprocessableEvent | None:
    """Why ``record`` is too large to be read (``consumer_max_event_bytes``), else None."""
    size = len(record.value or b"")
    if size <= settings.consumer_max_event_bytes:
        return None
    return UnprocessableEvent(
        f"record of {size} bytes is larger than consumer_max_event_bytes="
        f"{settings.consumer_max_event_bytes}"
    )


def time_out_of_bounds(
    name: str, value: datetime, now: datetime, settings: ServiceSettings
) -> str | None:
    """Why ``value`` (a time named ``name`` in a consumed record) cannot be true: more
    than ``consumer_max_event_lead_s`` ahead of ``now`` (the consumer's clock) or before
    ``consumer_min_event_time``; None when it is plausible."""
    if value > now + timedelta(seconds=settings.consumer_max_event_lead_s):
        return (
            f"event {name} {value.isoformat()} is more than "
            f"{settings.consumer_max_event_lead_s:.0f} s ahead of the consumer's clock "
            f"({now.isoformat()}; consumer_max_event_lead_s)"
        )
    if value < settings.consumer_min_event_time:
        return (
            f"event {name} {value.isoformat()} is before "
            f"{settings.consumer_min_event_time.isoformat()} (consumer_min_event_time)"
        )
    return None


def implausible_time(
    envelope: Envelope[Any], now: datetime, settings: ServiceSettings
) -> UnprocessableEvent | None:
    """Why the event's time (``ce_time``, then the payload's ``occurred_at``) cannot be
    true (:func:`time_out_of_bounds`); None when both are plausible."""
    for name, value in (("time", envelope.meta.time), ("occurred_at", envelope.event.occurred_at)):
        if (reason := time_out_of_bounds(name, value, now, settings)) is not None:
            return UnprocessableEvent(reason)
    return None


def _units(items: Sequence[_Item]) -> list[_Unit]:
    """Per-event items stay alone; consecutive items with the same batch handlers merge."""
    units: list[_Unit] = []
    for item in items:
        if item.batch_handlers and units and units[-1].batch_handlers == item.batch_handlers:
            units[-1].items.append(item)
        else:
            units.append(_Unit([item], item.batch_handlers))
    return units


class EventConsumer:
    """Processes batches of Kafka records for one logical consumer (its inbox name)."""

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
        dealers: DealerConfiguration | None = None,
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
        self.dealers = dealers or EnvironmentDealerConfiguration(settings.policy_overrides)
        self._tracer = trace.get_tracer(
            "dealerflow.runtime.consumer", tracer_provider=tracer_provider
        )
        # Resolve every catalogue class now: a router mixing handler kinds through a base
        # class fails at start-up instead of failing (and blocking) a batch later.
        for event_class in EVENT_TYPES.values():
            router.handlers_for(event_class)

    async def process_batch(self, records: Sequence[ConsumerRecord[Any, Any]]) -> BatchOutcome:
        """Process ``records`` in one transaction; raises if it could not commit."""
        started = time.perf_counter()
        items: list[_Item] = []
        failures: list[_Failure] = []
        now = self.clock.now()
        for record in records:
            if (too_large := oversize_reason(record, self.settings)) is not None:
                failures.append(_Failure(record, describe_error(too_large), 0))
                continue
            try:
                envelope = decode(record.value, record.headers)
            except Exception as exc:  # a decoder bug must not block the partition either
                failures.append(_Failure(record, describe_error(exc), 0))
                continue
            if (where := unstorable_in(record, envelope)) is not None:
                refusal = UnprocessableEvent(unstorable_reason(where))
                failures.append(_Failure(record, describe_error(refusal), 0))
                continue
            if (implausible := implausible_time(envelope, now, self.settings)) is not None:
                failures.append(_Failure(record, describe_error(implausible), 0))
                continue
            handlers, batch_handlers = self.router.handlers_for(type(envelope.event))
            items.append(_Item(record, envelope, handlers, batch_handlers))

        # A catalogue event we do not react to has no effect to guard: no inbox row (on a
        # topic it shares with events we handle, e.g. the notifier's own TaskScheduled).
        ignored = len(items)
        items = [i for i in items if i.handlers or i.batch_handlers]
        ignored -= len(items)
        duplicates = 0
        async with self.pool.acquire() as conn, bounded_transaction(conn):
            # a batch may span dealers: it acts for all of them, and for no other
            await act_for(conn, [i.envelope.meta.dealer_id for i in items])
            digests = [inbox.event_digest(i.envelope) for i in items]
            claims = [(i.envelope.meta.id, d) for i, d in zip(items, digests, strict=True)]
            claimed = await inbox.claim_events(conn, self.name, claims)
            fresh = claimed.fresh
            todo: list[_Item] = []
            for item, digest in zip(items, digests, strict=True):
                event_id = item.envelope.meta.id
                if event_id not in fresh:
                    if claimed.conflicts(event_id, digest):
                        # not a redelivery: another event under a used id; the one
                        # handled keeps its inbox row (no event id on the failure)
                        failures.append(_Failure(item.record, _reused_id(event_id), 0))
                    else:
                        duplicates += 1
                    continue
                fresh.discard(event_id)  # later copies in this batch: compared, not handled
                todo.append(item)
            todo, refused = await self._refuse_unknown_dealers(conn, todo)
            outbox: list[OutboxMessage] = []
            failed = refused + await self._run_units(conn, _units(todo), outbox)
            if failed:
                # Dead letters keep no inbox row, so a replay from the DLQ is processed.
                await inbox.release(conn, self.name, [f.event_id for f in failed if f.event_id])
                failures.extend(failed)
            failed_at = datetime.now(UTC)
            outbox.extend(self._dead_letter(f, failed_at) for f in failures)
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
        handled = len(todo) + len(refused) - len(failed)
        outcome = BatchOutcome(handled, duplicates, ignored, len(failures))
        self._observe(outcome, time.perf_counter() - started)
        return outcome

    async def _refuse_unknown_dealers(
        self, conn: DbConnection, todo: list[_Item]
    ) -> tuple[list[_Item], list[_Failure]]:
        """``todo`` without the events of dealers the configuration does not know, and
        their failures (with ``unknown_dealers="refuse"``; else ``todo`` unchanged)."""
        if self.settings.unknown_dealers != "refuse":
            return todo, []
        checked = [i for i in todo if not isinstance(i.envelope.event, DealerConfigured)]
        unknown = await unknown_dealers(conn, [i.envelope.meta.dealer_id for i in checked])
        if not unknown:
            return todo, []
        kept: list[_Item] = []
        refused: list[_Failure] = []
        for item in todo:
            dealer_id = item.envelope.meta.dealer_id
            if dealer_id in unknown and not isinstance(item.envelope.event, DealerConfigured):
                error = describe_error(unknown_dealer_error(dealer_id))
                refused.append(_Failure(item.record, error, 0, item.envelope.meta.id))
            else:
                kept.append(item)
        return kept, refused

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

    async def _run_units(
        self, conn: DbConnection, units: Sequence[_Unit], outbox: list[OutboxMessage]
    ) -> list[_Failure]:
        failed: list[_Failure] = []
        pos = 0
        while pos < len(units):
            try:
                async with bounded_transaction(conn):  # one savepoint for the rest of the batch
                    segment: list[OutboxMessage] = []
                    for index in range(pos, len(units)):
                        try:
                            segment.extend(await self._run_unit(conn, units[index]))
                        except Exception as exc:
                            if is_infrastructure_error(exc, conn):
                                raise
                            raise _HandlerFailed(index, exc) from exc
            except _HandlerFailed as stop:
                HANDLER_FAILURES.labels(self.name).inc()
                # Redo the units before the failing one, each in its own savepoint, then
                # the failing one event by event with retries; then optimistic again.
                for index in range(pos, stop.index):
                    await self._run_isolated(conn, units[index], outbox, failed)
                failing = units[stop.index]
                if len(failing.items) == 1:
                    await self._run_isolated(conn, failing, outbox, failed, 1, stop.cause)
                else:
                    for item in failing.items:
                        single = _Unit([item], failing.batch_handlers)
                        await self._run_isolated(conn, single, outbox, failed)
                pos = stop.index + 1
            else:
                outbox.extend(segment)
                break
        return failed

    async def _run_isolated(
        self,
        conn: DbConnection,
        unit: _Unit,
        outbox: list[OutboxMessage],
        failed: list[_Failure],
        attempts: int = 0,
        last_error: Exception | None = None,
    ) -> None:
        """Run ``unit`` in its own savepoint, retrying; dead-letter what keeps failing."""
        if len(unit.items) > 1:  # a batch run that failed as a whole: try event by event
            try:
                async with conn.transaction():
                    outbox.extend(await self._run_unit(conn, unit))
                return
            except Exception as exc:
                if is_infrastructure_error(exc, conn):
                    raise
            for item in unit.items:
                single = _Unit([item], unit.batch_handlers)
                await self._run_isolated(conn, single, outbox, failed)
            return
        while attempts <= self.max_retries and not _refused(last_error):
            if attempts and self.retry_backoff_s:
                await asyncio.sleep(self.retry_backoff_s * 2 ** (attempts - 1))
            attempts += 1
            try:
                async with conn.transaction():
                    messages = await self._run_unit(conn, unit)
            except Exception as exc:
                if is_infrastructure_error(exc, conn):
                    raise
                HANDLER_FAILURES.labels(self.name).inc()
                last_error = exc
                continue
            outbox.extend(messages)
            return
        assert last_error is not None
        item = unit.items[0]
        error = describe_error(last_error)
        failed.append(_Failure(item.record, error, attempts, item.envelope.meta.id))

    def _scope(self, conn: DbConnection) -> dict[str, Any]:
        return {
            "conn": conn,
            "clock": self.clock,
            "settings": self.settings,
            "topics": self.topics,
            "source": self.source,
            "consumer": self.name,
        }

    async def _run_unit(self, conn: DbConnection, unit: _Unit) -> list[OutboxMessage]:
        """Run a unit's handlers inside a span; returns the messages they published."""
        first = unit.items[0]
        rec = first.record
        batch_span = trace.get_current_span().get_span_context()
        attributes: dict[str, Any] = {
            "messaging.system": "kafka",
            "messaging.destination.name": rec.topic,
            "messaging.kafka.destination.partition": rec.partition,
            "messaging.consumer.group.name": self.name,
            "cloudevents.event_type": first.envelope.meta.type,
        }
        if not unit.batch_handlers:
            # Parent: the producer's span (traceparent header), so the causal chain is
            # one trace; link: the FastStream batch span we run in.
            meta = first.envelope.meta
            parent = context_from_trace_headers(meta.traceparent, meta.tracestate)
            links = [Link(batch_span)] if batch_span.is_valid else []
            attributes["messaging.kafka.message.offset"] = rec.offset
            attributes["messaging.message.id"] = meta.id
            ctx: HandlerContext | BatchContext = HandlerContext(
                **self._scope(conn),
                dealers=self.dealers,
                envelope=first.envelope,
                topic=rec.topic,
                partition=rec.partition,
                offset=rec.offset,
            )
        else:
            # Many events, many parents: a child of the batch span, linked to producers.
            parent = None
            links = []
            for item in unit.items[:_MAX_LINKS]:
                m = item.envelope.meta
                if (remote := context_from_trace_headers(m.traceparent, m.tracestate)) is not None:
                    links.append(Link(trace.get_current_span(remote).get_span_context()))
            attributes["messaging.batch.message_count"] = len(unit.items)
            ctx = BatchContext(
                **self._scope(conn),
                envelopes=[i.envelope for i in unit.items],
                dealers=self.dealers,
                positions=[
                    (i.record.topic, i.record.partition, i.record.offset) for i in unit.items
                ],
            )
        with self._tracer.start_as_current_span(
            f"{rec.topic} process {first.envelope.meta.type}",
            context=parent,
            kind=SpanKind.CONSUMER,
            links=links,
            attributes=attributes,
        ):
            if isinstance(ctx, HandlerContext):
                for handler in first.handlers:
                    await handler(ctx, first.envelope)
            else:
                for batch_handler in unit.batch_handlers:
                    await batch_handler(ctx, ctx.envelopes)
        return ctx.outbox
