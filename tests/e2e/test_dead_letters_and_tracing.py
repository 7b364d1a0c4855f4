"""Chain g (poison messages on every consumed topic) and one trace across the services."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from dealerflow.contracts.envelope import KafkaRecord
from dealerflow.contracts.identity import customer_id_for
from dealerflow.contracts.topics import CONTEXTS
from dealerflow.devinfra.client import DealerflowClient, eventually, read_topic
from dealerflow.runtime.dlq import H_CONSUMER, H_ERROR, H_ORIGINAL_OFFSET, H_ORIGINAL_TOPIC
from dealerflow.runtime.telemetry import trace_id_of


def _header(record: Any, name: str) -> str | None:
    for key, value in record.headers:
        if key == name:
            return bytes(value).decode()
    return None


def _poison(dealer_id: str, key: bytes) -> list[tuple[str, KafkaRecord]]:
    """Three bad records: malformed JSON, an unknown type, an invalid payload."""
    base = [
        ("ce_specversion", b"1.0"),
        ("ce_source", b"/e2e-poison"),
        ("ce_time", b"2026-11-23T10:00:00Z"),
        ("ce_dealerid", dealer_id.encode()),
        ("content-type", b"application/json"),
    ]

    def record(kind: str, ce_type: str, value: bytes) -> tuple[str, KafkaRecord]:
        headers = [*base, ("ce_id", f"poison-{kind}-{uuid.uuid4()}".encode())]
        return kind, KafkaRecord(key, value, [*headers, ("ce_type", ce_type.encode())])

    return [
        record("malformed", "dealerflow.sales.VehicleDelivered.v1", b"{not json"),
        record("unknown", "dealerflow.sales.CarTeleported.v1", b"{}"),
        record("invalid", "dealerflow.sales.VehicleDelivered.v1", b'{"vin": 42}'),
    ]


async def test_poison_messages_are_dead_lettered_and_the_chains_keep_working(
    stack: Any, client: DealerflowClient, dealer_id: str
) -> None:
    """g. bad records on every consumed topic land on its DLQ with the reason."""
    phone = "+8613100131000"
    customer = str(customer_id_for("default", phone))
    key = customer.encode()
    sent: dict[str, list[int]] = {}
    producer = await client.producer()
    for context in CONTEXTS:
        topic = stack.topics.name(context)
        for _, record in _poison(dealer_id, key):
            meta = await producer.send_and_wait(
                topic, record.value, key=record.key, headers=record.headers
            )
            sent.setdefault(topic, []).append(meta.offset)
    inbound = stack.topics.name("inbound.leads")
    meta = await producer.send_and_wait(
        inbound, b"<adf><prospect>no contact at all</prospect></adf>", key=key
    )
    sent[inbound] = [meta.offset]

    # The next message on the same partition (same key) is processed: a handover for this
    # customer still gets its follow-up callback.
    await client.repair_and_hand_over(
        dealer_id, name="钱七", phone=phone, vin="LSVAU2180N2183298", advisor_id="advisor-zhao"
    )

    async def followup() -> bool:
        tasks = await client.tasks(dealer_id, customer_id=customer)
        return any(t["kind"] == "service_callback" for t in tasks)

    await eventually(followup, what="the follow-up after the poison messages")

    consumed_topics = {  # which services consume which topics (see docs/services.md)
        stack.topics.name("leads"): {"notifier", "complaints"},
        stack.topics.name("sales"): {"notifier", "complaints", "leads"},
        stack.topics.name("service"): {"notifier", "complaints"},
        stack.topics.name("complaints"): {"notifier"},
        stack.topics.name("notifier"): {"complaints"},
        inbound: {"leads"},
    }
    for topic, consumers in consumed_topics.items():

        async def dead_letters(
            topic: str = topic, consumers: set[str] = consumers
        ) -> list[Any] | None:
            found = [
                record
                for _, record in await read_topic(stack.kafka_bootstrap, stack.topics.dlq(topic))
                if _header(record, H_ORIGINAL_TOPIC) == topic
                and int(_header(record, H_ORIGINAL_OFFSET) or -1) in sent[topic]
            ]
            services = {(_header(r, H_CONSUMER) or "").split(".")[0] for r in found}
            return found if services >= consumers else None

        letters = await eventually(dead_letters, what=f"dead letters of {topic}")
        for letter in letters:
            reason = _header(letter, H_ERROR)
            assert reason, f"a dead letter on {topic} without a reason"
        reasons = " | ".join(sorted({_header(r, H_ERROR) or "" for r in letters}))
        if topic != inbound:
            assert "CarTeleported" in reasons or "unknown" in reasons.lower(), reasons


async def test_one_trace_from_an_http_request_through_every_reaction(
    stack: Any, client: DealerflowClient, dealer_id: str
) -> None:
    """A delivery request and every reaction it causes in other services share a trace."""
    trace_id = secrets.token_hex(16)
    traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"
    phone = "+8613000130000"
    await client.sell_and_deliver(
        dealer_id,
        name="孙悟空",
        phone=phone,
        vin="LSVAU2180N2183299",
        consultant_id="consultant-li",
        delivery_on=(stack.now() + timedelta(days=1)).date(),
        headers={"traceparent": traceparent},
    )
    customer = str(customer_id_for("default", phone))

    async def reactions() -> list[Any] | None:
        records = await read_topic(
            stack.kafka_bootstrap, stack.topics.name("notifier"), dealer_id=dealer_id
        )
        scheduled = [
            (env, rec)
            for env, rec in records
            if env is not None
            and type(env.event).__name__ == "TaskScheduled"
            and str(env.event.customer_id) == customer
        ]
        return scheduled if len(scheduled) >= 2 else None

    scheduled = await eventually(reactions, what="the notifier's TaskScheduled reactions")
    delivered = [
        env
        for env, _ in await read_topic(
            stack.kafka_bootstrap, stack.topics.name("sales"), dealer_id=dealer_id
        )
        if env is not None and type(env.event).__name__ == "VehicleDelivered"
    ]
    assert len(delivered) == 1
    assert trace_id_of(delivered[0].meta.traceparent) == trace_id
    for env, _ in scheduled:
        assert trace_id_of(env.meta.traceparent) == trace_id, env.meta
        assert env.meta.causation_id == delivered[0].meta.id
    # The sales service's request log line carries the same trace id.
    sales_log = (stack.log_dir / "sales.log").read_text("utf-8")
    assert f'"trace_id": "{trace_id}"' in sales_log
