"""Migration 0002 against real PostgreSQL and Kafka: what dealers set in the former
per-service policy tables (notifier.dealer_policy, complaints.dealer_policy, in the
sibling schemas) becomes their store overrides, and the running service publishes a
DealerConfigured for each with the merged overrides applied."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from dealerflow.contracts.events.dealers import DealerConfigured
from dealerflow.dealers.app import DEFINITION
from dealerflow.dealers.settings import DealersSettings
from dealerflow.devinfra.service_testing import (
    TopicReader,
    running_service,
    service_settings,
)

pytestmark = pytest.mark.integration

NOTIFIER = {
    "sh-01": {
        "contact": {"quiet_hours_start": "22:00", "marketing_cap": 1},
        "calendar": {"holidays": ["2025-10-01"]},
        "complaints": {"survey_dissatisfied_max_score": 3},
    },
    "bad-01": {"contact": {"marketing_cap": -1}},  # no longer valid: stays unpublished
    "empty-01": {},
}
COMPLAINTS = {
    "sh-01": {
        "contact": {"quiet_hours_start": "20:00"},
        "complaints": {"survey_dissatisfied_max_score": 5},
        "calendar": {"time_zone": "Asia/Chongqing", "holidays": ["2025-05-01"]},
    },
    "cd-01": {"complaints": {"sla": {"critical": {"acknowledge": {"duration": "PT15M"}}}}},
}


@pytest.fixture
async def schemas(pg_dsn: str) -> AsyncIterator[str]:
    """A prefix whose <prefix>dealers, <prefix>notifier, <prefix>complaints schemas the
    test may create (dropped afterwards)."""
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    yield prefix
    conn = await asyncpg.connect(pg_dsn)
    try:
        for name in ("dealers", "notifier", "complaints"):
            await conn.execute(f'DROP SCHEMA IF EXISTS "{prefix}{name}" CASCADE')
    finally:
        await conn.close()


async def _legacy_table(pg_dsn: str, schema: str, rows: dict[str, dict[str, Any]]) -> None:
    # the shape of both services' 0001_init.sql
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        await conn.execute(
            f'CREATE TABLE "{schema}".dealer_policy (dealer_id text PRIMARY KEY,'
            " overrides jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())"
        )
        for dealer_id, overrides in rows.items():
            await conn.execute(
                f'INSERT INTO "{schema}".dealer_policy (dealer_id, overrides)'
                " VALUES ($1, $2::jsonb)",
                dealer_id,
                json.dumps(overrides),
            )
    finally:
        await conn.close()


def _settings(schema: str, pg_dsn: str, kafka_bootstrap: str, topic_prefix: str) -> DealersSettings:
    return service_settings(
        DealersSettings,
        pg_dsn=pg_dsn,
        pg_schema=schema,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
    )


async def test_both_tables_are_merged_and_published_on_start(
    schemas: str, pg_dsn: str, kafka_bootstrap: str, topic_prefix: str
) -> None:
    await _legacy_table(pg_dsn, f"{schemas}notifier", NOTIFIER)
    await _legacy_table(pg_dsn, f"{schemas}complaints", COMPLAINTS)
    settings = _settings(f"{schemas}dealers", pg_dsn, kafka_bootstrap, topic_prefix)

    async with running_service(DEFINITION, settings) as service:
        reader = TopicReader(kafka_bootstrap, service.topics.name("dealers"))
        await reader.start()
        try:
            records = await reader.until(
                lambda seen: len(seen) >= 2, what="DealerConfigured of the imported dealers"
            )
            await reader.poll(500)  # nothing else follows
            events = reader.events()
        finally:
            await reader.stop()
        bad = await service.client.get("/v1/dealers/bad-01")
        listed = await service.client.get("/v1/dealers")

    assert sorted(r.key for r in records) == [b"cd-01", b"sh-01"]
    published = {e.event.dealer_id: e.event for e in events}
    shanghai = published["sh-01"]
    assert isinstance(shanghai, DealerConfigured)
    assert (shanghai.configuration_version, shanghai.changed_by) == (1, "dealers-import")
    policy = shanghai.configuration["policy"]
    assert policy["contact"]["quiet_hours_start"] == "22:00:00"  # the notifier's contact wins
    assert policy["contact"]["marketing_cap"] == 1
    assert policy["complaints"]["survey_dissatisfied_max_score"] == 5  # complaints' wins
    assert policy["calendar"]["time_zone"] == "Asia/Chongqing"  # merged from both
    assert policy["calendar"]["holidays"] == ["2025-05-01"]  # complaints after notifier
    assert sorted(shanghai.changed_sections) == ["calendar", "rules"]
    chengdu = published["cd-01"].configuration["policy"]["complaints"]["sla"]["critical"]
    assert chengdu["acknowledge"]["duration"] == "PT15M"

    assert bad.status_code == 200
    assert bad.json()["configuration_version"] == 0  # invalid: kept, not published
    assert bad.json()["overrides"] == {"policy": {"contact": {"marketing_cap": -1}}}
    assert [d["dealer_id"] for d in listed.json()["items"]] == ["bad-01", "cd-01", "sh-01"]


async def test_a_missing_sibling_table_imports_nothing_from_it(
    schemas: str, pg_dsn: str, kafka_bootstrap: str, topic_prefix: str
) -> None:
    await _legacy_table(pg_dsn, f"{schemas}notifier", {"sh-01": NOTIFIER["sh-01"]})
    settings = _settings(f"{schemas}dealers", pg_dsn, kafka_bootstrap, topic_prefix)
    async with running_service(DEFINITION, settings, run_background=False) as service:
        view = (await service.client.get("/v1/dealers/sh-01")).json()
        timers = await service.pool.fetchval(
            "SELECT count(*) FROM timers WHERE kind = 'publish_imported' AND status = 'pending'"
        )
    assert view["overrides"] == {"policy": NOTIFIER["sh-01"]}
    assert view["configuration_version"] == 0  # published once the service runs
    assert view["configuration"]["policy"]["contact"]["marketing_cap"] == 1
    assert timers == 1


async def _legacy_roster(
    pg_dsn: str, schema: str, table: str, rows: list[tuple[str, str, str | None, bool]]
) -> None:
    # the shape of leads' 0001_init.sql (``consultants``; ``consultants_retired`` after
    # leads 0003)
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(
            f'CREATE TABLE "{schema}".{table} (dealer_id text NOT NULL, consultant_id text'
            " NOT NULL, name text, on_duty boolean NOT NULL, updated_at timestamptz NOT NULL"
            " DEFAULT now(), PRIMARY KEY (dealer_id, consultant_id))"
        )
        await conn.executemany(
            f'INSERT INTO "{schema}".{table} (dealer_id, consultant_id, name, on_duty)'
            " VALUES ($1, $2, $3, $4)",
            rows,
        )
    finally:
        await conn.close()


@pytest.mark.parametrize("table", ["consultants", "consultants_retired"])
async def test_the_leads_roster_becomes_the_stores_people(
    schemas: str, pg_dsn: str, kafka_bootstrap: str, topic_prefix: str, table: str
) -> None:
    await _legacy_table(pg_dsn, f"{schemas}notifier", {"sh-01": NOTIFIER["sh-01"]})
    await _legacy_roster(
        pg_dsn,
        f"{schemas}leads",
        table,
        [
            ("sh-01", "c-wang", "王强", True),
            ("sh-01", "c-li", None, False),
            ("cd-01", "c-zhao", "赵磊", True),
        ],
    )
    settings = _settings(f"{schemas}dealers", pg_dsn, kafka_bootstrap, topic_prefix)
    async with running_service(DEFINITION, settings, run_background=False) as service:
        shanghai = (await service.client.get("/v1/dealers/sh-01")).json()
        chengdu = (await service.client.get("/v1/dealers/cd-01")).json()
    try:
        staff = shanghai["overrides"]["people"]["staff"]
        assert [(m["staff_id"], m["name"], m["on_duty"]) for m in staff] == [
            ("c-li", "", False),
            ("c-wang", "王强", True),
        ]
        assert all(m["roles"] == ["consultant"] for m in staff)
        assert shanghai["overrides"]["policy"] == NOTIFIER["sh-01"]  # both imports kept
        people = chengdu["configuration"]["people"]["staff"]
        assert [m["staff_id"] for m in people] == ["c-zhao"]
        assert chengdu["configuration_version"] == 0  # published once the service runs
    finally:
        conn = await asyncpg.connect(pg_dsn)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schemas}leads" CASCADE')
        finally:
            await conn.close()
