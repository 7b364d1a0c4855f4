"""The idempotent, batched consumer of a topic whose records are not CloudEvents.

Some topics carry documents from outside systems as they come (raw lead submissions on
``inbound.leads``: JSON or ADF XML). :class:`RawRecordConsumer` gives them the guarantees
of :class:`~dealerflow.runtime.consumer.EventConsumer`, with its machinery (settings,
dead letters, metrics, spans); only the decode-and-route step is replaced by one handler
per record, ``async def h(ctx: RecordContext, record) -> None``. Per Kafka batch:

1. in ONE PostgreSQL transaction: claim every record's inbox key with one statement
   (``key(record)``: by default its topic/partition/offset; a service may derive it from
   the content or a provider's id header). A key seen before, or again in the batch, is a
   duplicate: no effect;
2. each fresh record's handler runs in its own savepoint. An exception of one of the
   ``refusals`` classes says the record itself is refused (unreadable, or against the
   rules): it is dead-lettered at once with the exception's message. Any other
   exception is retried ``consumer_max_retries`` times, then dead-lettered. Dead letters
   go to ``<topic>.dlq`` through the outbox (:func:`~dealerflow.runtime.dlq.dead_letter_message`)
   in the same transaction, and their inbox claim is released so a replay is processed;
   Dealer isolation: a record that declares its dealer (header ``ce_dealerid``) acts
   for that dealer only (:func:`~dealerflow.runtime.db.act_for`); one that does not
   acts for every dealer, as an integration client does, since only its content names
   the dealer. Either way the handler's dealer look-ups (``ctx.dealer(id)``) refuse
   (:class:`~dealerflow.runtime.consumer.UnprocessableEvent`: dead-lettered at once) a
   dealer other than the declared one, and, with ``unknown_dealers="refuse"``, a dealer
   the dealer configuration does not know;
3. infrastructure errors (connection lost, deadlock, serialization failure) are never the
   record's fault: they are re-raised, nothing commits, and ``attach_consumer`` redelivers
   the batch. Offsets are committed only after the transaction committed.

The handler's :class:`RecordContext` is a :class:`~dealerflow.runtime.context.UseCaseContext`
(pass it straight to the use case) that also carries the record. Events it publishes
start a chain (a raw record has no event id to be caused by).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import asyncpg
from opentelemetry.trace import SpanKind, TracerProvider

from dealerflow.contracts.topics import TopicRegistry
from dealerflow.runtime import inbox
from dealerflow.runtime.clock import Clock
from dealerflow.runtime.consumer import (
    HANDLER_FAILURES,
    BatchOutcome,
    EventConsumer,
    EventRouter,
    UnprocessableEvent,
    _Failure,
    unknown_dealer_error,
    unknown_dealers,
)
from dealerflow.runtime.context import DealerConfiguration
from dealerflow.runtime.db import (
    ALL_DEALERS,
    DbConnection,
    act_for,
    bounded_transaction,
    is_infrastructure_error,
)
from dealerflow.runtime.dlq import describe_error
from dealerflow.runtime.outbox import OutboxMessage, enqueue
from dealerflow.runtime.publisher import ConsumedContext
from dealerflow.runtime.storable import first_unstorable, is_unstorable_error, unstorable_reason

if TYPE_CHECKING:
    from aiokafka import ConsumerRecord

    from dealerflow.policy import DealerSettings
    from dealerflow.runtime.service import ServiceContext
    from dealerflow.runtime.settings import ServiceSettings

__all__ = [
    "DEALER_HEADER",
    "RawRecordConsumer",
    "RecordContext",
    "RecordDealers",
    "RecordHandler",
    "RecordKey",
    "raw_record_processor",
    "record_header",
    "record_position",
]

_LOG = logging.getLogger("dealerflow.raw_consumer")


def record_position(record: ConsumerRecord[Any, Any]) -> str:
    """The default inbox key: ``<topic>/<partition>/<offset>`` (a redelivery of the same
    record is a duplicate; the same document sent twice is not)."""
    return f"{record.topic}/{record.partition}/{record.offset}"


def record_header(record: ConsumerRecord[Any, Any], *names: str) -> str | None:
    """The first of the headers ``names`` (case-insensitive) with a non-blank value, as
    stripped text (UTF-8, lenient); None when there is none."""
    wanted = {name.lower() for name in names}
    for key, value in record.headers or ():
        if key.lower() in wanted and value is not None:
            text = bytes(value).decode("utf-8", errors="replace").strip()
            if text:
                return text
    return None


#: The header in which a raw record may declare the dealer it is about.
DEALER_HEADER = "ce_dealerid"


@dataclass(frozen=True)
class RecordDealers:
    """The dealer configuration as a raw record's handler sees it: ``inner``'s, refusing
    a dealer other than the one the record declares, and (``refuse_unknown``) a dealer
    with no materialised configuration."""

    inner: DealerConfiguration
    declared: str | None = None
    refuse_unknown: bool = True

    async def settings(self, conn: DbConnection, dealer_id: str) -> DealerSettings:
        """``inner``'s configuration of ``dealer_id``, or UnprocessableEvent (module doc)."""
        if self.declared is not None and dealer_id != self.declared:
            raise UnprocessableEvent(
                f"the record declares dealer {self.declared!r} ({DEALER_HEADER}) but names "
                f"dealer {dealer_id!r}"
            )
        if self.refuse_unknown and await unknown_dealers(conn, [dealer_id]):
            raise unknown_dealer_error(dealer_id)
        return await self.inner.settings(conn, dealer_id)


@dataclass(kw_only=True)
class RecordContext(ConsumedContext):
    """Context of a raw-record handler: the use-case context of the batch's transaction,
    plus the record (what it publishes starts a chain)."""

    record: ConsumerRecord[Any, Any]

    def header(self, *names: str) -> str | None:
        """A header of the record (see :func:`record_header`)."""
        return record_header(self.record, *names)


#: Handles one record; its effects go through ``ctx`` only (they share the batch's
#: transaction and are rolled back with its savepoint).
RecordHandler = Callable[[RecordContext, "ConsumerRecord[Any, Any]"], Awaitable[None]]
#: The inbox key of a record (raising = the record is dead-lettered).
RecordKey = Callable[["ConsumerRecord[Any, Any]"], str]


class RawRecordConsumer(EventConsumer):
    """Processes batches of raw records for one logical consumer (module docstring).

    An :class:`EventConsumer` whose records are handed to ``handler`` undecoded, with no
    event router; the batch transaction, inbox, dead letters and metrics are its own.
    """

    def __init__(
        self,
        *,
        name: str,
        handler: RecordHandler,
        pool: asyncpg.Pool,
        settings: ServiceSettings,
        key: RecordKey = record_position,
        refusals: tuple[type[Exception], ...] = (),
        clock: Clock | None = None,
        topics: TopicRegistry | None = None,
        source: str | None = None,
        max_retries: int | None = None,
        retry_backoff_s: float = 0.0,
        tracer_provider: TracerProvider | None = None,
        dealers: DealerConfiguration | None = None,
    ) -> None:
        super().__init__(
            name=name,
            router=EventRouter(),
            pool=pool,
            settings=settings,
            clock=clock,
            topics=topics,
            source=source,
            max_retries=max_retries,
            retry_backoff_s=retry_backoff_s,
            tracer_provider=tracer_provider,
            dealers=dealers,
        )
        self.handler = handler
        self.key = key
        self.refusals = refusals

    async def process_batch(self, records: Sequence[ConsumerRecord[Any, Any]]) -> BatchOutcome:
        """Process ``records`` in one transaction; raises if it could not commit."""
        started = time.perf_counter()
        keyed: list[tuple[ConsumerRecord[Any, Any], str]] = []
        failures: list[_Failure] = []
        for record in records:
            try:
                key = self.key(record)
            except Exception as exc:  # no key, no inbox: the record cannot be handled
                failures.append(_Failure(record, describe_error(exc), 0))
                continue
            if (where := first_unstorable(key, "inbox key")) is not None:
                refusal = UnprocessableEvent(unstorable_reason(where))
                failures.append(_Failure(record, describe_error(refusal), 0))
                continue
            keyed.append((record, key))
        handled = duplicates = 0
        async with self.pool.acquire() as conn, bounded_transaction(conn):
            fresh = await inbox.claim_many(conn, self.name, [key for _, key in keyed])
            outbox: list[OutboxMessage] = []
            for record, key in keyed:
                if key not in fresh:
                    duplicates += 1
                    continue
                fresh.discard(key)  # a later copy in this batch is a duplicate
                failure = await self._handle(conn, record, key, outbox)
                if failure is None:
                    handled += 1
                else:
                    failures.append(failure)
            # Dead letters keep no inbox row, so a replay from the DLQ is processed.
            await inbox.release(conn, self.name, [f.event_id for f in failures if f.event_id])
            failed_at = datetime.now(UTC)
            outbox.extend(self._dead_letter(f, failed_at) for f in failures)
            await enqueue(conn, outbox)
        for f in failures:
            _LOG.error(
                "dead-lettered %s: %s",
                record_position(f.record),
                f.error,
                extra={"consumer": self.name},
            )
        outcome = BatchOutcome(handled=handled, duplicates=duplicates, dead_lettered=len(failures))
        self._observe(outcome, time.perf_counter() - started)
        return outcome

    async def _handle(
        self,
        conn: DbConnection,
        record: ConsumerRecord[Any, Any],
        key: str,
        outbox: list[OutboxMessage],
    ) -> _Failure | None:
        """Run the handler in a savepoint, retrying; the failure to dead-letter, if any."""
        declared = record_header(record, DEALER_HEADER)
        # this record's scope, in the batch's transaction (a savepoint rolled back below
        # returns to it; the next record sets its own)
        try:
            await act_for(conn, declared or ALL_DEALERS)
        except ValueError as exc:  # a declared id no dealer can have (e.g. a comma list)
            return _Failure(record, describe_error(UnprocessableEvent(str(exc))), 0, key)
        refuse_unknown = self.settings.unknown_dealers == "refuse"
        if declared is not None and refuse_unknown and await unknown_dealers(conn, [declared]):
            return _Failure(record, describe_error(unknown_dealer_error(declared)), 0, key)
        dealers = RecordDealers(self.dealers, declared, refuse_unknown)
        attempts = 0
        while True:
            if attempts and self.retry_backoff_s:
                await asyncio.sleep(self.retry_backoff_s * 2 ** (attempts - 1))
            attempts += 1
            ctx = RecordContext(**self._scope(conn), dealers=dealers, record=record)
            try:
                with self._tracer.start_as_current_span(
                    f"{record.topic} process record",
                    kind=SpanKind.CONSUMER,
                    attributes={
                        "messaging.system": "kafka",
                        "messaging.destination.name": record.topic,
                        "messaging.kafka.destination.partition": record.partition,
                        "messaging.kafka.message.offset": record.offset,
                        "messaging.consumer.group.name": self.name,
                    },
                ):
                    async with conn.transaction():
                        await self.handler(ctx, record)
            except Exception as exc:
                if is_infrastructure_error(exc, conn):
                    raise
                HANDLER_FAILURES.labels(self.name).inc()
                refused = isinstance(exc, (*self.refusals, UnprocessableEvent))
                refused = refused or is_unstorable_error(exc)
                if refused or attempts > self.max_retries:
                    return _Failure(record, describe_error(exc), attempts, key)
                continue
            outbox.extend(ctx.outbox)
            return None


def raw_record_processor(
    handler: RecordHandler,
    *,
    key: RecordKey = record_position,
    refusals: tuple[type[Exception], ...] = (),
) -> Callable[[ServiceContext[Any], str], RawRecordConsumer]:
    """A ``Subscription(processor=...)`` factory: the started service's
    :class:`RawRecordConsumer` for ``handler`` (inbox name given by the runtime)."""

    def build(ctx: ServiceContext[Any], name: str) -> RawRecordConsumer:
        return RawRecordConsumer(
            name=name,
            handler=handler,
            pool=ctx.db,
            settings=ctx.settings,
            key=key,
            refusals=refusals,
            clock=ctx.clock,
            topics=ctx.topics,
            source=ctx.source,
            tracer_provider=ctx.tracer_provider,
            dealers=ctx.dealers,
        )

    return build
