"""Guarantee: a poison message never blocks its partition and is never silently skipped.

Four kinds of poison, each followed by a good event on the same partition (one customer,
one key): a body that is not JSON, an unknown ``ce_type``, a payload that fails
validation, and a valid event whose handler always raises. Each poison record lands on
``<topic>.dlq`` (written through the outbox, published by the relay) byte for byte, with
the error and its original topic, partition and offset in headers; every good event after
it is handled. The raising handler had published an event and scheduled a timer before it
raised: neither survives.
"""

from __future__ import annotations

import json

import pytest
from aiokafka.structs import RecordMetadata

from dealerflow.contracts.envelope import Envelope, KafkaRecord, encode_binary
from dealerflow.contracts.events.leads import LeadAssigned, LeadGraded
from dealerflow.devinfra.client import eventually
from dealerflow.runtime import dlq
from dealerflow.runtime.consumer import EventRouter, HandlerContext
from tests.integration.guarantee_service import NOW, Infra, assigned, graded

pytestmark = pytest.mark.integration

CONSUMER = "complaints.leads"


def _with_header(record: KafkaRecord, name: str, value: bytes) -> KafkaRecord:
    headers = [(k, value if k == name else v) for k, v in record.headers]
    return KafkaRecord(record.key, record.value, headers)


def poison_records() -> dict[str, tuple[KafkaRecord, str]]:
    """Poison kind -> (record, start of the expected ``dlq-error``)."""
    template = encode_binary(graded("bad"), source="/outside-dms", event_id="evt-bad")
    invalid = json.loads(template.value)
    del invalid["lead_id"]
    return {
        "malformed JSON": (
            KafkaRecord(template.key, b'{"lead_id": "bad", ', template.headers),
            "EventDecodeError: invalid LeadGraded payload: <payload>: Invalid JSON",
        ),
        "unknown ce_type": (
            _with_header(template, "ce_type", b"dealerflow.leads.LeadTeleported.v1"),
            "EventDecodeError: unknown event type 'dealerflow.leads.LeadTeleported.v1'",
        ),
        "invalid payload": (
            KafkaRecord(template.key, json.dumps(invalid).encode(), template.headers),
            "EventDecodeError: invalid LeadGraded payload: lead_id: Field required",
        ),
        "handler raises": (
            encode_binary(graded("poison"), source="/dealerflow/leads", event_id="evt-poison"),
            "ValueError: no consultant can take lead poison",
        ),
    }


async def test_poison_goes_to_the_dlq_with_its_origin_and_the_partition_moves_on(
    infra: Infra,
) -> None:
    router = EventRouter()

    @router.on(LeadGraded)
    async def assign(ctx: HandlerContext, env: Envelope[LeadGraded]) -> None:
        lead = env.event.lead_id
        await ctx.conn.execute(
            "INSERT INTO effects (event_id, subject) VALUES ($1, $2)", env.meta.id, lead
        )
        if lead == "poison":  # effects first, then the failure: all must roll back
            await ctx.publish(assigned(lead))
            await ctx.schedule_timer(key=f"lead:{lead}:sla", kind="sla", due_at=NOW)
            raise ValueError(f"no consultant can take lead {lead}")

    group = infra.group(CONSUMER)
    await infra.start_relay(infra.relay())  # publishes the dead letters from the outbox
    await infra.start_consumer(infra.consumer(CONSUMER, router), group)

    sent: dict[str, tuple[RecordMetadata, KafkaRecord, str]] = {}
    good: list[str] = []
    for n, (kind, (record, error)) in enumerate(poison_records().items()):
        sent[kind] = (await infra.send(record), record, error)
        good.append(f"good-{n}")
        await infra.send(encode_binary(graded(good[-1]), source="/leads", event_id=good[-1]))
    partitions = {meta.partition for meta, _, _ in sent.values()}
    assert len(partitions) == 1, "one customer: every record on one partition"

    async def four_dead_letters() -> bool:
        return len(await infra.on_topic(infra.dlq)) >= 4

    await eventually(lambda: infra.caught_up(group), timeout_s=15, what="the partition consumed")
    await eventually(four_dead_letters, timeout_s=15, what="4 records on the DLQ")

    effects = await infra.pool.fetch("SELECT event_id FROM effects ORDER BY event_id")
    assert [r["event_id"] for r in effects] == good  # every event after a poison one
    inbox = await infra.pool.fetch("SELECT event_id FROM inbox ORDER BY event_id")
    assert [r["event_id"] for r in inbox] == good  # a dead letter can be replayed later

    letters = {
        (d.original_partition, d.original_offset): d for d in await infra.on_topic(infra.dlq)
    }
    assert len(letters) == 4
    for kind, (meta, record, error) in sent.items():
        letter = letters[(meta.partition, meta.offset)]
        assert letter.original_topic == infra.topic, kind
        assert letter.error is not None
        assert letter.error.startswith(error), (kind, letter.error)
        assert letter.consumer == CONSUMER
        assert letter.header(dlq.H_FAILED_AT) is not None
        assert (letter.key, letter.value) == (record.key, record.value), kind
        assert letter.original_headers == list(record.headers), kind
    raising = letters[(sent["handler raises"][0].partition, sent["handler raises"][0].offset)]
    assert raising.header(dlq.H_ATTEMPTS) == str(1 + infra.settings.consumer_max_retries)

    # what the raising handler did before it raised was rolled back with it
    assert await infra.count("SELECT count(*) FROM timers") == 0
    on_topic = await infra.on_topic()
    assert not [r for r in on_topic if r.header("ce_type") == LeadAssigned.event_type]
    assert len(on_topic) == 8
