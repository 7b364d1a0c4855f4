"""`dry_run` against real PostgreSQL: the real handlers run on one event, what they wrote
is readable inside the transaction (xmin = the transaction's id) and what they published
is returned, and afterwards nothing is left (no rows, no outbox, no timers, no inbox).
`envelope_of` reads a structured CloudEvent or ``{type, data}``."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from dealerflow.contracts.envelope import Envelope, EventDecodeError, encode_structured
from dealerflow.contracts.events.leads import LeadAssigned, LeadGraded
from dealerflow.runtime.consumer import EventRouter, HandlerContext, UnprocessableEvent
from dealerflow.runtime.context import EnvironmentDealerConfiguration
from dealerflow.runtime.dry_run import dry_run, envelope_of
from dealerflow.runtime.migrations import migrate, runtime_migrations
from dealerflow.runtime.settings import ServiceSettings

pytestmark = pytest.mark.integration

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def graded(lead_id: str) -> LeadGraded:
    return LeadGraded(
        dealer_id="D001",
        customer_id=uuid.uuid5(uuid.NAMESPACE_URL, lead_id),
        occurred_at=NOW,
        lead_id=lead_id,
        grade="H",
        graded_at=NOW,
    )


@pytest.fixture
async def db(pg_dsn: str, pg_schema: str, pg_pool: asyncpg.Pool) -> asyncpg.Pool:
    await migrate(pg_dsn, pg_schema, runtime_migrations())
    await pg_pool.execute("CREATE TABLE effects (lead_id text, grade text)")
    await pg_pool.execute("INSERT INTO effects VALUES ('before', 'A')")
    return pg_pool


router = EventRouter()


def assigned(lead_id: str) -> LeadAssigned:
    return LeadAssigned(
        dealer_id="D001",
        customer_id=uuid.uuid5(uuid.NAMESPACE_URL, lead_id),
        occurred_at=NOW,
        lead_id=lead_id,
        consultant_id="C7",
        reason="initial",
        assigned_at=NOW,
    )


@router.on(LeadGraded)
async def on_graded(ctx: HandlerContext, env: Envelope[Any]) -> None:
    event: LeadGraded = env.event
    await ctx.conn.execute("INSERT INTO effects VALUES ($1, $2)", event.lead_id, event.grade)
    await ctx.schedule_timer(key=f"t:{event.lead_id}", kind="k", due_at=NOW + timedelta(days=1))
    await ctx.publish(assigned(event.lead_id))


async def written(conn: Any) -> list[str]:
    rows = await conn.fetch("SELECT lead_id FROM effects WHERE xmin = pg_current_xact_id()::xid")
    timers = await conn.fetch("SELECT key FROM timers WHERE xmin = pg_current_xact_id()::xid")
    return [r["lead_id"] for r in rows] + [r["key"] for r in timers]


async def test_handlers_run_and_everything_is_rolled_back(db: asyncpg.Pool) -> None:
    settings = ServiceSettings(service_name="drytest", topic_prefix="tdry.dealerflow.")
    result = await dry_run(
        db,
        [router],
        envelope_of({"type": "LeadGraded", "data": graded("L1").model_dump(mode="json")}),
        written,
        settings=settings,
        clock=settings.clock(),
        dealers=EnvironmentDealerConfiguration({}),
    )
    assert result.handlers == 1
    assert result.seen == ["L1", "t:L1"]  # the rows written in the transaction only
    assert [type(e.event) for e in result.published] == [LeadAssigned]
    assert result.published[0].meta.causation_id is not None
    assert [r["lead_id"] for r in await db.fetch("SELECT lead_id FROM effects")] == ["before"]
    for table in ("timers", "outbox", "inbox"):
        assert await db.fetchval(f"SELECT count(*) FROM {table}") == 0, table


async def test_an_event_no_router_handles_runs_nothing(db: asyncpg.Pool) -> None:
    settings = ServiceSettings(service_name="drytest", topic_prefix="tdry.dealerflow.")
    result = await dry_run(
        db,
        [router],
        envelope_of({"type": "LeadAssigned", "data": assigned("L2").model_dump(mode="json")}),
        written,
        settings=settings,
        clock=settings.clock(),
        dealers=EnvironmentDealerConfiguration({}),
    )
    assert (result.handlers, result.published, result.seen) == (0, [], [])


async def test_an_event_of_a_dealer_without_configuration_is_refused(db: asyncpg.Pool) -> None:
    settings = ServiceSettings(
        service_name="drytest", topic_prefix="tdry.dealerflow.", unknown_dealers="refuse"
    )
    with pytest.raises(UnprocessableEvent, match="D001"):
        await dry_run(
            db,
            [router],
            envelope_of({"type": "LeadGraded", "data": graded("L4").model_dump(mode="json")}),
            written,
            settings=settings,
            clock=settings.clock(),
            dealers=EnvironmentDealerConfiguration({}),
        )
    assert [r["lead_id"] for r in await db.fetch("SELECT lead_id FROM effects")] == ["before"]


def test_envelope_of_reads_a_structured_cloudevent_and_type_data() -> None:
    structured = encode_structured(graded("L3"), source="/outside", event_id="ev-3")
    document = json.loads(structured.value)
    envelope = envelope_of(document)
    assert (envelope.meta.id, envelope.meta.source) == ("ev-3", "/outside")
    short = envelope_of({"type": "dealerflow.leads.LeadGraded.v1", "data": document["data"]})
    assert isinstance(short.event, LeadGraded)
    assert short.meta.source == "/dealerflow/preview"


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"data": {}}, "no type"),
        ({"type": "NoSuchEvent", "data": {}}, "unknown event type"),
        ({"type": "LeadGraded"}, "no data"),
        ({"type": "LeadGraded", "data": {"dealer_id": "D001"}}, "invalid LeadGraded payload"),
    ],
)
def test_envelope_of_says_why_an_event_is_invalid(document: dict[str, Any], reason: str) -> None:
    with pytest.raises(EventDecodeError, match=reason):
        envelope_of(document)
