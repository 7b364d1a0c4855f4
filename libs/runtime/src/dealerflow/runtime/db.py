"""PostgreSQL connection pools (asyncpg), one schema per service, and dealer scope.

A pool's connections resolve unqualified table names in the service's schema first
(``search_path = <schema>, public``), so repositories and the runtime's own tables
(outbox, inbox, timers) never spell the schema out.

Every table with a ``dealer_id`` column is under row-level security (applied by
:func:`dealerflow.runtime.migrations.migrate`): a transaction sees and writes only the
rows of the dealers it acts for, set with :func:`act_for` (the transaction-local setting
``dealerflow.dealers``: a comma list of dealer ids, or ``*`` for every dealer). A
transaction that sets nothing sees no dealer's rows. See docs/runtime-db.md.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

__all__ = [
    "ALL_DEALERS",
    "DEALER_SCOPE_SETTING",
    "DbConnection",
    "act_for",
    "create_pool",
    "dealer_scope",
    "quote_ident",
    "transaction",
    "validate_schema_name",
]

#: What runtime functions accept as a connection: a plain one or one acquired from a pool.
DbConnection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

#: The transaction-local setting the row-level security policies read.
DEALER_SCOPE_SETTING = "dealerflow.dealers"
#: The scope of work across dealers: the outbox relay, the timer poller's claims,
#: migrations, operators and admin tooling.
ALL_DEALERS = "*"


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
async def transaction(
    pool: asyncpg.Pool, dealers: str | Iterable[str] | None = None
) -> AsyncIterator[DbConnection]:
    """Acquire a connection and open a transaction on it, acting for ``dealers`` when
    given (:func:`act_for`; otherwise the caller sets the scope).

    Commits when the block exits normally, rolls back when it raises. Outbox rows
    (:func:`dealerflow.runtime.outbox.enqueue`) and timers
    (:func:`dealerflow.runtime.timers.schedule`) written with the yielded connection
    commit or vanish together with the caller's own changes.
    """
    async with pool.acquire() as conn, conn.transaction():
        if dealers is not None:
            await act_for(conn, dealers)
        yield conn


def dealer_scope(dealers: str | Iterable[str]) -> str:
    """The value of ``dealerflow.dealers`` for ``dealers``: ``*`` when it is (or holds)
    ``*``, else the distinct dealer ids sorted and comma-separated ("" = no dealer).

    A dealer id with a comma would widen the list, so it is refused (ValueError);
    dealer ids never hold one (``DealerId``).
    """
    if isinstance(dealers, str):
        dealers = (dealers,)
    ids = set(dealers)
    if ALL_DEALERS in ids:
        return ALL_DEALERS
    for dealer_id in ids:
        if "," in dealer_id or not dealer_id.strip():
            raise ValueError(f"invalid dealer id {dealer_id!r} for a dealer scope")
    return ",".join(sorted(ids))


async def act_for(conn: DbConnection, dealers: str | Iterable[str]) -> str:
    """Make the current transaction act for ``dealers`` (ids, or :data:`ALL_DEALERS`);
    returns the scope set.

    Row-level security then shows and accepts only those dealers' rows in every table
    with a ``dealer_id`` column. The setting is transaction-local (``set_config(...,
    true)``): it ends with the transaction, and inside a savepoint that is rolled back
    it reverts. It may be called again to change the scope. An empty ``dealers`` acts
    for nobody. Raises RuntimeError outside a transaction (the scope would not hold).
    """
    if not conn.is_in_transaction():
        raise RuntimeError("act_for needs a transaction: the dealer scope is transaction-local")
    scope = dealer_scope(dealers)
    await conn.execute("SELECT set_config($1, $2, true)", DEALER_SCOPE_SETTING, scope)
    return scope
