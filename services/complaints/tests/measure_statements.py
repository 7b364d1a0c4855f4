"""What a VehicleDelivered costs complaints' reactions consumer in PostgreSQL: 1,000
deliveries (each of its own customer and contract) through the service's EventConsumer
in batches of ``consumer_batch_size`` (no Kafka: records built in memory), counted on
the consumer's connections (asyncpg's query logger) and in ``pg_stat_user_tables``
(rows inserted, index and sequential scans, per table the reactions touch). A measuring
aid, not a test: it prints figures and asserts nothing.

    eval "$(uv run --frozen dealerflow-infra env --profile test)"
    uv run --frozen python services/complaints/tests/measure_statements.py
    # the same with the complaints code of another commit (the runtime stays this one's):
    mkdir -p /tmp/before && git archive <commit> services/complaints/src | tar -x -C /tmp/before
    PYTHONPATH=/tmp/before/services/complaints/src \\
        uv run --frozen python services/complaints/tests/measure_statements.py
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from dealerflow.complaints import consumers
from dealerflow.complaints.app import DEFINITION
from dealerflow.complaints.settings import ComplaintsSettings
from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.examples import example_for
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.devinfra.service_testing import consumed_event
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.consumer import EventConsumer
from dealerflow.runtime.context import EnvironmentDealerConfiguration
from dealerflow.runtime.db import create_pool
from dealerflow.runtime.service import migrate_service

DELIVERIES = 1_000
TABLES = ("customer_contacts", "customer_sales", "awaiting_contact", "inbox")
_STATS = (
    "SELECT relname, n_tup_ins, n_tup_upd, coalesce(idx_scan, 0) AS idx_scan, seq_scan "
    "FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = ANY($2::text[])"
)


def delivery(n: int) -> VehicleDelivered:
    at = datetime(2026, 3, 22, 7, 0, tzinfo=UTC)
    return example_for(VehicleDelivered).model_copy(
        update={
            "customer_id": uuid.uuid5(uuid.NAMESPACE_URL, f"measure:{n}"),
            "contract_id": f"ct-{n}",
            "delivery_id": f"dlv-{n}",
            "occurred_at": at,
            "delivered_at": at,
        }
    )


async def stats(dsn: str, schema: str) -> dict[str, dict[str, int]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(_STATS, schema, list(TABLES))
    finally:
        await conn.close()
    return {r["relname"]: {k: v for k, v in dict(r).items() if k != "relname"} for r in rows}


async def main() -> None:
    schema = f"measure_{uuid.uuid4().hex[:8]}"
    settings = ComplaintsSettings(db_schema=schema, topic_prefix="measure.dealerflow.")
    await migrate_service(DEFINITION, settings)
    topics = TopicRegistry(settings.topic_prefix)
    statements: list[str] = []

    async def log_statements(conn: Any) -> None:
        conn.add_query_logger(lambda q: statements.append(q.query))

    records = [consumed_event(topics, delivery(n), offset=n) for n in range(DELIVERIES)]
    size = settings.consumer_batch_size
    pool = await create_pool(settings.pg_dsn, schema, init=log_statements, min_size=1)
    try:
        consumer = EventConsumer(
            name="complaints.reactions",
            router=consumers.router,
            pool=pool,
            settings=settings,
            clock=ManualClock(datetime(2026, 4, 1, tzinfo=UTC)),
            topics=topics,
            dealers=EnvironmentDealerConfiguration(),
        )
        before = await stats(settings.pg_migration_dsn, schema)
        await consumer.process_batch(records[:1])  # connection set-up and type introspection
        statements.clear()
        for start in range(1, DELIVERIES, size):
            await consumer.process_batch(records[start : start + size])
    finally:
        await pool.close()  # its backends exit: their table statistics are flushed
    await asyncio.sleep(1.0)
    after = await stats(settings.pg_migration_dsn, schema)
    print(f"complaints from {consumers.__file__}")
    print(
        f"{DELIVERIES - 1} VehicleDelivered in batches of {size} (after one alone, to set "
        f"up the connection): {len(statements)} statements, "
        f"{len(statements) / (DELIVERIES - 1):.3f} per event; per event of all {DELIVERIES}:"
    )
    for table in TABLES:
        was = before.get(table, {})
        delta = {k: v - was.get(k, 0) for k, v in after.get(table, {}).items()}
        print(f"  {table}: " + ", ".join(f"{k} {v / DELIVERIES:.3f}" for k, v in delta.items()))
    owner = await asyncpg.connect(settings.pg_migration_dsn)
    try:
        await owner.execute(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        await owner.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
