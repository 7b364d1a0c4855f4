"""One round of benchmark (a) (:mod:`bench.e2e_deliveries`): outside deliveries
published to the running services, the notifier's reactions observed as they commit and
checked for exactly-once effects, and the raw baseline on the same records.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from aiokafka import ConsumerRecord

from bench.common import Infra, progress
from bench.consumer_raw import Batch, produce, raw_loop
from bench.e2e_stack import (
    DEALER_ID,
    CpuMeter,
    access_counts,
    connect,
    pg_connections,
    profiled,
    schema_of,
    table_counts,
)
from chaos.harness import Harness
from dealerflow.contracts.envelope import KafkaRecord, encode_structured
from dealerflow.contracts.events import VehicleDelivered
from dealerflow.contracts.examples import example_for
from dealerflow.contracts.identity import customer_id_for
from dealerflow.runtime import inbox
from dealerflow.runtime.db import quote_ident
from dealerflow.runtime.settings import ServiceSettings

#: The notifier's consumer of the domain topics (its inbox rows name it).
REACTIONS = "notifier.reactions"
#: Seconds the notifier processes' CPU is sampled with nothing to do, before a round.
IDLE_SAMPLE_S = 3.0
#: Tables whose rows are not reactions' effects (the inbox is counted once per event).
_NOT_EFFECTS = {"inbox", "outbox", "schema_migrations"}


@dataclass(frozen=True)
class Deliveries:
    """One round's outside deliveries: the records, their event ids, their customers."""

    records: list[KafkaRecord]
    ids: list[str]
    customers: list[str]


def make_events(n: int, harness: Harness, run_tag: str, *, offset: int = 0) -> Deliveries:
    """``n`` outside deliveries (structured CloudEvents), each a customer of its own;
    ``offset`` numbers their phones and VINs (a round's own)."""
    base = example_for(VehicleDelivered)
    now = harness.now()
    records, ids, customers = [], [], []
    for i in range(offset, offset + n):
        phone = f"+86135{i:08d}"
        customer = customer_id_for(f"bench-dms-{run_tag}", phone)
        event = base.model_copy(
            update={
                "dealer_id": DEALER_ID,
                "customer_id": customer,
                "delivery_id": str(uuid.uuid4()),
                "vin": f"LSVBE{i:012d}",
                "delivered_at": now,
                "occurred_at": now,
                "contact": base.contact.model_copy(update={"phone": phone}),
            }
        )
        event_id = str(uuid.uuid4())
        records.append(encode_structured(event, source="/bench-dms", event_id=event_id))
        ids.append(event_id)
        customers.append(str(customer))
    return Deliveries(records, ids, customers)


async def _reactions_done(conn: asyncpg.Connection, schema: str, ids: list[str]) -> int:
    return int(
        await conn.fetchval(
            f"SELECT count(*) FROM {schema}.inbox WHERE consumer = $1 AND event_id = ANY($2)",
            REACTIONS,
            ids,
        )
    )


class ReactionWatcher:
    """Waits until every event id has its inbox row, asking only for the ids not seen
    yet, every 50 ms. (Asking for all 10,000 ids every 20 ms made the observer itself
    the database's main load: 10,000 index lookups per poll, 19.6 M in the baseline run
    of docs/benchmarks.md.) The inbox is therefore left out of the notifier's scans
    figure: PostgreSQL's count of the watcher's own lookups there is not exactly one per
    id asked (subtracting them made the figure negative)."""

    def __init__(self, conn: asyncpg.Connection, schema: str, ids: list[str]) -> None:
        self.conn, self.schema = conn, schema
        self.remaining = set(ids)

    async def wait(self, timeout_s: float = 900.0) -> float:
        """The time the last row was seen (``time.perf_counter``)."""
        sql = f"SELECT event_id FROM {self.schema}.inbox WHERE consumer = $1 AND event_id = ANY($2)"
        deadline = time.perf_counter() + timeout_s
        total = len(self.remaining)
        while self.remaining:
            asked = list(self.remaining)
            for row in await self.conn.fetch(sql, REACTIONS, asked):
                self.remaining.discard(row["event_id"])
            if not self.remaining:
                break
            if time.perf_counter() > deadline:
                done = total - len(self.remaining)
                raise TimeoutError(f"only {done:,} of {total:,} reactions after {timeout_s:g} s")
            await asyncio.sleep(0.05)
        return time.perf_counter()


async def check_effects(harness: Harness, batch: Deliveries) -> dict[str, Any]:
    """Every event of ``batch`` reacted to once and every customer of it with the same
    effects: ``problems`` says what is not so (empty: exactly once)."""
    schema = schema_of(harness, "notifier")
    conn = await connect(harness)
    try:
        reacted = await _reactions_done(conn, schema, batch.ids)
        effects: dict[Any, list[tuple[str, int]]] = {}
        for table in ("tasks", "reminders"):
            rows = await conn.fetch(
                f"SELECT customer_id, kind, count(*) AS n FROM {schema}.{table}"
                " WHERE dealer_id = $1 AND customer_id = ANY($2::uuid[]) GROUP BY 1, 2",
                DEALER_ID,
                batch.customers,
            )
            for row in rows:
                effects.setdefault(row["customer_id"], []).append(
                    (f"{table}.{row['kind']}", row["n"])
                )
    finally:
        await conn.close()
    profiles = Counter(tuple(sorted(kinds)) for kinds in effects.values())
    expected = len(batch.ids)
    problems = []
    if reacted != expected:
        problems.append(f"{reacted:,} of {expected:,} events in the reactions inbox")
    if len(effects) != expected:
        problems.append(f"effects for {len(effects):,} customers, {expected:,} delivered")
    if len(profiles) != 1 or not any(k.startswith("tasks.") for k, _ in next(iter(profiles))):
        problems.append(f"customers' effects differ: {dict(profiles)}")
    profile = dict(next(iter(profiles))) if len(profiles) == 1 else {}
    return {"reacted": reacted, "effects_per_customer": profile, "problems": problems}


def _raw_tables(rows_per_event: dict[str, int]) -> str:
    return ";\n".join(
        f"CREATE TABLE {quote_ident('raw_' + table)} (id uuid PRIMARY KEY, event_id text"
        " NOT NULL, dealer_id text NOT NULL, customer_id uuid NOT NULL, body text NOT NULL)"
        for table in rows_per_event
    )


def raw_effects_handler(
    consumer_name: str, rows_per_event: dict[str, int]
) -> Any:  # Callable[[asyncpg.Pool, Batch], Awaitable[None]]
    """Per batch: claim the inbox rows, then per table one ``unnest`` insert of
    ``rows_per_event[table]`` rows per fresh event (the event's JSON as each row's body)."""
    inserts = {
        table: f"INSERT INTO {quote_ident('raw_' + table)}"
        " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::text[])"
        for table in rows_per_event
    }

    async def handle(pool: asyncpg.Pool, batch: Batch) -> None:
        events = [_structured(record) for record in batch]
        async with pool.acquire() as conn, conn.transaction():
            fresh = await inbox.claim_many(conn, consumer_name, [e["id"] for e in events])
            todo = [(e, r) for e, r in zip(events, batch, strict=True) if e["id"] in fresh]
            for table, per_event in rows_per_event.items():
                rows = [(e, r) for e, r in todo for _ in range(per_event)]
                await conn.execute(
                    inserts[table],
                    [uuid.uuid4() for _ in rows],
                    [e["id"] for e, _ in rows],
                    [e["data"]["dealer_id"] for e, _ in rows],
                    [e["data"]["customer_id"] for e, _ in rows],
                    [r.value.decode() for _, r in rows],
                )

    return handle


def _structured(record: ConsumerRecord[Any, Any]) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(record.value)
    return event


@dataclass
class Round:
    """One measurement of (a): the deliveries of one notifier replica count."""

    replicas: int
    deliveries: int
    seconds: float
    #: rows the notifier wrote per delivery, by table (outbox: records it published)
    rows_per_event: dict[str, int]
    accesses_per_event: dict[str, float]
    #: check_effects of this round's deliveries (``problems`` empty: exactly once)
    effects: dict[str, Any]
    #: the reactions group before the clock started: member -> partitions of the topic
    assignment: dict[str, list[int]]
    #: PostgreSQL connections of each notifier process at the end of the round
    pg_connections: dict[str, int | None]
    #: cores busy during the round: the machine, the notifier processes, PostgreSQL
    cores: dict[str, float]
    #: the same for IDLE_SAMPLE_S just before the round (nothing to react to)
    idle_cores: dict[str, float]
    loadavg: list[float]
    outbox_records: int
    tables_before: dict[str, int] = field(default_factory=dict)
    tables_after: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.deliveries / self.seconds


async def measure(
    infra: Infra,
    harness: Harness,
    batch: Deliveries,
    assignment: dict[str, list[int]],
    profile: Path | None,
) -> Round:
    """Publish ``batch`` and wait for every reaction; what the notifier wrote meanwhile
    (``assignment``: the reactions group's members and their partitions of the topic)."""
    replicas = len(assignment)
    schema = schema_of(harness, "notifier")
    topic = harness.topics.for_event(VehicleDelivered)
    notifier_topic = harness.topics.name("notifier")
    deliveries = len(batch.ids)
    conn = await connect(harness)
    try:
        before = await table_counts(conn, schema)
        accesses_before = await access_counts(conn, schema, besides=("inbox",))
        outbox_before = await infra.topic_offsets(notifier_topic)
        pids = [harness.handles[key].pid for key in harness.replicas_of("notifier")]
        progress(
            f"e2e deliveries: {deliveries:,} outside VehicleDelivered -> "
            f"{replicas} notifier process(es) (pids {pids})"
        )
        with CpuMeter(pids) as idle:  # what the processes cost with nothing to do
            await asyncio.sleep(IDLE_SAMPLE_S)
        with profiled(pids[0], profile), CpuMeter(pids) as cpu:
            started = time.perf_counter()
            sending = asyncio.create_task(produce(infra, topic, batch.records))
            watcher = ReactionWatcher(conn, schema, batch.ids)
            end = await watcher.wait()
            await sending
        loadavg = [round(x, 2) for x in os.getloadavg()]
        connections = _pg_connections(harness)
        checked = await check_effects(harness, batch)
        outbox_rows = await _settled(lambda: infra.topic_offsets(notifier_topic)) - outbox_before
        after = await table_counts(conn, schema)
        accesses = await access_counts(conn, schema, besides=("inbox",))
    finally:
        await conn.close()
    rows_per_event = {
        table: round((after[table] - before.get(table, 0)) / deliveries)
        for table in after
        if table not in _NOT_EFFECTS and after[table] - before.get(table, 0) >= deliveries / 2
    }
    rows_per_event["outbox"] = round(outbox_rows / deliveries)
    # everything the notifier did meanwhile (reactions, the follow-ups of its own events,
    # relay, timer polls), per delivery: how many statements touched its tables
    accesses_per_event = {
        key: (accesses[key] - accesses_before[key]) / deliveries for key in accesses
    }
    return Round(
        replicas=replicas,
        deliveries=deliveries,
        seconds=end - started,
        rows_per_event=rows_per_event,
        accesses_per_event=accesses_per_event,
        effects=checked,
        assignment=assignment,
        pg_connections=connections,
        cores=cpu.cores,
        idle_cores=idle.cores,
        loadavg=loadavg,
        outbox_records=outbox_rows,
        tables_before=before,
        tables_after=after,
    )


def _pg_connections(harness: Harness) -> dict[str, int | None]:
    port = urlsplit(harness.config.pg_app_dsn).port or 5432
    return {
        key: pg_connections(harness.handles[key].pid, port)
        for key in harness.replicas_of("notifier")
    }


async def wait_quiet(harness: Harness) -> None:
    """Until the notifier's inbox stops growing (1 s unchanged): its consumers have
    caught up with what was published before."""
    schema = schema_of(harness, "notifier")
    conn = await connect(harness)
    try:
        await _settled(lambda: _count(conn, f"SELECT count(*) FROM {schema}.inbox"))
    finally:
        await conn.close()


async def _count(conn: asyncpg.Connection, sql: str) -> int:
    return int(await conn.fetchval(sql))


async def raw_baseline(
    infra: Infra, batch: Deliveries, rows_per_event: dict[str, int]
) -> dict[str, Any]:
    """The raw loop on ``batch``'s records, writing ``rows_per_event`` (+ the inbox)."""
    per_event = sum(rows_per_event.values()) + 1
    progress(f"e2e deliveries: raw baseline writing {per_event} rows per event {rows_per_event}")
    raw_topic = await infra.topic("e2e-deliveries-raw", partitions=3)
    await produce(infra, raw_topic, batch.records)
    settings = ServiceSettings(
        service_name="bench-e2e-raw",
        kafka_bootstrap=infra.kafka,
        pg_dsn=infra.dsn,
        unknown_dealers="defaults",
    )
    raw_name = "e2e_raw_deliveries"
    first_table = quote_ident("raw_" + next(iter(rows_per_event)))
    first_n = next(iter(rows_per_event.values()))
    return await raw_loop(
        infra,
        raw_topic,
        len(batch.ids) * first_n,
        settings,
        raw_name,
        raw_effects_handler(raw_name, rows_per_event),
        ddl=_raw_tables(rows_per_event),
        done_sql=f"SELECT count(*) FROM {first_table}",
    )


async def _settled(read: Callable[[], Awaitable[int]]) -> int:
    """``read()`` once it has stopped changing (1 s unchanged)."""
    last = -1
    while True:
        now = await read()
        if now == last:
            return now
        last = now
        await asyncio.sleep(1.0)
