"""create_broker and the FastStream hooks our batch subscribers use."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from faststream.kafka.message import KafkaAckableMessage
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.parser import AioKafkaBatchParser
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY, CollectorRegistry

from dealerflow.contracts.envelope import Envelope, encode_binary
from dealerflow.contracts.events.leads import LeadGraded
from dealerflow.runtime import broker as broker_module
from dealerflow.runtime.broker import (
    attach_consumer,
    create_broker,
    lenient_batch_parser,
    raw_records,
)
from dealerflow.runtime.consumer import EventConsumer, EventRouter, HandlerContext
from dealerflow.runtime.migrations import migrate, runtime_migrations
from dealerflow.runtime.settings import ServiceSettings

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def _record(offset: int, headers: list[tuple[str, bytes]]) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(
        topic="t",
        partition=1,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=None,
        value=b"{}",
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=2,
        headers=headers,
    )


def test_create_broker_does_not_connect_and_installs_middlewares() -> None:
    settings = ServiceSettings(service_name="brokertest", kafka_bootstrap="127.0.0.1:1")
    broker = create_broker(settings, registry=CollectorRegistry())
    kinds = {type(m) for m in broker.config.broker_middlewares}
    assert {KafkaTelemetryMiddleware, KafkaPrometheusMiddleware} <= kinds


class PollingConsumer:
    """An aiokafka consumer stand-in on a clock of its own: ``getmany`` answers from
    ``answers`` in turn, each after ``wait_s`` of that clock (None: the whole timeout)."""

    def __init__(self, answers: list[tuple[dict[Any, Any], float | None]]) -> None:
        self.answers = answers
        self.calls: list[tuple[int, int | None]] = []
        self.now = 100.0

    async def getmany(self, *, timeout_ms: int, max_records: int | None) -> dict[Any, Any]:
        self.calls.append((timeout_ms, max_records))
        batches, wait_s = self.answers.pop(0)
        self.now += timeout_ms / 1000 if wait_s is None else wait_s
        return batches


async def test_an_idle_poll_does_not_nap_after_its_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = ServiceSettings(service_name="naptest", consumer_batch_timeout_ms=30)

    class Consumer:
        name = "naptest.reactions"

        def __init__(self) -> None:
            self.settings = settings

        async def process_batch(self, records: Any) -> None:
            return None

    naps: list[float] = []

    async def nap(seconds: float) -> None:
        naps.append(seconds)

    records = (_record(1, []), _record(2, []))
    polling = PollingConsumer([({}, None), ({"tp": list(records)}, 0.0), ({}, 0.01)])
    monkeypatch.setattr(broker_module, "_pause", nap)
    monkeypatch.setattr(broker_module, "_clock", lambda: polling.now)
    subscriber = attach_consumer(create_broker(settings), Consumer(), "t.sales")  # type: ignore[arg-type]
    assert await subscriber.get_msg(polling) == ()  # type: ignore[arg-type]
    assert naps == []  # FastStream's own poll would sleep another 30 ms here
    assert await subscriber.get_msg(polling) == records  # type: ignore[arg-type]
    assert await subscriber.get_msg(polling) == ()  # type: ignore[arg-type]
    assert naps == [pytest.approx(0.02)]  # an early empty answer waits out the rest
    assert polling.calls == [(30, settings.consumer_batch_size)] * 3


async def test_lenient_parser_survives_bad_header_bytes_and_keeps_raw_records() -> None:
    default = AioKafkaBatchParser(msg_class=KafkaAckableMessage, regex=None).parse_batch
    records = (
        _record(5, [("ce_id", b"id-5"), ("traceparent", b"00-ab")]),
        _record(6, [("ce_id", b"\xff\xfe"), ("x", b"\x80")]),
    )
    with pytest.raises(UnicodeDecodeError):
        await default(records)  # what FastStream alone would do: the batch never parses
    message = await lenient_batch_parser(records, default)
    assert message.raw_message is records  # byte-exact originals for dead letters
    assert message.raw_message[1].headers == [("ce_id", b"\xff\xfe"), ("x", b"\x80")]
    # ce_id doubles as FastStream's correlation_id, which keys its span links
    assert message.batch_headers[0]["correlation_id"] == "id-5"
    assert message.batch_headers[1]["correlation_id"] == "\ufffd\ufffd"
    assert await raw_records(message) is records


@pytest.mark.integration
async def test_broker_metrics_and_consumer_metrics_are_recorded(
    kafka_bootstrap: str,
    pg_dsn: str,
    pg_schema: str,
    pg_pool: asyncpg.Pool,
    topic_prefix: str,
    create_topics: Callable[..., Awaitable[None]],
) -> None:
    await migrate(pg_dsn, pg_schema, runtime_migrations())
    topic = topic_prefix + "leads"
    await create_topics(topic, partitions=1)
    settings = ServiceSettings(
        service_name="brokertest",
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        consumer_batch_timeout_ms=50,
    )
    consumer_name = f"metrics-{uuid.uuid4().hex[:6]}"
    handled = asyncio.Event()
    router = EventRouter()

    @router.on(LeadGraded)
    async def on_graded(ctx: HandlerContext, env: Envelope[LeadGraded]) -> None:
        handled.set()

    registry = CollectorRegistry()
    broker = create_broker(settings, registry=registry)
    consumer = EventConsumer(name=consumer_name, router=router, pool=pg_pool, settings=settings)
    attach_consumer(broker, consumer, topic, group_id=topic_prefix + "metrics")
    await broker.start()
    try:
        event = LeadGraded(
            dealer_id="D001",
            customer_id=uuid.uuid4(),
            occurred_at=NOW,
            lead_id="M1",
            grade="C",
            graded_at=NOW,
        )
        record = encode_binary(event, source="/t")
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(topic, record.value, record.key, headers=record.headers)
        finally:
            await producer.stop()
        await asyncio.wait_for(handled.wait(), 30)
        await asyncio.sleep(0.3)  # let the batch finish (commit + metrics)
    finally:
        await broker.stop()

    received = registry.get_sample_value(
        "faststream_received_messages_total",
        {"app_name": "brokertest", "broker": "kafka", "handler": topic},
    )
    assert received == 1.0
    handled_total = REGISTRY.get_sample_value(
        "dealerflow_consumer_events_total", {"consumer": consumer_name, "outcome": "handled"}
    )
    assert handled_total == 1.0
    batches = REGISTRY.get_sample_value(
        "dealerflow_consumer_batch_seconds_count", {"consumer": consumer_name}
    )
    assert batches is not None
    assert batches >= 1
