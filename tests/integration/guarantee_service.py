"""One small "service" on real Kafka and PostgreSQL for the guarantee tests.

Each test gets its own schema (runtime migrations + the two tables below), its own topic
prefix (``<prefix>leads`` and ``<prefix>leads.dlq``, 3 partitions) and consumer groups
named after that prefix, so tests never see each other's data (fixture ``infra`` in
conftest.py).

The business side is a stand-in for the leads service: :meth:`Infra.grade_lead` writes a
``lead_grades`` row and publishes ``LeadGraded`` through the outbox in one transaction.
The reacting side is an :class:`EventConsumer` whose handlers record one ``effects`` row
per handled event. ``effects`` deliberately has no unique key: a second effect of one
event would be a second row, not an error, so the tests can count them.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import RecordMetadata
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from dealerflow.contracts.envelope import Envelope, KafkaRecord
from dealerflow.contracts.events.leads import LeadAssigned, LeadGraded
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.runtime.broker import attach_consumer, create_broker
from dealerflow.runtime.consumer import EventConsumer, EventRouter, HandlerContext
from dealerflow.runtime.db import create_pool
from dealerflow.runtime.dlq import DeadLetter, read_dead_letters
from dealerflow.runtime.publisher import event_source, publish_event
from dealerflow.runtime.relay import OutboxRelay
from dealerflow.runtime.settings import ServiceSettings
from dealerflow.runtime.timers import TimerPoller

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
DEALER = "sh-pudong-01"

TABLES = """
CREATE TABLE lead_grades (lead_id text PRIMARY KEY, grade text NOT NULL);
CREATE TABLE effects (
    event_id text NOT NULL,
    subject text NOT NULL,
    seen_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
"""


def customer(n: int) -> uuid.UUID:
    """A stable customer id (= Kafka key) per number."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"customer-{n}")


def graded(lead_id: str, customer_no: int = 0) -> LeadGraded:
    return LeadGraded(
        dealer_id=DEALER,
        customer_id=customer(customer_no),
        occurred_at=NOW,
        lead_id=lead_id,
        grade="H",
        graded_at=NOW,
    )


def assigned(lead_id: str, customer_no: int = 0) -> LeadAssigned:
    return LeadAssigned(
        dealer_id=DEALER,
        customer_id=customer(customer_no),
        occurred_at=NOW,
        lead_id=lead_id,
        consultant_id="C7",
        reason="initial",
        assigned_at=NOW,
    )


@dataclass
class Infra:
    """What every guarantee test works with; see the module docstring."""

    bootstrap: str
    dsn: str
    schema: str
    pool: asyncpg.Pool
    topics: TopicRegistry
    settings: ServiceSettings
    producer: AIOKafkaProducer
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    @property
    def topic(self) -> str:
        return self.topics.name("leads")

    @property
    def dlq(self) -> str:
        return self.topics.dlq(self.topic)

    def group(self, name: str) -> str:
        return f"{self.topics.prefix}{name}"

    async def close(self) -> None:
        """Stop every background worker the test started (newest first)."""
        await self._stack.aclose()

    # -- the business side ----------------------------------------------------------

    async def grade_lead(self, lead_id: str, customer_no: int = 0) -> str:
        """Use case: grade a lead and announce it, in one transaction; returns the event id."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("INSERT INTO lead_grades VALUES ($1, 'H')", lead_id)
            return await publish_event(
                conn,
                graded(lead_id, customer_no),
                source=event_source("leads"),
                topics=self.topics,
            )

    async def count(self, sql: str, *args: Any) -> int:
        return int(await self.pool.fetchval(sql, *args))

    # -- Kafka ----------------------------------------------------------------------

    async def send(self, record: KafkaRecord | DeadLetter) -> RecordMetadata:
        """Produce ``record`` to the leads topic as an outside producer would."""
        return await self.producer.send_and_wait(
            self.topic, value=record.value, key=record.key, headers=list(record.headers)
        )

    async def on_topic(self, topic: str | None = None) -> list[DeadLetter]:
        """Every record on ``topic`` (default: leads) from the beginning to its end now."""
        # read_dead_letters reads any topic that way (no consumer group involved)
        return await read_dead_letters(self.bootstrap, topic or self.topic, timeout_s=5)

    async def caught_up(self, group: str, topic: str | None = None) -> bool:
        """True when ``group`` has committed offsets at the end of every partition."""
        topic = topic or self.topic
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            committed = await admin.list_consumer_group_offsets(group)
        finally:
            await admin.close()
        ends = await end_offsets(self.bootstrap, topic)
        return all(
            (meta := committed.get(tp)) is not None and meta.offset == end
            for tp, end in ends.items()
            if end > 0
        )

    # -- background workers (stopped at the end of the test) -----------------------

    def relay(self, pool: asyncpg.Pool | None = None, **options: Any) -> OutboxRelay:
        defaults: dict[str, Any] = {
            "poll_interval_s": 0.2,
            "retry_backoff_s": 0.05,
            "max_backoff_s": 0.5,
            "leader_retry_s": 0.1,
        }
        return OutboxRelay(pool or self.pool, self.bootstrap, **(defaults | options))

    async def start_relay(self, relay: OutboxRelay) -> asyncio.Task[None]:
        task = asyncio.create_task(relay.run())

        async def stop() -> None:
            await relay.stop(grace_s=5)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

        self._stack.push_async_callback(stop)
        return task

    def consumer(self, name: str, router: EventRouter, **options: Any) -> EventConsumer:
        return EventConsumer(
            name=name, router=router, pool=self.pool, settings=self.settings, **options
        )

    async def start_consumer(self, consumer: EventConsumer, group: str) -> KafkaBroker:
        """Attach ``consumer`` to the leads topic on its own FastStream broker and start."""
        broker = create_broker(self.settings, registry=CollectorRegistry())
        attach_consumer(broker, consumer, self.topic, group_id=group, failure_backoff_s=0.2)
        await broker.start()
        self._stack.push_async_callback(broker.stop)
        return broker

    async def start_pollers(self, *pollers: TimerPoller) -> None:
        tasks = [asyncio.create_task(p.run()) for p in pollers]

        async def stop() -> None:
            for poller in pollers:
                await poller.stop(grace_s=5)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self._stack.push_async_callback(stop)

    async def other_pool(self, max_size: int = 4) -> asyncpg.Pool:
        """Another pool on the same schema: another replica, or a restarted process."""
        pool = await create_pool(self.dsn, self.schema, min_size=1, max_size=max_size)
        self._stack.push_async_callback(pool.close)
        return pool


async def end_offsets(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    """The end offset of every partition of ``topic``."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await reader.start()
    try:
        partitions = reader.partitions_for_topic(topic) or set()
        if not partitions:  # metadata of a topic created moments ago may lag
            await reader._client.force_metadata_update()
            partitions = reader.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        return dict(await reader.end_offsets(tps)) if tps else {}
    finally:
        await reader.stop()


class EffectRecorder:
    """Handlers of a reacting service: one ``effects`` row per handled ``LeadGraded``.

    ``calls`` counts handler invocations per lead id (an invocation whose transaction
    rolled back counts too), so tests can tell "ran again" from "had an effect again".
    ``follow_up`` makes the handler also publish a ``LeadAssigned`` through the outbox.
    """

    def __init__(self, *, follow_up: bool = False) -> None:
        self.calls: dict[str, int] = {}
        self.follow_up = follow_up
        self.router = EventRouter()
        self.router.on(LeadGraded)(self.on_graded)

    async def on_graded(self, ctx: HandlerContext, env: Envelope[LeadGraded]) -> None:
        lead = env.event.lead_id
        self.calls[lead] = self.calls.get(lead, 0) + 1
        await ctx.conn.execute(
            "INSERT INTO effects (event_id, subject) VALUES ($1, $2)", env.meta.id, lead
        )
        if self.follow_up:
            await ctx.publish(assigned(lead))


def ids_of(records: Sequence[DeadLetter]) -> list[str]:
    """The ``ce_id`` of each record (records without one are skipped)."""
    return [i for r in records if (i := r.header("ce_id")) is not None]
