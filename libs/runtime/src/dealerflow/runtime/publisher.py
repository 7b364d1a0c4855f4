"""Publishing domain events: encode as a binary-mode CloudEvent and write to the outbox.

Nothing here talks to Kafka. The event is enqueued in the caller's transaction, so it is
published (by the outbox relay) if and only if the state change that caused it commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from dealerflow.contracts.envelope import encode_binary
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.outbox import OutboxMessage, enqueue
from dealerflow.runtime.telemetry import current_trace_headers

CE_ID_HEADER = "ce_id"


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
) -> tuple[str, OutboxMessage]:
    """Encode ``event`` for its topic; returns ``(event id, outbox message)``.

    The active OpenTelemetry span's ``traceparent``/``tracestate`` go into the headers so
    the consumers continue this trace.
    """
    traceparent, tracestate = current_trace_headers()
    record = encode_binary(
        event,
        source=source,
        event_id=event_id,
        correlation_id=correlation_id,
        causation_id=causation_id,
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
) -> str:
    """Enqueue ``event`` to the outbox inside the caller's transaction; returns its event id.

    ``correlation_id``/``causation_id`` become the ``ce_correlationid``/``ce_causationid``
    extensions; inside a consumer use ``HandlerContext.publish`` which fills them in.
    """
    ce_id, message = outbox_message_for(
        event,
        source=source,
        topics=topics,
        correlation_id=correlation_id,
        causation_id=causation_id,
        event_id=event_id,
    )
    await enqueue(conn, [message])
    return ce_id
