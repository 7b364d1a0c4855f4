"""Tests of the migration runner against real PostgreSQL."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import asyncpg
import pytest

from dealerflow.runtime.migrations import (
    Migration,
    MigrationChecksumError,
    MigrationError,
    advisory_key,
    load_migrations,
    migrate,
    runtime_migrations,
)


def _m(version: int, sql: str, component: str = "svc") -> Migration:
    return Migration(component, version, f"step{version}", sql)


def test_runtime_migrations_are_versioned_sql_resources() -> None:
    migrations = runtime_migrations()
    assert [(m.component, m.version, m.name) for m in migrations] == [
        ("runtime", 1, "outbox"),
        ("runtime", 2, "inbox"),
        ("runtime", 3, "timers"),
        ("runtime", 4, "dealer_configurations"),
        ("runtime", 5, "inbox_digest"),
    ]
    assert all("CREATE TABLE" in m.sql or "ALTER TABLE" in m.sql for m in migrations)


def test_load_migrations_from_a_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "fake_service_migs"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "0002_second.sql").write_text("SELECT 2;")
    (pkg / "0001_first.sql").write_text("SELECT 1;")
    (pkg / "README.md").write_text("not a migration")
    (pkg / "1_bad_name.sql").write_text("ignored")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = load_migrations("fake_service_migs", "fake")
    assert [(m.version, m.name, m.sql) for m in found] == [
        (1, "first", "SELECT 1;"),
        (2, "second", "SELECT 2;"),
    ]
    (pkg / "0002_again.sql").write_text("SELECT 3;")
    with pytest.raises(MigrationError, match="two migrations with version 0002"):
        load_migrations("fake_service_migs", "fake")
    sys.modules.pop("fake_service_migs", None)


def test_checksum_ignores_line_endings_only() -> None:
    assert _m(1, "SELECT 1;\n").checksum == _m(1, "SELECT 1;\r\n").checksum
    assert _m(1, "SELECT 1;").checksum != _m(1, "SELECT 2;").checksum


def test_advisory_keys_differ_by_schema_and_purpose() -> None:
    keys = {advisory_key(p, s) for p in ("migrate", "outbox-relay") for s in ("a", "b")}
    assert len(keys) == 4
    assert all(-(2**63) <= k < 2**63 for k in keys)


@pytest.mark.integration
async def test_migrate_creates_schema_and_applies_once(pg_dsn: str, pg_schema: str) -> None:
    schema = f"{pg_schema}_new"
    try:
        applied = await migrate(pg_dsn, schema, runtime_migrations())
        assert [m.version for m in applied] == [1, 2, 3, 4, 5]
        assert await migrate(pg_dsn, schema, runtime_migrations()) == []
        conn = await asyncpg.connect(pg_dsn)
        try:
            rows = await conn.fetch(
                f'SELECT component, version, name, checksum FROM "{schema}".schema_migrations'
                " ORDER BY version"
            )
            assert [(r["component"], r["version"], r["name"]) for r in rows] == [
                ("runtime", 1, "outbox"),
                ("runtime", 2, "inbox"),
                ("runtime", 3, "timers"),
                ("runtime", 4, "dealer_configurations"),
                ("runtime", 5, "inbox_digest"),
            ]
            assert [r["checksum"] for r in rows] == [m.checksum for m in runtime_migrations()]
            tables = {
                r["table_name"]
                for r in await conn.fetch(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
                    schema,
                )
            }
            assert {
                "outbox",
                "inbox",
                "timers",
                "dealer_configurations",
                "schema_migrations",
            } <= tables
        finally:
            await conn.close()
    finally:
        conn = await asyncpg.connect(pg_dsn)
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


@pytest.mark.integration
async def test_concurrent_migrate_applies_each_migration_once(pg_dsn: str, pg_schema: str) -> None:
    # non-idempotent SQL (plain CREATE TABLE, INSERT) fails or double-counts if applied twice
    migrations = [
        _m(1, "CREATE TABLE applied_log (version int); INSERT INTO applied_log VALUES (1);"),
        _m(2, "SELECT pg_sleep(0.2); INSERT INTO applied_log VALUES (2);"),
        _m(3, "CREATE TABLE leads (id int); INSERT INTO applied_log VALUES (3);"),
    ]
    results = await asyncio.gather(*(migrate(pg_dsn, pg_schema, migrations) for _ in range(4)))
    applied = sorted(m.version for result in results for m in result)
    assert applied == [1, 2, 3]
    conn = await asyncpg.connect(pg_dsn)
    try:
        log = await conn.fetch(f'SELECT version FROM "{pg_schema}".applied_log ORDER BY version')
        assert [r["version"] for r in log] == [1, 2, 3]
    finally:
        await conn.close()


@pytest.mark.integration
async def test_changed_applied_migration_is_an_error(pg_dsn: str, pg_schema: str) -> None:
    await migrate(pg_dsn, pg_schema, [_m(1, "CREATE TABLE a (id int);")])
    with pytest.raises(MigrationChecksumError, match=r"svc:0001_step1 was changed"):
        await migrate(pg_dsn, pg_schema, [_m(1, "CREATE TABLE a (id bigint);")])


@pytest.mark.integration
async def test_each_migration_in_its_own_transaction(pg_dsn: str, pg_schema: str) -> None:
    good = _m(1, "CREATE TABLE a (id int);")
    broken = _m(2, "CREATE TABLE b (id int); SELECT no_such_function();")
    with pytest.raises(asyncpg.UndefinedFunctionError):
        await migrate(pg_dsn, pg_schema, [good, broken])
    conn = await asyncpg.connect(pg_dsn)
    try:
        versions = await conn.fetch(f'SELECT version FROM "{pg_schema}".schema_migrations')
        assert [r["version"] for r in versions] == [1]
        # the failed migration left nothing behind (its CREATE TABLE b rolled back)
        assert await conn.fetchval("SELECT to_regclass($1)", f"{pg_schema}.b") is None
    finally:
        await conn.close()
    fixed = _m(2, "CREATE TABLE b (id int);")
    assert [m.version for m in await migrate(pg_dsn, pg_schema, [good, fixed])] == [2]


@pytest.mark.integration
async def test_components_are_tracked_separately_and_order_is_checked(
    pg_dsn: str, pg_schema: str
) -> None:
    runtime = runtime_migrations()
    service = [_m(1, "CREATE TABLE leads (id int);"), _m(3, "CREATE TABLE c (id int);")]
    applied = await migrate(pg_dsn, pg_schema, runtime + service)
    assert [m.label for m in applied] == [
        "runtime:0001_outbox",
        "runtime:0002_inbox",
        "runtime:0003_timers",
        "runtime:0004_dealer_configurations",
        "runtime:0005_inbox_digest",
        "svc:0001_step1",
        "svc:0003_step3",
    ]
    late = _m(2, "CREATE TABLE b (id int);")
    with pytest.raises(MigrationError, match="older than applied version 0003"):
        await migrate(pg_dsn, pg_schema, [*runtime, service[0], late, service[1]])
    with pytest.raises(MigrationError, match="duplicate migration svc:0001"):
        await migrate(pg_dsn, pg_schema, [service[0], service[0]])


@pytest.mark.integration
async def test_invalid_schema_name_is_refused(pg_dsn: str) -> None:
    with pytest.raises(ValueError, match="invalid schema name"):
        await migrate(pg_dsn, "Bad-Name", [])
