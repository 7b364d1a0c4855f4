"""Run a service's REAL event handlers on one event and roll everything back: what the
consumer would do with it, without doing it (a preview).

:func:`envelope_of` reads the event as a caller gives it: a structured CloudEvent as it
is on Kafka, or just ``{"type": ..., "data": {...}}`` (the type as the CloudEvents type
``dealerflow.sales.VehicleDelivered.v1`` or the class name ``VehicleDelivered``).
:func:`dry_run` opens its own transaction acting for the event's dealer, runs the
per-event (and batch) handlers of the routers as the consumer does, lets ``inspect`` read
what they wrote (rows written in the transaction: ``xmin = pg_current_xact_id()::xid``),
and rolls the transaction back. What the handlers published is returned decoded; nothing
reaches the outbox, the inbox or any table.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import asyncpg

from dealerflow.contracts.envelope import Envelope, EventDecodeError, decode
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.events.dealers import DealerConfigured
from dealerflow.contracts.registry import EVENT_TYPES
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.runtime.clock import Clock
from dealerflow.runtime.consumer import EventRouter, unknown_dealer_error, unknown_dealers
from dealerflow.runtime.context import DealerConfiguration
from dealerflow.runtime.db import DbConnection, act_for
from dealerflow.runtime.publisher import BatchContext, HandlerContext
from dealerflow.runtime.settings import ServiceSettings

T = TypeVar("T")

__all__ = ["DryRun", "dry_run", "envelope_of"]

#: The source of an event given without one.
PREVIEW_SOURCE = "/dealerflow/preview"

_TYPES_BY_NAME = {cls.__name__: ce_type for ce_type, cls in EVENT_TYPES.items()}


def envelope_of(document: Mapping[str, Any]) -> Envelope[DomainEvent]:
    """The envelope of a structured CloudEvent, or of ``{type, data}`` (id, source and
    specversion filled in); raises EventDecodeError with the reason."""
    raw_type = document.get("type")
    if not isinstance(raw_type, str) or not raw_type:
        raise EventDecodeError("the event has no type")
    full = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": PREVIEW_SOURCE,
        **document,
        "type": _TYPES_BY_NAME.get(raw_type, raw_type),
    }
    if "data" not in full:
        raise EventDecodeError("the event has no data", raw_type)
    headers = [("content-type", b"application/cloudevents+json")]
    return decode(json.dumps(full, default=str).encode(), headers)


@dataclass(frozen=True)
class DryRun(Generic[T]):
    """What the handlers did before the rollback."""

    #: How many handlers the routers have for the event (0: the service ignores it).
    handlers: int
    #: The events the handlers published (never enqueued).
    published: list[Envelope[DomainEvent]]
    #: What ``inspect`` read inside the transaction after the handlers ran.
    seen: T


class _Rollback(Exception):
    """Ends the dry run's transaction (always rolled back)."""


async def dry_run(
    pool: asyncpg.Pool,
    routers: Sequence[EventRouter],
    envelope: Envelope[DomainEvent],
    inspect: Callable[[DbConnection], Awaitable[T]],
    *,
    settings: ServiceSettings,
    clock: Clock,
    dealers: DealerConfiguration,
    topics: TopicRegistry | None = None,
    source: str = PREVIEW_SOURCE,
) -> DryRun[T]:
    """Run the handlers of ``routers`` for ``envelope`` in a transaction acting for its
    dealer, call ``inspect`` on the connection, then roll the transaction back.

    The handlers see the clock, settings and dealer configuration of the service, as in
    its consumer; an exception of a handler propagates (after the rollback). An event of
    a dealer without configuration raises UnprocessableEvent as the consumer refuses it
    (``unknown_dealers="refuse"``)."""
    scope: dict[str, Any] = {
        "clock": clock,
        "settings": settings,
        "topics": topics or TopicRegistry(settings.topic_prefix),
        "source": source,
        "consumer": "dry-run",
    }
    found: list[DryRun[T]] = []
    async with pool.acquire() as conn:
        try:
            async with conn.transaction():
                await act_for(conn, [envelope.meta.dealer_id])
                await _refuse_unknown_dealer(conn, envelope, settings)
                count, outbox = await _run(conn, routers, envelope, scope, dealers)
                seen = await inspect(conn)
                published = [decode(m.value, m.headers) for m in outbox]
                found.append(DryRun(handlers=count, published=published, seen=seen))
                raise _Rollback
        except _Rollback:
            pass
    return found[0]


async def _refuse_unknown_dealer(
    conn: DbConnection, envelope: Envelope[DomainEvent], settings: ServiceSettings
) -> None:
    if settings.unknown_dealers != "refuse" or isinstance(envelope.event, DealerConfigured):
        return
    if await unknown_dealers(conn, [envelope.meta.dealer_id]):
        raise unknown_dealer_error(envelope.meta.dealer_id)


async def _run(
    conn: DbConnection,
    routers: Sequence[EventRouter],
    envelope: Envelope[DomainEvent],
    scope: dict[str, Any],
    dealers: DealerConfiguration,
) -> tuple[int, list[Any]]:
    count = 0
    outbox: list[Any] = []
    for router in routers:
        handlers, batch_handlers = router.handlers_for(type(envelope.event))
        count += len(handlers) + len(batch_handlers)
        if handlers:
            ctx = HandlerContext(
                conn=conn,
                dealers=dealers,
                envelope=envelope,
                topic="dry-run",
                partition=0,
                offset=0,
                **scope,
            )
            for handler in handlers:
                await handler(ctx, envelope)
            outbox.extend(ctx.outbox)
        if batch_handlers:
            batch = BatchContext(
                conn=conn,
                envelopes=[envelope],
                dealers=dealers,
                positions=[("dry-run", 0, 0)],
                **scope,
            )
            for batch_handler in batch_handlers:
                await batch_handler(batch, batch.envelopes)
            outbox.extend(batch.outbox)
    return count, outbox
