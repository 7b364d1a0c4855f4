"""PostgreSQL connection pools (asyncpg), one schema per service, and dealer scope.

A pool's connections resolve unqualified table names in the service's schema first
(``search_path = <schema>, public``), so repositories and the runtime's own tables
(outbox, inbox, timers) never spell the schema out.

Every table with a ``dealer_id`` column is under row-level security (applied by
:func:`dealerflow.runtime.migrations.migrate`): a transaction sees and writes only the
rows of the dealers it acts for, set with :func:`act_for` (the transaction-local setting
``dealerflow.dealers``: a comma list of dealer ids, or ``*`` for every dealer). A
transaction that sets nothing sees no dealer's rows. See docs/runtime-db.md.

A database that hangs (accepts, never answers) must not hang the service with it:
:func:`create_pool` bounds connecting (``connect_timeout_s``), waiting for a pool
connection (``acquire_timeout_s``, the default of every ``pool.acquire()``, which also
bounds handing the connection back) and every statement (``command_timeout_s``). The
``TimeoutError`` each raises comes from inside asyncpg, so the HTTP app answers it 503 +
``Retry-After`` (:mod:`dealerflow.runtime.outages`) and the relay, the timer poller and
the consumers back off and probe as after a refused connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

__all__ = [
    "ALL_DEALERS",
    "DEALER_SCOPE_SETTING",
    "DEFAULT_ACQUIRE_TIMEOUT_S",
    "DEFAULT_CLOSE_TIMEOUT_S",
    "DEFAULT_COMMAND_TIMEOUT_S",
    "DEFAULT_CONNECT_TIMEOUT_S",
    "TRANSIENT_ERRORS",
    "DbConnection",
    "Pool",
    "act_for",
    "bounded_transaction",
    "create_pool",
    "dealer_scope",
    "drop_if_timed_out",
    "is_closed",
    "is_infrastructure_error",
    "is_transient",
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


#: Defaults of :func:`create_pool` (and of the ``pg_*_timeout_s`` settings).
DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_ACQUIRE_TIMEOUT_S = 5.0
DEFAULT_COMMAND_TIMEOUT_S = 30.0
DEFAULT_CLOSE_TIMEOUT_S = 10.0


class Pool(asyncpg.Pool):
    """An asyncpg pool whose ``acquire()`` waits at most ``acquire_timeout_s`` unless
    the caller passes its own ``timeout`` (asyncpg's own default is to wait forever).

    The acquire timeout covers opening a connection when the pool has none free, and is
    also the budget of the release (the reset query) of the connection acquired.
    """

    acquire_timeout_s: float | None = None
    #: How long :meth:`close` waits for the connections to be handed back and closed
    #: cleanly before it terminates them (a hung database never confirms a close).
    close_timeout_s: float = DEFAULT_CLOSE_TIMEOUT_S

    def acquire(self, *, timeout: float | None = None) -> Any:
        return super().acquire(timeout=self.acquire_timeout_s if timeout is None else timeout)

    async def close(self) -> None:
        """Close gracefully within ``close_timeout_s``, else terminate the connections."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.close_timeout_s):
                await super().close()  # on the timeout's cancel asyncpg terminates
        self.terminate()  # a no-op once closed


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
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
    acquire_timeout_s: float | None = DEFAULT_ACQUIRE_TIMEOUT_S,
    command_timeout_s: float | None = DEFAULT_COMMAND_TIMEOUT_S,
    **kwargs: Any,
) -> Pool:
    """Create a :class:`Pool` whose connections use ``search_path = <schema>, public``.

    Bounded waits (seconds; None: unbounded): ``connect_timeout_s`` for each new
    connection (asyncpg's ``timeout``), ``acquire_timeout_s`` for ``pool.acquire()``,
    ``command_timeout_s`` for each statement (asyncpg's ``command_timeout``; a statement
    passed its own ``timeout=`` uses that). Extra keyword arguments go to
    :class:`asyncpg.Pool` (``server_settings`` is merged with the search path). The pool
    connects when this is awaited, never earlier.
    """
    validate_schema_name(schema)
    server_settings = dict(kwargs.pop("server_settings", None) or {})
    server_settings["search_path"] = f"{quote_ident(schema)}, public"
    server_settings.setdefault("timezone", "UTC")
    kwargs.setdefault("max_queries", 50_000)
    kwargs.setdefault("max_inactive_connection_lifetime", 300.0)
    kwargs.setdefault("connection_class", asyncpg.Connection)
    kwargs.setdefault("record_class", asyncpg.Record)
    pool = Pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        loop=None,
        server_settings=server_settings,
        timeout=connect_timeout_s,
        command_timeout=command_timeout_s,
        **kwargs,
    )
    pool.acquire_timeout_s = acquire_timeout_s
    await pool
    return pool


#: Errors after which the whole transaction is worth running again unchanged.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
)


def is_transient(exc: BaseException) -> bool:
    """True for a deadlock or serialization failure (retry the transaction)."""
    return isinstance(exc, TRANSIENT_ERRORS)


def is_infrastructure_error(exc: BaseException, conn: DbConnection) -> bool:
    """Errors that say the database (not the event or the timer) is the problem: never
    dead-letter or fail the work for it, and never redo it piece by piece on the same
    connection (each piece would wait out the same timeout); roll back and retry later.

    A deadlock or serialization failure is one too: the batch is rolled back and
    redelivered (the consumer's transaction retry), never dead-lettered. A statement
    timeout (the database hangs) is a ``TimeoutError``, an ``OSError``."""
    return (
        is_closed(conn)
        or is_transient(exc)
        or isinstance(
            exc,
            asyncpg.PostgresConnectionError
            | asyncpg.InterfaceError
            | asyncpg.exceptions.OperatorInterventionError
            | OSError,
        )
    )


@asynccontextmanager
async def transaction(
    pool: asyncpg.Pool, dealers: str | Iterable[str] | None = None
) -> AsyncIterator[DbConnection]:
    """Acquire a connection and open a transaction on it, acting for ``dealers`` when
    given (:func:`act_for`; otherwise the caller sets the scope).

    Commits when the block exits normally, rolls back when it raises (a statement that
    timed out, the database hanging: by closing the connection, as a ROLLBACK would hang
    as long again). Outbox rows
    (:func:`dealerflow.runtime.outbox.enqueue`) and timers
    (:func:`dealerflow.runtime.timers.schedule`) written with the yielded connection
    commit or vanish together with the caller's own changes.
    """
    async with pool.acquire() as conn, bounded_transaction(conn):
        if dealers is not None:
            await act_for(conn, dealers)
        yield conn


@asynccontextmanager
async def bounded_transaction(conn: DbConnection) -> AsyncIterator[DbConnection]:
    """``conn.transaction()`` (a transaction, or a savepoint inside one) that costs one
    statement timeout, not three, when the database hangs: a statement of the block, the
    BEGIN or the COMMIT that timed out closes the connection (:func:`drop_if_timed_out`)
    before the ROLLBACK and the release would each wait as long again, and the
    ``TimeoutError`` is what the caller sees (not asyncpg's complaint that the
    transaction's connection is closed). The timer poller and the consumers open their
    transactions and batch savepoints with it, as :func:`transaction` does."""
    dropped: TimeoutError | None = None
    try:
        async with conn.transaction():
            try:
                yield conn
            except TimeoutError as exc:
                if drop_if_timed_out(conn, exc):  # before the ROLLBACK
                    dropped = exc
                raise
    except TimeoutError as exc:
        drop_if_timed_out(conn, exc)  # BEGIN or COMMIT: before the release
        raise
    except asyncpg.InterfaceError:
        if dropped is not None:
            raise dropped from None  # the closed connection rolled it back
        raise


def drop_if_timed_out(conn: DbConnection, exc: TimeoutError) -> bool:
    """Close ``conn`` when a statement on it timed out (the server hangs): the ROLLBACK
    and the release would each wait as long again for the server to acknowledge the
    cancel; a closed connection rolls its transaction back all the same. True when this
    call or an earlier one closed it (a pool's connection is then released: asyncpg
    refuses every call on it, :func:`is_closed` answers)."""
    from dealerflow.runtime.outages import unavailable_dependency  # imports asyncpg's errors

    if is_closed(conn):
        return True
    if unavailable_dependency(exc) == "postgres":
        conn.terminate()
        return True
    return False


def is_closed(conn: DbConnection) -> bool:
    """True when ``conn`` is closed, or was a pool's connection that was terminated (and
    so handed back: asyncpg raises on any call of its proxy)."""
    try:
        return conn.is_closed()
    except asyncpg.InterfaceError:
        return True


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
