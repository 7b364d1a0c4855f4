"""Versioned SQL migrations, one schema per service, applied by a command.

Migrations are plain ``NNNN_name.sql`` files shipped as package resources. A service's
``migrate`` command applies ``runtime_migrations() + load_migrations("<its package>",
"<service>")`` to its schema. :func:`migrate` takes a PostgreSQL advisory lock derived from
the schema name, so replicas starting together apply each migration exactly once; every
migration runs in its own transaction together with its ``schema_migrations`` row; a
changed file that was already applied is an error (checksum mismatch). See
``docs/runtime-db.md`` for why this is not Alembic.

Migrations run as the schema's owner and act for every dealer (``dealerflow.dealers =
*`` for the whole session), so a data fix sees every row under row-level security. At
the end of every run, :func:`secure_schema` puts every table of the schema that has a
``dealer_id`` column under row-level security (``ENABLE`` and ``FORCE``, policy
``dealer_isolation``), whichever migration created it, and grants the service's
non-owner role (``app_role``) what it needs to run.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources

import asyncpg

from dealerflow.runtime.db import (
    ALL_DEALERS,
    DEALER_SCOPE_SETTING,
    quote_ident,
    validate_schema_name,
)

__all__ = [
    "Migration",
    "MigrationChecksumError",
    "MigrationError",
    "advisory_key",
    "load_migrations",
    "migrate",
    "runtime_migrations",
    "secure_schema",
]

log = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[A-Za-z0-9_]+)\.sql$")

_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    component    text        NOT NULL,
    version      integer     NOT NULL,
    name         text        NOT NULL,
    checksum     text        NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    execution_ms integer     NOT NULL,
    PRIMARY KEY (component, version)
)
"""


#: Name of the row-level security policy on every table with a ``dealer_id`` column.
DEALER_POLICY = "dealer_isolation"

# A row is visible and writable when its dealer is one the transaction acts for
# (db.act_for), or when it acts for every dealer. No setting (or "") means no dealer:
# a transaction that forgot its scope sees nothing rather than everything.
_ACTS_FOR = (
    f"(current_setting('{DEALER_SCOPE_SETTING}', true) = '{ALL_DEALERS}'"
    f" OR dealer_id = ANY (string_to_array(current_setting('{DEALER_SCOPE_SETTING}', true), ',')))"
)

# Ordinary and partitioned tables of the schema with a dealer_id column, and whether
# they are secured already (each step is skipped when done: ALTER TABLE takes an
# exclusive lock, which a running service should not wait behind on every deploy).
_DEALER_TABLES = """
SELECT c.relname AS table_name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
       EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = $2)
           AS has_policy
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'dealer_id' AND NOT a.attisdropped
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
ORDER BY c.relname
"""


class MigrationError(RuntimeError):
    """The migrations cannot be applied as given."""


class MigrationChecksumError(MigrationError):
    """An already-applied migration's SQL has changed since it was applied."""


@dataclass(frozen=True)
class Migration:
    """One SQL migration of one component ("runtime" or a service name)."""

    component: str
    version: int
    name: str
    sql: str = field(repr=False)

    @property
    def checksum(self) -> str:
        """SHA-256 of the SQL with line endings normalised (a CRLF checkout is no change)."""
        normalised = self.sql.replace("\r\n", "\n").strip()
        return hashlib.sha256(normalised.encode("utf-8")).hexdigest()

    @property
    def label(self) -> str:
        """``component:NNNN_name``, for logs and errors."""
        return f"{self.component}:{self.version:04d}_{self.name}"


def load_migrations(package: str, component: str) -> list[Migration]:
    """Read ``NNNN_name.sql`` resources of ``package`` (a dotted package name), by version.

    Other files are ignored; two files with the same version are an error.
    """
    found: dict[int, Migration] = {}
    for entry in resources.files(package).iterdir():
        match = _FILE_NAME.match(entry.name)
        if not match or not entry.is_file():
            continue
        version = int(match["version"])
        if version in found:
            raise MigrationError(f"{package}: two migrations with version {version:04d}")
        found[version] = Migration(
            component, version, match["name"], entry.read_text(encoding="utf-8")
        )
    return [found[v] for v in sorted(found)]


def runtime_migrations() -> list[Migration]:
    """The runtime's own tables (outbox, inbox, timers); every service applies these first."""
    return load_migrations("dealerflow.runtime.sql", "runtime")


def advisory_key(purpose: str, schema: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``purpose`` within ``schema``."""
    digest = hashlib.sha256(f"dealerflow:{purpose}:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _check_sequence(migrations: Sequence[Migration]) -> None:
    seen: set[tuple[str, int]] = set()
    for m in migrations:
        if (m.component, m.version) in seen:
            raise MigrationError(f"duplicate migration {m.label}")
        seen.add((m.component, m.version))


async def migrate(
    dsn: str,
    schema: str,
    migrations: Sequence[Migration],
    *,
    app_role: str | None = None,
) -> list[Migration]:
    """Create ``schema`` if needed and apply the migrations not yet applied, in order;
    then :func:`secure_schema` (row-level security, grants to ``app_role``).

    ``dsn`` connects as the schema's owner. Holds ``pg_advisory_lock`` (key from the
    schema name) for the whole run, so concurrent callers serialise and the later ones
    find nothing left to do. Returns the migrations this call applied. Raises
    :class:`MigrationChecksumError` if an applied migration's SQL changed, and
    :class:`MigrationError` if a new migration is older than one already applied for its
    component (out-of-order changes must get a new, higher number).
    """
    validate_schema_name(schema)
    _check_sequence(migrations)
    # every migration acts for every dealer: a data fix must see all rows under FORCE
    conn = await asyncpg.connect(
        dsn, server_settings={"timezone": "UTC", DEALER_SCOPE_SETTING: ALL_DEALERS}
    )
    key = advisory_key("migrate", schema)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", key)
        try:
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
            await conn.execute(f"SET search_path TO {quote_ident(schema)}, public")
            await conn.execute(_CREATE_LEDGER)
            applied = await _apply_pending(conn, schema, migrations)
            await secure_schema(conn, schema, app_role=app_role)
            return applied
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", key)
    finally:
        await conn.close()


async def _apply_pending(
    conn: asyncpg.Connection, schema: str, migrations: Sequence[Migration]
) -> list[Migration]:
    rows = await conn.fetch("SELECT component, version, checksum FROM schema_migrations")
    applied = {(r["component"], r["version"]): r["checksum"] for r in rows}
    newest: dict[str, int] = {}
    for component, version in applied:
        newest[component] = max(newest.get(component, 0), version)

    pending: list[Migration] = []
    for m in migrations:
        checksum = applied.get((m.component, m.version))
        if checksum is not None:
            if checksum != m.checksum:
                raise MigrationChecksumError(
                    f"{schema}: migration {m.label} was changed after it was applied "
                    "(add a new migration instead of editing an applied one)"
                )
            continue
        if m.version < newest.get(m.component, 0):
            raise MigrationError(
                f"{schema}: migration {m.label} is older than applied version "
                f"{newest[m.component]:04d} of {m.component!r}; renumber it"
            )
        pending.append(m)

    done: list[Migration] = []
    for m in pending:
        started = time.monotonic()
        # one transaction per migration: a failure leaves the earlier ones applied and
        # this one not recorded, so fixing the file and re-running continues from here
        async with conn.transaction():
            await conn.execute(m.sql)
            elapsed_ms = int((time.monotonic() - started) * 1000)
            await conn.execute(
                "INSERT INTO schema_migrations (component, version, name, checksum, execution_ms)"
                " VALUES ($1, $2, $3, $4, $5)",
                m.component,
                m.version,
                m.name,
                m.checksum,
                elapsed_ms,
            )
        log.info(
            "applied migration %s to schema %s in %d ms",
            m.label,
            schema,
            elapsed_ms,
            extra={"schema": schema, "migration": m.label},
        )
        done.append(m)
    return done


async def secure_schema(
    conn: asyncpg.Connection, schema: str, *, app_role: str | None = None
) -> list[str]:
    """Put every table of ``schema`` with a ``dealer_id`` column under row-level security
    and grant ``app_role`` (when given) what a running service needs; idempotent.

    Per table, each only when not done yet: ``ENABLE`` and ``FORCE ROW LEVEL SECURITY``
    (FORCE: the owner obeys the policy too) and the policy ``dealer_isolation`` for all
    commands, ``USING`` and ``WITH CHECK`` the same: the row's dealer is one the
    transaction acts for, or it acts for ``*`` (:func:`dealerflow.runtime.db.act_for`).
    ``app_role`` gets USAGE on the schema, SELECT/INSERT/UPDATE/DELETE on its tables
    (not the migration ledger), USAGE/SELECT on its sequences, and the same by default
    on what the owner creates in the schema later. Returns the tables secured now.
    ``migrate`` calls this at the end of every run, so no table can be forgotten.
    """
    secured: list[str] = []
    async with conn.transaction():
        for row in await conn.fetch(_DEALER_TABLES, schema, DEALER_POLICY):
            table = f"{quote_ident(schema)}.{quote_ident(row['table_name'])}"
            changed = False
            if not row["enabled"]:
                await conn.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
                changed = True
            if not row["forced"]:
                await conn.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
                changed = True
            if not row["has_policy"]:
                await conn.execute(
                    f"CREATE POLICY {DEALER_POLICY} ON {table} FOR ALL"
                    f" USING {_ACTS_FOR} WITH CHECK {_ACTS_FOR}"
                )
                changed = True
            if changed:
                secured.append(row["table_name"])
        if app_role:
            await _grant(conn, schema, app_role)
    if secured:
        log.info(
            "row-level security on %s.%s",
            schema,
            ", ".join(secured),
            extra={"schema": schema, "tables": secured},
        )
    return secured


async def _grant(conn: asyncpg.Connection, schema: str, role: str) -> None:
    s, r = quote_ident(schema), quote_ident(role)
    await conn.execute(f"GRANT USAGE ON SCHEMA {s} TO {r}")
    await conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}")
    await conn.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}")
    # the ledger is the owner's: a service never changes what migrations recorded
    await conn.execute(f"REVOKE INSERT, UPDATE, DELETE ON {s}.schema_migrations FROM {r}")
    await conn.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s}"
        f" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}"
    )
    await conn.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT USAGE, SELECT ON SEQUENCES TO {r}"
    )
