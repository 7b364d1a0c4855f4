"""Tests of outbox.enqueue inside the caller's transaction (real PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import asyncpg
import pytest

from dealerflow.runtime.migrations import migrate, runtime_migrations
from dealerflow.runtime.outbox import (
    OutboxMessage,
    decode_headers,
    encode_headers,
    enqueue,
    notify_channel,
)


@contextlib.asynccontextmanager
async def notifications(dsn: str, schema: str) -> AsyncIterator[asyncio.Queue[tuple[str, str]]]:
    """``(channel, payload)`` of each NOTIFY of the schema's outbox, as delivered."""
    received: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    listener = await asyncpg.connect(dsn)
    await listener.add_listener(
        notify_channel(schema), lambda *args: received.put_nowait((args[2], args[3]))
    )
    try:
        yield received
    finally:
        await listener.close()


@pytest.fixture
async def pool(pg_dsn: str, pg_schema: str, pg_pool: asyncpg.Pool) -> asyncpg.Pool:
    await migrate(pg_dsn, pg_schema, runtime_migrations())
    return pg_pool


def test_headers_round_trip_text_and_binary() -> None:
    headers = [("ce_type", b"dealerflow.sales.X.v1"), ("bin", b"\xff\x00\x01"), ("e", b"")]
    encoded = encode_headers(headers)
    assert '["ce_type","dealerflow.sales.X.v1"]' in encoded  # readable for operators
    assert decode_headers(encoded) == headers
    assert decode_headers([["a", "中文"]]) == [("a", "中文".encode())]


def test_headers_with_nul_are_base64_since_jsonb_refuses_it() -> None:
    headers = [("ce_id", b"id\x00x"), ("n\x00m", b"v"), ("ok", b"text")]
    encoded = encode_headers(headers)
    assert "\\u0000" not in encoded
    assert decode_headers(encoded) == headers
    # the pair with a NUL in its name alone (not decoded as text by the all-text path)
    assert decode_headers(json.loads(encoded)[1:2]) == [headers[1]]


@pytest.mark.integration
async def test_a_record_with_nul_headers_is_enqueued(pool: asyncpg.Pool) -> None:
    headers = [("ce_id", b"id\x00x"), ("n\x00m", b"v")]
    async with pool.acquire() as conn, conn.transaction():
        await enqueue(conn, [OutboxMessage("t", None, b"v", headers)])
    raw = await pool.fetchval("SELECT headers::text FROM outbox")
    assert decode_headers(raw) == headers


@pytest.mark.integration
async def test_enqueue_writes_rows_in_order(pool: asyncpg.Pool) -> None:
    messages = [
        OutboxMessage("t.sales", b"cust-1", b'{"n":1}', [("ce_id", b"1"), ("raw", b"\xfe")]),
        OutboxMessage("t.sales", None, b'{"n":2}'),
        OutboxMessage("t.leads", b"cust-1", b'{"n":3}', [("ce_id", b"3")]),
    ]
    async with pool.acquire() as conn, conn.transaction():
        await enqueue(conn, messages)
        await enqueue(conn, [])
    rows = await pool.fetch(
        "SELECT id, topic, key, value, headers::text AS headers, attempts, last_error"
        " FROM outbox ORDER BY id"
    )
    assert [(r["topic"], r["key"], r["value"]) for r in rows] == [
        (m.topic, m.key, m.value) for m in messages
    ]
    assert [decode_headers(r["headers"]) for r in rows] == [m.headers for m in messages]
    assert all(r["attempts"] == 0 and r["last_error"] is None for r in rows)
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)


@pytest.mark.integration
async def test_rolled_back_transaction_leaves_no_row_and_no_notification(
    pool: asyncpg.Pool, pg_dsn: str, pg_schema: str
) -> None:
    async with notifications(pg_dsn, pg_schema) as received:

        async def enqueue_then_fail() -> None:
            async with pool.acquire() as conn, conn.transaction():
                await enqueue(conn, [OutboxMessage("t.sales", b"k", b"v")])
                # the row is visible inside the transaction ...
                assert await conn.fetchval("SELECT count(*) FROM outbox") == 1
                raise RuntimeError("business rule failed")

        with pytest.raises(RuntimeError, match="business rule failed"):
            await enqueue_then_fail()
        await asyncio.sleep(0.3)
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
        assert received.empty(), "NOTIFY must not be delivered for a rolled-back transaction"

        async with pool.acquire() as conn, conn.transaction():
            await enqueue(conn, [OutboxMessage("t.sales", b"k", b"v")])
            await enqueue(conn, [OutboxMessage("t.sales", b"k", b"w")])
            await asyncio.sleep(0.2)
            assert received.empty(), "NOTIFY is only delivered at commit"
        channel, _ = await asyncio.wait_for(received.get(), 5)
        assert channel == f"{pg_schema}_outbox"
        await asyncio.sleep(0.2)
        assert received.empty(), "notifications of one transaction fold into one"


@pytest.mark.integration
async def test_the_notification_names_the_first_id_of_its_transaction(
    pool: asyncpg.Pool, pg_dsn: str, pg_schema: str
) -> None:
    async with notifications(pg_dsn, pg_schema) as received:
        for _ in range(2):  # the setting does not outlive its transaction
            async with pool.acquire() as conn, conn.transaction():
                await enqueue(conn, [OutboxMessage("t.sales", b"k", b"v")] * 2)
                await enqueue(conn, [OutboxMessage("t.sales", b"k", b"w")])
            first = await pool.fetchval("SELECT min(id) FROM outbox")
            _, payload = await asyncio.wait_for(received.get(), 5)
            assert payload == str(first)
            await asyncio.sleep(0.2)
            assert received.empty(), "one notification per transaction"
            await pool.execute("DELETE FROM outbox")
