"""End-to-end benchmark (a): an outside system's ``VehicleDelivered`` -> the notifier's
reactions committed, with all six services running as processes.

``--deliveries`` events of one dealer (each its own customer, delivery, VIN and phone) are
published in CloudEvents structured mode on the run's sales topic, as an outside DMS
publishes them (``DealerflowClient.publish_external_event``). The clock runs from the
first send to the moment the notifier's inbox holds every event id for its reactions
consumer (each reaction's transaction commits that row with its effects: tasks,
reminders, timers, contact snapshot, tiers, outbox). Every other consumer of the topic
(leads, service-center, complaints) and the notifier's own follow-ups (its TaskScheduled
read back) run at the same time, as they would.

Baseline, same run: the raw ``getmany`` + one-transaction-per-batch loop
(``bench.consumer_raw.raw_loop``) on the same records in a topic of its own, claiming the
inbox rows and writing, per event, **as many rows into as many tables as the notifier
wrote** in this run (measured from the notifier's tables and the outbox's records), one
``unnest`` insert per table per batch.

Correctness (asserted here, and by the smoke test): every event is in the reactions inbox
once; every customer got the same tasks and reminders (by kind) as every other, at least
one task; nothing for anyone else.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import ConsumerRecord

from bench.common import BenchResult, Figure, Infra, progress
from bench.consumer_raw import Batch, produce, raw_loop
from bench.e2e_stack import (
    DEALER_ID,
    access_counts,
    connect,
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
#: Tables whose rows are not reactions' effects (the inbox is counted once per event).
_NOT_EFFECTS = {"inbox", "outbox", "schema_migrations"}


def make_events(n: int, harness: Harness, run_tag: str) -> tuple[list[KafkaRecord], list[str]]:
    """``n`` outside deliveries (structured CloudEvents) and their event ids."""
    base = example_for(VehicleDelivered)
    now = harness.now()
    records, ids = [], []
    for i in range(n):
        phone = f"+86135{i:08d}"
        event = base.model_copy(
            update={
                "dealer_id": DEALER_ID,
                "customer_id": customer_id_for(f"bench-dms-{run_tag}", phone),
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
    return records, ids


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
    of docs/benchmarks.md.) ``lookups`` counts the index lookups it made, so that they
    are not counted as the notifier's."""

    def __init__(self, conn: asyncpg.Connection, schema: str, ids: list[str]) -> None:
        self.conn, self.schema = conn, schema
        self.remaining = set(ids)
        self.lookups = 0

    async def wait(self, timeout_s: float = 900.0) -> float:
        """The time the last row was seen (``time.perf_counter``)."""
        sql = f"SELECT event_id FROM {self.schema}.inbox WHERE consumer = $1 AND event_id = ANY($2)"
        deadline = time.perf_counter() + timeout_s
        total = len(self.remaining)
        while self.remaining:
            asked = list(self.remaining)
            self.lookups += len(asked)
            for row in await self.conn.fetch(sql, REACTIONS, asked):
                self.remaining.discard(row["event_id"])
            if not self.remaining:
                break
            if time.perf_counter() > deadline:
                done = total - len(self.remaining)
                raise TimeoutError(f"only {done:,} of {total:,} reactions after {timeout_s:g} s")
            await asyncio.sleep(0.05)
        return time.perf_counter()


async def check_effects(harness: Harness, ids: list[str]) -> dict[str, Any]:
    """Every event reacted to once, every customer the same effects; raises if not."""
    schema = schema_of(harness, "notifier")
    conn = await connect(harness)
    try:
        reacted = await _reactions_done(conn, schema, ids)
        effects: dict[Any, list[tuple[str, int]]] = {}
        for table in ("tasks", "reminders"):
            rows = await conn.fetch(
                f"SELECT customer_id, kind, count(*) AS n FROM {schema}.{table}"
                " WHERE dealer_id = $1 GROUP BY 1, 2",
                DEALER_ID,
            )
            for row in rows:
                effects.setdefault(row["customer_id"], []).append(
                    (f"{table}.{row['kind']}", row["n"])
                )
    finally:
        await conn.close()
    profiles = Counter(tuple(sorted(kinds)) for kinds in effects.values())
    problems = []
    if reacted != len(ids):
        problems.append(f"{reacted:,} of {len(ids):,} events in the reactions inbox")
    if len(effects) != len(ids):
        problems.append(f"effects for {len(effects):,} customers, {len(ids):,} delivered")
    if len(profiles) != 1 or not any(k.startswith("tasks.") for k, _ in next(iter(profiles))):
        problems.append(f"customers' effects differ: {dict(profiles)}")
    if problems:
        raise AssertionError("; ".join(problems))
    (profile,) = profiles
    return {"reacted": reacted, "effects_per_customer": dict(profile)}


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


async def run(
    infra: Infra, harness: Harness, *, deliveries: int, profile: Path | None = None
) -> BenchResult:
    """Run benchmark (a) and its baseline; see the module docstring."""
    schema = schema_of(harness, "notifier")
    topic = harness.topics.for_event(VehicleDelivered)
    notifier_topic = harness.topics.name("notifier")
    records, ids = make_events(deliveries, harness, infra.run_id)
    conn = await connect(harness)
    try:
        before = await table_counts(conn, schema)
        accesses_before = await access_counts(conn, schema)
        outbox_before = await infra.topic_offsets(notifier_topic)
        progress(
            f"e2e deliveries: {deliveries:,} outside VehicleDelivered -> notifier "
            f"(pid {harness.handles['notifier'].pid})"
        )
        output = None if profile is None else profile / "deliveries-notifier.txt"
        with profiled(harness.handles["notifier"].pid, output):
            started = time.perf_counter()
            sending = asyncio.create_task(produce(infra, topic, records))
            watcher = ReactionWatcher(conn, schema, ids)
            end = await watcher.wait()
            await sending
        seconds = end - started
        checked = await check_effects(harness, ids)
        outbox_rows = await _settled_offsets(infra, notifier_topic) - outbox_before
        after = await table_counts(conn, schema)
        accesses = await access_counts(conn, schema)
    finally:
        await conn.close()
    rows_per_event = {
        table: round((after[table] - before.get(table, 0)) / deliveries)
        for table in after
        if table not in _NOT_EFFECTS and after[table] - before.get(table, 0) >= deliveries / 2
    }
    rows_per_event["outbox"] = round(outbox_rows / deliveries)
    per_event = sum(rows_per_event.values()) + 1  # + the inbox row
    # everything the notifier did meanwhile (reactions, the follow-ups of its own events,
    # relay, timer polls), per delivery: how many statements touched its tables
    accesses_per_event = {
        key: (accesses[key] - accesses_before[key]) / deliveries for key in accesses
    }
    accesses_per_event["scans"] -= watcher.lookups / deliveries  # the observer's own
    progress(f"e2e deliveries: raw baseline writing {per_event} rows per event {rows_per_event}")
    raw_topic = await infra.topic("e2e-deliveries-raw", partitions=3)
    await produce(infra, raw_topic, records)
    settings = ServiceSettings(
        service_name="bench-e2e-raw",
        kafka_bootstrap=infra.kafka,
        pg_dsn=infra.dsn,
        unknown_dealers="defaults",
    )
    raw_name = "e2e_raw_deliveries"
    first_table = quote_ident("raw_" + next(iter(rows_per_event)))
    first_n = next(iter(rows_per_event.values()))
    raw = await raw_loop(
        infra,
        raw_topic,
        deliveries * first_n,
        settings,
        raw_name,
        raw_effects_handler(raw_name, rows_per_event),
        ddl=_raw_tables(rows_per_event),
        done_sql=f"SELECT count(*) FROM {first_table}",
    )
    rate = deliveries / seconds
    return BenchResult(
        name="deliveries",
        title=(
            f"(a) end to end: {deliveries:,} outside VehicleDelivered -> notifier reactions "
            f"committed, six services running ({per_event} rows per event)"
        ),
        baseline=(
            "raw AIOKafkaConsumer.getmany + one transaction per batch (inbox claim + one "
            f"unnest insert per table) writing the same {per_event} rows per event into "
            f"{len(rows_per_event)} tables, same records, no services' code"
        ),
        figures=[
            Figure(
                "deliveries -> reactions committed",
                rate,
                raw["events_per_s"],
                "events/s",
                target=">= 3,000 and >= 50% of baseline",
                met=rate >= 3000 and rate >= 0.5 * raw["events_per_s"],
                note=(
                    "clock from the first send to the last reaction's inbox row (50 ms polls);"
                    " the baseline's from its first batch to its last row"
                ),
            ),
            Figure("wall time", seconds, raw["seconds"], "s"),
            Figure(
                "notifier table scans per delivery",
                accesses_per_event["scans"],
                None,
                "scans",
                note=(
                    "index + sequential scans of the notifier's tables per delivery while "
                    "it ran (PostgreSQL statistics; reactions, their follow-ups, relay, "
                    "polls): about one statement's read each; the baseline needs one "
                    "statement per table per batch"
                ),
            ),
        ],
        params={"deliveries": deliveries, "partitions": 3},
        details={
            "rows_per_event": rows_per_event,
            "tables_before": before,
            "tables_after": after,
            "outbox_records": outbox_rows,
            "accesses_per_event": accesses_per_event,
            "effects": checked,
            "raw": raw,
        },
    )


async def _settled_offsets(infra: Infra, topic: str) -> int:
    """Records in ``topic`` once the relay has stopped adding to it (1 s unchanged)."""
    last = -1
    while True:
        now = await infra.topic_offsets(topic)
        if now == last:
            return now
        last = now
        await asyncio.sleep(1.0)
