"""PostgreSQL connection pools (asyncpg), one schema per service.

A pool's connections resolve unqualified table names in the service's schema first
(``search_path = <schema>, public``), so repositories and the runtime's own tables
(outbox, inbox, timers) never spell the schema out.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

__all__ = ["DbConnection", "create_pool", "quote_ident", "transaction", "validate_schema_name"]

#: What runtime functions accept as a connection: a plain one or one acquired from a pool.
DbConnection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def validate_schema_name(schema: str) -> str:
    """Return ``schema`` if it is a plain lower-case identifier, else raise ValueError.

    Schema names end up in ``search_path``, LISTEN channel names and advisory-lock keys;
    restricting them avoids quoting surprises in all three.
    """
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid schema name {schema!r}: use lower-case letters, digits and '_'")
    return schema


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (double quotes, embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


async def create_pool(
    dsn: str,
    schema: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    **kwargs: Any,
) -> asyncpg.Pool:
    """Create an asyncpg pool whose connections use ``search_path = <schema>, public``.

    Extra keyword arguments go to :func:`asyncpg.create_pool` (``server_settings`` is
    merged with the search path). The pool connects when this is awaited, never earlier.
    """
    validate_schema_name(schema)
    server_settings = dict(kwargs.pop("server_settings", None) or {})
    server_settings["search_path"] = f"{quote_ident(schema)}, public"
    server_settings.setdefault("timezone", "UTC")
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        server_settings=server_settings,
        **kwargs,
    )
    if pool is None:  # pragma: no cover - asyncpg returns None only when not awaited
        raise RuntimeError("asyncpg.create_pool returned None")
    return pool


@asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[DbConnection]:
    """Acquire a connection and open a transaction on it.

    Commits when the block exits normally, rolls back when it raises. Outbox rows
    (:func:`dealerflow.runtime.outbox.enqueue`) and timers
    (:func:`dealerflow.runtime.timers.schedule`) written with the yielded connection
    commit or vanish together with the caller's own changes.
    """
    async with pool.acquire() as conn, conn.transaction():
        yield conn
