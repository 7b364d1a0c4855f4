"""Automatic complaints waiting for the customer's contact.

The contact snapshot reaches complaints on the leads/sales/service topics, the trigger
(TaskCompleted, SurveyResponded, QualityCheckFailed) on another topic, so the trigger can
be consumed first. Instead of failing, it is parked (table awaiting_contact) with a timer:
the next contact snapshot of that customer opens the complaint; if none arrives within
``contact_wait`` the triggering event goes to its topic's dead-letter topic the way the
runtime's consumer dead-letters (`dealerflow.runtime.dlq.dead_letter_message` through the
outbox, original topic/partition/offset, the reason; its inbox claim released, so a
replay from the DLQ is processed).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from dealerflow.complaints import repository_contacts
from dealerflow.complaints.records import ParkedTrigger
from dealerflow.complaints.usecases import Uc
from dealerflow.contracts.envelope import encode_binary
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.registry import event_class
from dealerflow.runtime import inbox
from dealerflow.runtime.consumer import HandlerContext
from dealerflow.runtime.dlq import dead_letter_message
from dealerflow.runtime.outbox import enqueue

#: Timer kind of a trigger's wait for a contact running out.
CONTACT_WAIT_TIMER_KIND = "complaint.contact_wait"


def wait_timer_key(dealer_id: str, trigger_ref: str) -> str:
    """Business key of a parked trigger's timer."""
    return f"contact-wait:{dealer_id}:{trigger_ref}"


def parked_trigger(event: DomainEvent, trigger_ref: str, consumed: HandlerContext) -> ParkedTrigger:
    """What is kept of ``event``, consumed as ``consumed`` says, while it waits."""
    meta = consumed.envelope.meta
    return ParkedTrigger(
        dealer_id=event.dealer_id,
        trigger_ref=trigger_ref,
        customer_id=event.customer_id,
        event_type=event.event_type,
        event=event.model_dump_json(),
        event_id=meta.id,
        source=meta.source,
        correlation_id=meta.correlation_id,
        causation_id=meta.causation_id,
        event_time=meta.time,
        traceparent=meta.traceparent,
        tracestate=meta.tracestate,
        topic=consumed.topic,
        kafka_partition=consumed.partition,
        kafka_offset=consumed.offset,
        consumer=consumed.consumer,
        received_at=consumed.now,
    )


async def park(uc: Uc, event: DomainEvent, trigger_ref: str, consumed: HandlerContext) -> bool:
    """Keep ``event`` until its customer's contact is known (at most ``contact_wait``)."""
    parked = await repository_contacts.park_trigger(
        uc.conn, parked_trigger(event, trigger_ref, consumed)
    )
    if parked:
        await uc.schedule_timer(
            key=wait_timer_key(event.dealer_id, trigger_ref),
            kind=CONTACT_WAIT_TIMER_KIND,
            dealer_id=event.dealer_id,
            due_at=uc.now + uc.settings.contact_wait,
            payload={"trigger_ref": trigger_ref},
        )
    return parked


def restore(parked: ParkedTrigger) -> DomainEvent:
    """The parked event."""
    return event_class(parked.event_type).model_validate_json(parked.event)


async def take_for_customers(
    uc: Uc, customers: Sequence[tuple[str, uuid.UUID]]
) -> dict[tuple[str, uuid.UUID], list[DomainEvent]]:
    """Unpark every trigger waiting for the contact of one of ``customers`` (dealer,
    customer) and cancel their timers (one statement each): the events by customer,
    oldest first."""
    waiting = await repository_contacts.take_waiting_for(uc.conn, customers)
    await uc.cancel_timers_keyed([wait_timer_key(p.dealer_id, p.trigger_ref) for p in waiting])
    by_customer: dict[tuple[str, uuid.UUID], list[DomainEvent]] = {}
    for parked in waiting:
        by_customer.setdefault((parked.dealer_id, parked.customer_id), []).append(restore(parked))
    return by_customer


async def take(uc: Uc, dealer_id: str, trigger_ref: str) -> ParkedTrigger | None:
    """Unpark one trigger (its wait ran out)."""
    return await repository_contacts.take_waiting(uc.conn, dealer_id, trigger_ref)


async def dead_letter(uc: Uc, parked: ParkedTrigger) -> None:
    """Send an unparked trigger to its topic's DLQ with the reason, as the consumer that
    took it would have; release its inbox claim so that replaying it is processed."""
    event = restore(parked)
    # The record as consumed (binary mode, with its CloudEvents attributes and trace
    # context): the consumer hands handlers the decoded envelope, not the raw bytes.
    record = encode_binary(
        event,
        source=parked.source,
        event_id=parked.event_id,
        correlation_id=parked.correlation_id,
        causation_id=parked.causation_id,
        traceparent=parked.traceparent,
        tracestate=parked.tracestate,
        time=parked.event_time,
    )
    reason = (
        f"ContactUnknown: no contact snapshot of customer {event.customer_id} at dealer "
        f"{event.dealer_id} arrived within {uc.now - parked.received_at} to open the "
        f"complaint for {event.event_type}; replay once the customer's contact is known"
    )
    await inbox.release(uc.conn, parked.consumer, [parked.event_id])
    letter = dead_letter_message(
        topic=parked.topic,
        partition=parked.kafka_partition,
        offset=parked.kafka_offset,
        key=record.key,
        value=record.value,
        headers=record.headers,
        error=reason,
        consumer=parked.consumer,
        failed_at=uc.now,
        attempts=1,
    )
    await enqueue(uc.conn, [letter])
