"""Dealer isolation in PostgreSQL: row-level security on every table with ``dealer_id``,
services as a non-owner role, and the dealer scope every entry point sets.

Against real PostgreSQL, as the application role of the test server (``pg_app_dsn``):
the owner (``pg_dsn``, a superuser here) bypasses row-level security, so only the
application role can show what a service sees.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiokafka import ConsumerRecord

from dealerflow.contracts.envelope import Envelope, encode_binary
from dealerflow.contracts.events.dealers import DealerConfigured
from dealerflow.contracts.events.leads import LeadGraded
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.devinfra.config import PG_APP_ROLE
from dealerflow.policy import settings_with_overrides
from dealerflow.runtime import timers
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.consumer import EventConsumer, EventRouter, HandlerContext
from dealerflow.runtime.context import EnvironmentDealerConfiguration
from dealerflow.runtime.db import ALL_DEALERS, act_for, create_pool, dealer_scope, transaction
from dealerflow.runtime.dealers import StoredConfiguration, upsert_configuration
from dealerflow.runtime.migrations import Migration, migrate, runtime_migrations
from dealerflow.runtime.outbox import decode_headers
from dealerflow.runtime.raw_consumer import RawRecordConsumer, RecordContext
from dealerflow.runtime.service import ServiceContext
from dealerflow.runtime.settings import ServiceSettings

PREFIX = "trls.dealerflow."
TOPIC = PREFIX + "leads"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# A service's own table, created by its migration after the runtime's.
SERVICE_V1 = Migration(
    "svc",
    1,
    "leads",
    "CREATE TABLE leads (id text PRIMARY KEY, dealer_id text NOT NULL, name text);"
    "CREATE TABLE lead_sources (code text PRIMARY KEY);",
)
SERVICE_V2 = Migration(
    "svc",
    2,
    "later",
    "CREATE TABLE quotes (id bigserial PRIMARY KEY, dealer_id text NOT NULL, amount int);"
    "UPDATE leads SET name = upper(name);"  # a data fix: acts for every dealer
    # (the owner here is a superuser, which bypasses row-level security: check the scope)
    "DO $$ BEGIN IF current_setting('dealerflow.dealers', true) IS DISTINCT FROM '*'"
    " THEN RAISE EXCEPTION 'migrations must act for every dealer'; END IF; END $$;",
)


def test_dealer_scope_values() -> None:
    assert dealer_scope("D1") == "D1"
    assert dealer_scope(["D2", "D1", "D2"]) == "D1,D2"
    assert dealer_scope(["D1", ALL_DEALERS]) == ALL_DEALERS
    assert dealer_scope([]) == ""
    with pytest.raises(ValueError, match="invalid dealer id"):
        dealer_scope(["D1,D2"])


async def secured_tables(conn: asyncpg.Connection, schema: str) -> dict[str, tuple[bool, bool]]:
    rows = await conn.fetch(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_policy p ON p.polrelid = c.oid"
        " WHERE n.nspname = $1 AND p.polname = 'dealer_isolation'",
        schema,
    )
    return {r["relname"]: (r["relrowsecurity"], r["relforcerowsecurity"]) for r in rows}


@pytest.fixture
async def app_pool(pg_dsn: str, pg_app_dsn: str, pg_schema: str) -> AsyncIterator[asyncpg.Pool]:
    """The schema migrated by its owner (granting the app role), and a pool of the app."""
    await migrate(pg_dsn, pg_schema, [*runtime_migrations(), SERVICE_V1], app_role=PG_APP_ROLE)
    owner = await asyncpg.connect(pg_dsn, server_settings={"search_path": pg_schema})
    try:
        await owner.execute(
            "INSERT INTO leads VALUES ('L1', 'D1', 'ann'), ('L2', 'D2', 'bob'), ('L3', 'D2', 'cy')"
        )
        for dealer in ("D1", "D2"):
            await upsert_configuration(owner, stored(dealer))
    finally:
        await owner.close()
    pool = await create_pool(pg_app_dsn, pg_schema, min_size=1, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()


def stored(dealer_id: str) -> StoredConfiguration:
    return StoredConfiguration(
        dealer_id=dealer_id,
        group_id=None,
        configuration_version=1,
        configuration=settings_with_overrides({}).model_dump(mode="json"),
        configured_at=NOW,
    )


@pytest.mark.integration
async def test_every_dealer_table_is_secured_by_migrate_including_later_ones(
    pg_dsn: str, app_pool: asyncpg.Pool, pg_schema: str
) -> None:
    conn = await asyncpg.connect(pg_dsn)
    try:
        assert await secured_tables(conn, pg_schema) == {
            "timers": (True, True),
            "dealer_configurations": (True, True),
            "leads": (True, True),
        }  # lead_sources, outbox, inbox and the ledger have no dealer_id
        applied = await migrate(
            pg_dsn, pg_schema, [*runtime_migrations(), SERVICE_V1, SERVICE_V2], app_role=PG_APP_ROLE
        )
        assert [m.label for m in applied] == ["svc:0002_later"]
        assert (await secured_tables(conn, pg_schema))["quotes"] == (True, True)
        # the data fix saw every dealer's rows although FORCE applies to the owner
        names = await conn.fetch(f'SELECT name FROM "{pg_schema}".leads ORDER BY id')
        assert [r["name"] for r in names] == ["ANN", "BOB", "CY"]
        assert await migrate(pg_dsn, pg_schema, [*runtime_migrations(), SERVICE_V1]) == []
    finally:
        await conn.close()
    async with transaction(app_pool, "D1") as app:  # the later table is granted too
        await app.execute("INSERT INTO quotes (dealer_id, amount) VALUES ('D1', 10)")
        assert await app.fetchval("SELECT count(*) FROM quotes") == 1


@pytest.mark.integration
async def test_an_unscoped_query_shows_only_the_dealers_the_transaction_acts_for(
    app_pool: asyncpg.Pool,
) -> None:
    unscoped = "SELECT id FROM leads ORDER BY id"  # deliberately no dealer_id filter
    async with transaction(app_pool, "D1") as conn:
        assert [r["id"] for r in await conn.fetch(unscoped)] == ["L1"]
        assert await conn.fetchval("SELECT count(*) FROM dealer_configurations") == 1
        # another dealer's rows cannot be changed either: they are not there
        assert await conn.execute("UPDATE leads SET name = 'x'") == "UPDATE 1"
        assert await conn.execute("DELETE FROM leads WHERE id = 'L2'") == "DELETE 0"
    async with transaction(app_pool, ["D1", "D2"]) as conn:
        assert [r["id"] for r in await conn.fetch(unscoped)] == ["L1", "L2", "L3"]
    async with transaction(app_pool, ALL_DEALERS) as conn:
        assert len(await conn.fetch(unscoped)) == 3
    async with app_pool.acquire() as conn, conn.transaction():  # no scope: nobody's rows
        assert await conn.fetch(unscoped) == []
    assert await app_pool.fetch(unscoped) == []  # the pool's reset cleared earlier scopes


@pytest.mark.integration
async def test_writing_another_dealers_row_fails(app_pool: asyncpg.Pool) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with transaction(app_pool, "D1") as conn:
            await conn.execute("INSERT INTO leads VALUES ('L9', 'D2', 'eve')")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with transaction(app_pool, "D1") as conn:
            await conn.execute("UPDATE leads SET dealer_id = 'D2' WHERE id = 'L1'")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):  # the ledger is the owner's
        async with transaction(app_pool, ALL_DEALERS) as conn:
            await conn.execute("DELETE FROM schema_migrations")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):  # no DDL: it owns nothing
        async with transaction(app_pool, ALL_DEALERS) as conn:
            await conn.execute("ALTER TABLE leads DISABLE ROW LEVEL SECURITY")


@pytest.mark.integration
async def test_act_for_needs_a_transaction(app_pool: asyncpg.Pool) -> None:
    async with app_pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="needs a transaction"):
            await act_for(conn, "D1")


@pytest.mark.integration
async def test_http_use_cases_act_for_every_dealer_until_tokens_say_otherwise(
    app_pool: asyncpg.Pool,
) -> None:
    settings = ServiceSettings(service_name="svc")
    ctx = ServiceContext(
        settings=settings,
        clock=ManualClock(NOW),
        topics=TopicRegistry(PREFIX),
        source="/test",
        dealers=EnvironmentDealerConfiguration(),
        pool=app_pool,
    )

    async def count(uc: Any) -> int:
        return int(await uc.conn.fetchval("SELECT count(*) FROM leads"))

    assert await ctx.run_in_transaction(count) == 3
    assert await ctx.run_in_transaction(count, dealers=["D2"]) == 2


@pytest.mark.integration
async def test_timer_handlers_act_for_their_timers_dealer(app_pool: asyncpg.Pool) -> None:
    async with transaction(app_pool, ALL_DEALERS) as conn:
        for n, dealer in enumerate(("D1", "D1", "D2", "D1")):
            due = NOW + timedelta(seconds=n)
            await timers.schedule(conn, key=f"t{n}", kind="look", dealer_id=dealer, due_at=due)
            await timers.schedule(conn, key=f"b{n}", kind="batch", dealer_id=dealer, due_at=due)
    seen: dict[str, list[str]] = {}

    async def look(conn: Any, timer: timers.Timer) -> None:
        seen[timer.key] = [r["id"] for r in await conn.fetch("SELECT id FROM leads")]

    async def look_all(conn: Any, group: Any) -> None:
        seen["batch"] = [r["id"] for r in await conn.fetch("SELECT id FROM leads")]

    poller = timers.TimerPoller(
        app_pool,
        {"look": look},
        batch_handlers={"batch": look_all},
        clock=ManualClock(NOW + timedelta(1)),
    )
    assert await poller.fire_due() == 8  # the claim spans dealers
    d1, d2 = ["L1"], ["L2", "L3"]
    assert seen == {"t0": d1, "t1": d1, "t2": d2, "t3": d1, "batch": d1 + d2}
    assert await poller._delay_until_next_due(False) > 0  # reads across dealers too


def kafka_record(
    topic: str, offset: int, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]
) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(
        topic=topic,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=len(key or b""),
        serialized_value_size=len(value),
        headers=headers,
    )


def event_record(offset: int, event: Any, **header_changes: bytes) -> ConsumerRecord[Any, Any]:
    encoded = encode_binary(event, source="/test", event_id=f"ev-{offset}")
    headers = [(k, header_changes.get(k, v)) for k, v in encoded.headers]
    return kafka_record(TOPIC, offset, encoded.key, encoded.value, headers)


def graded(dealer_id: str, lead_id: str) -> LeadGraded:
    return LeadGraded(
        dealer_id=dealer_id,
        customer_id=uuid.uuid5(uuid.NAMESPACE_URL, lead_id),
        occurred_at=NOW,
        lead_id=lead_id,
        grade="H",
        graded_at=NOW,
    )


def configured(dealer_id: str) -> DealerConfigured:
    return DealerConfigured(
        dealer_id=dealer_id,
        occurred_at=NOW,
        configuration_version=1,
        configuration=settings_with_overrides({}).model_dump(mode="json"),
        changed_by="S-admin",
        changed_sections=["profile"],
    )


async def dead_letters(pool: asyncpg.Pool) -> dict[str, str]:
    """Original offset -> reason of every dead letter in the outbox."""
    async with transaction(pool, ALL_DEALERS) as conn:
        rows = await conn.fetch("SELECT headers FROM outbox WHERE topic LIKE '%.dlq' ORDER BY id")
    found = {}
    for row in rows:
        headers = dict(decode_headers(row["headers"]))
        found[headers["dlq-original-offset"].decode()] = headers["dlq-error"].decode()
    return found


def event_consumer(pool: asyncpg.Pool, router: EventRouter, unknown: str) -> EventConsumer:
    settings = ServiceSettings(service_name="rls", topic_prefix=PREFIX, unknown_dealers=unknown)
    return EventConsumer(
        name="rls", router=router, pool=pool, settings=settings, topics=TopicRegistry(PREFIX)
    )


@pytest.mark.integration
async def test_a_batch_acts_for_the_dealers_of_its_events(app_pool: asyncpg.Pool) -> None:
    seen: dict[str, list[str]] = {}
    router = EventRouter()

    @router.on(LeadGraded)
    async def look(ctx: HandlerContext, env: Envelope[LeadGraded]) -> None:
        seen[env.event.lead_id] = [r["id"] for r in await ctx.conn.fetch("SELECT id FROM leads")]

    consumer = event_consumer(app_pool, router, "refuse")
    outcome = await consumer.process_batch([event_record(0, graded("D1", "L1"))])
    assert outcome.handled == 1
    assert seen["L1"] == ["L1"]
    await consumer.process_batch(
        [event_record(1, graded("D1", "L1b")), event_record(2, graded("D2", "L2b"))]
    )
    assert seen["L2b"] == ["L1", "L2", "L3"]  # a batch spanning dealers acts for both


@pytest.mark.integration
async def test_wrong_and_unknown_dealers_are_dead_lettered_and_the_partition_moves_on(
    app_pool: asyncpg.Pool,
) -> None:
    handled: list[str] = []
    router = EventRouter()

    @router.on(LeadGraded)
    async def on_graded(ctx: HandlerContext, env: Envelope[LeadGraded]) -> None:
        handled.append(env.event.lead_id)

    router.include(_dealers_router())
    consumer = event_consumer(app_pool, router, "refuse")
    outcome = await consumer.process_batch(
        [
            event_record(0, graded("D1", "wrong"), ce_dealerid=b"D2"),
            event_record(1, graded("D9", "unknown")),
            event_record(2, graded("D1", "fine")),
            event_record(3, configured("D9")),  # always accepted: it makes D9 known
        ]
    )
    assert (outcome.handled, outcome.dead_lettered) == (2, 2)
    assert handled == ["fine"]
    reasons = await dead_letters(app_pool)
    assert reasons == {
        "0": "EventDecodeError: dealerid 'D2' does not match data.dealer_id 'D1'",
        "1": "UnprocessableEvent: dealer 'D9' is unknown to the dealer configuration "
        "(no DealerConfigured received; unknown_dealers=refuse)",
    }
    # D9 is known now; its event, replayed from the dead letters, is handled
    assert (await consumer.process_batch([event_record(1, graded("D9", "unknown"))])).handled == 1
    assert handled == ["fine", "unknown"]


@pytest.mark.integration
async def test_unknown_dealers_defaults_handles_them_as_before(app_pool: asyncpg.Pool) -> None:
    handled: list[str] = []
    router = EventRouter()

    @router.on(LeadGraded)
    async def on_graded(ctx: HandlerContext, env: Envelope[LeadGraded]) -> None:
        handled.append(env.event.lead_id)

    consumer = event_consumer(app_pool, router, "defaults")
    assert (await consumer.process_batch([event_record(0, graded("D9", "x"))])).handled == 1
    assert handled == ["x"]


def _dealers_router() -> EventRouter:
    from dealerflow.runtime.dealers import router

    return router


def raw_record(offset: int, body: bytes, headers: list[tuple[str, bytes]]) -> Any:
    return kafka_record(PREFIX + "inbound.leads", offset, None, body, headers)


@pytest.mark.integration
async def test_raw_records_refuse_wrong_and_unknown_dealers(app_pool: asyncpg.Pool) -> None:
    seen: dict[str, list[str]] = {}

    async def handle(ctx: RecordContext, record: Any) -> None:
        dealer = record.value.decode()  # the document names its dealer
        await ctx.dealer(dealer)
        seen[dealer + "@" + str(record.offset)] = [
            r["id"] for r in await ctx.conn.fetch("SELECT id FROM leads")
        ]

    consumer = RawRecordConsumer(
        name="rawrls",
        handler=handle,
        pool=app_pool,
        settings=ServiceSettings(
            service_name="rawrls", topic_prefix=PREFIX, unknown_dealers="refuse"
        ),
        topics=TopicRegistry(PREFIX),
    )
    outcome = await consumer.process_batch(
        [
            raw_record(0, b"D1", [("ce_dealerid", b"D1")]),  # declared: acts for D1
            raw_record(1, b"D2", []),  # names its dealer only in the body: acts for all
            raw_record(2, b"D2", [("ce_dealerid", b"D1")]),  # declares D1, names D2
            raw_record(3, b"D9", [("ce_dealerid", b"D9")]),  # unknown, declared
            raw_record(4, b"D9", []),  # unknown, named in the body
        ]
    )
    assert (outcome.handled, outcome.dead_lettered) == (2, 3)
    assert seen == {"D1@0": ["L1"], "D2@1": ["L1", "L2", "L3"]}
    reasons = await dead_letters(app_pool)
    unknown = (
        "UnprocessableEvent: dealer 'D9' is unknown to the dealer configuration "
        "(no DealerConfigured received; unknown_dealers=refuse)"
    )
    assert reasons == {
        "2": "UnprocessableEvent: the record declares dealer 'D1' (ce_dealerid) but names "
        "dealer 'D2'",
        "3": unknown,
        "4": unknown,
    }
