"""Automatic complaints waiting for the customer's contact.

The contact snapshot reaches complaints on the leads/sales/service topics, the trigger
(TaskCompleted, SurveyResponded, QualityCheckFailed) on another topic, so the trigger can
be consumed first. Instead of failing, it is parked (table awaiting_contact) with a timer:
the next contact snapshot of that customer opens the complaint; if none arrives within
``contact_wait`` the triggering event goes to the dead-letter topic with the reason (its
inbox claim released, so a replay from the DLQ is processed).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dealerflow.complaints import repository_contacts
from dealerflow.contracts.envelope import EventMeta, encode_binary
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.registry import event_class
from dealerflow.runtime import inbox, timers
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.dlq import dead_letter_message
from dealerflow.runtime.outbox import enqueue

#: Timer kind of a trigger's wait for a contact running out.
CONTACT_WAIT_TIMER_KIND = "complaint.contact_wait"


@dataclass(frozen=True)
class Delivery:
    """Where a triggering event was consumed from (to dead-letter it faithfully later)."""

    meta: EventMeta
    topic: str
    partition: int
    offset: int
    consumer: str


def wait_timer_key(dealer_id: str, trigger_ref: str) -> str:
    """Business key of a parked trigger's timer."""
    return f"contact-wait:{dealer_id}:{trigger_ref}"


async def park(
    conn: DbConnection,
    event: DomainEvent,
    trigger_ref: str,
    delivery: Delivery,
    *,
    now: datetime,
    wait: timedelta,
) -> bool:
    """Keep ``event`` until its customer's contact is known (at most ``wait``)."""
    meta = delivery.meta
    parked = await repository_contacts.park_trigger(
        conn,
        {
            "dealer_id": event.dealer_id,
            "trigger_ref": trigger_ref,
            "customer_id": event.customer_id,
            "event_type": event.event_type,
            "event": event.model_dump_json(),
            "event_id": meta.id,
            "source": meta.source,
            "correlation_id": meta.correlation_id,
            "causation_id": meta.causation_id,
            "event_time": meta.time,
            "topic": delivery.topic,
            "kafka_partition": delivery.partition,
            "kafka_offset": delivery.offset,
            "consumer": delivery.consumer,
            "received_at": now,
        },
    )
    if parked:
        await timers.schedule(
            conn,
            key=wait_timer_key(event.dealer_id, trigger_ref),
            kind=CONTACT_WAIT_TIMER_KIND,
            dealer_id=event.dealer_id,
            due_at=now + wait,
            payload={"trigger_ref": trigger_ref},
        )
    return parked


def restore(row: dict[str, Any]) -> DomainEvent:
    """The parked event."""
    return event_class(row["event_type"]).model_validate_json(row["event"])


async def take_for_customer(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> list[DomainEvent]:
    """Unpark every trigger waiting for this customer's contact (their timers cancelled)."""
    rows = await repository_contacts.take_waiting_for(conn, dealer_id, customer_id)
    for row in rows:
        await timers.cancel(conn, wait_timer_key(dealer_id, row["trigger_ref"]))
    return [restore(row) for row in rows]


async def take(conn: DbConnection, dealer_id: str, trigger_ref: str) -> dict[str, Any] | None:
    """Unpark one trigger (its wait ran out)."""
    return await repository_contacts.take_waiting(conn, dealer_id, trigger_ref)


async def dead_letter(conn: DbConnection, row: dict[str, Any], *, now: datetime) -> None:
    """Send an unparked trigger to its topic's DLQ with the reason; release its inbox claim
    so that replaying it from the DLQ is processed, not dropped as a duplicate."""
    event = restore(row)
    record = encode_binary(
        event,
        source=row["source"],
        event_id=row["event_id"],
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
        time=row["event_time"],
    )
    waited = now - row["received_at"]
    error = (
        f"ContactUnknown: no contact snapshot of customer {event.customer_id} at dealer "
        f"{event.dealer_id} arrived within {waited} to open the complaint for "
        f"{event.event_type}; replay once the customer's contact is known"
    )
    await inbox.release(conn, row["consumer"], [row["event_id"]])
    await enqueue(
        conn,
        [
            dead_letter_message(
                topic=row["topic"],
                partition=row["kafka_partition"],
                offset=row["kafka_offset"],
                key=record.key,
                value=record.value,
                headers=record.headers,
                error=error,
                consumer=row["consumer"],
                failed_at=now,
                attempts=1,
            )
        ],
    )
