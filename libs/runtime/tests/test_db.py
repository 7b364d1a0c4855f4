"""Integration tests of the pool factory and the transaction helper (real PostgreSQL)."""

from __future__ import annotations

import pytest

from dealerflow.runtime.db import create_pool, quote_ident, transaction, validate_schema_name

pytestmark = pytest.mark.integration


async def test_pool_uses_the_service_schema_then_public(pg_dsn: str, pg_schema: str) -> None:
    pool = await create_pool(pg_dsn, pg_schema, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT current_schema()") == pg_schema
            assert await conn.fetchval("SHOW search_path") == f'"{pg_schema}", public'
            assert await conn.fetchval("SHOW timezone") == "UTC"
            await conn.execute("CREATE TABLE things (id int)")
        owner = await pool.fetchval(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'things'"
            " AND table_schema = $1",
            pg_schema,
        )
        assert owner == pg_schema
    finally:
        await pool.close()


async def test_transaction_commits_or_rolls_back(pg_dsn: str, pg_schema: str) -> None:
    pool = await create_pool(pg_dsn, pg_schema, min_size=1, max_size=2)
    try:
        await pool.execute("CREATE TABLE things (id int)")
        async with transaction(pool) as conn:
            assert conn.is_in_transaction()
            await conn.execute("INSERT INTO things VALUES (1)")

        async def insert_then_fail() -> None:
            async with transaction(pool) as conn:
                await conn.execute("INSERT INTO things VALUES (2)")
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            await insert_then_fail()
        assert [r["id"] for r in await pool.fetch("SELECT id FROM things")] == [1]
    finally:
        await pool.close()


@pytest.mark.parametrize("bad", ["Leads", "leads;drop", "", "9x", "a" * 64, 'x"y'])
def test_invalid_schema_names_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid schema name"):
        validate_schema_name(bad)


def test_quote_ident() -> None:
    assert quote_ident("leads") == '"leads"'
    assert quote_ident('a"b') == '"a""b"'
