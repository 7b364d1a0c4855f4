"""All SQL of the dealers service: stores, dealer groups and their history.

A change locks what it changes: the store row (``FOR UPDATE``) and the group it inherits
from (``FOR SHARE``), or the group row (``FOR UPDATE``) and then its stores. Rows are
created on first use, so a lock always has a row to hold.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import asyncpg

from dealerflow.dealers.domain import Owner
from dealerflow.dealers.records import DealerRecord, GroupRecord, HistoryEntry
from dealerflow.runtime.db import DbConnection

_DEALER_COLUMNS = (
    "dealer_id, group_id, overrides::text AS overrides, configuration_version,"
    " configuration::text AS configuration, published, imported::text AS imported"
)
_GROUP_COLUMNS = (
    "group_id, overrides::text AS overrides, configuration_version,"
    " configuration::text AS configuration"
)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _loads(raw: str | None) -> Any:
    return json.loads(raw) if raw is not None else None


def _dealer(row: asyncpg.Record) -> DealerRecord:
    return DealerRecord(
        dealer_id=row["dealer_id"],
        group_id=row["group_id"],
        overrides=_loads(row["overrides"]),
        configuration_version=row["configuration_version"],
        configuration=_loads(row["configuration"]),
        published=row["published"],
        imported=_loads(row["imported"]),
    )


def _group(row: asyncpg.Record) -> GroupRecord:
    return GroupRecord(
        group_id=row["group_id"],
        overrides=_loads(row["overrides"]),
        configuration_version=row["configuration_version"],
        configuration=_loads(row["configuration"]),
    )


# -- stores ------------------------------------------------------------------------------


async def dealer(conn: DbConnection, dealer_id: str) -> DealerRecord | None:
    """The store, if it was ever configured."""
    row = await conn.fetchrow(
        f"SELECT {_DEALER_COLUMNS} FROM dealers WHERE dealer_id = $1", dealer_id
    )
    return _dealer(row) if row is not None else None


async def lock_dealer(conn: DbConnection, dealer_id: str) -> DealerRecord:
    """The store locked for a change in this transaction (created, version 0, if new)."""
    await conn.execute(
        "INSERT INTO dealers (dealer_id) VALUES ($1) ON CONFLICT (dealer_id) DO NOTHING",
        dealer_id,
    )
    row = await conn.fetchrow(
        f"SELECT {_DEALER_COLUMNS} FROM dealers WHERE dealer_id = $1 FOR UPDATE", dealer_id
    )
    assert row is not None  # inserted above or already there; stores are never deleted
    return _dealer(row)


async def save_dealer(conn: DbConnection, record: DealerRecord) -> None:
    """Store the store's overrides, group, version and published configuration."""
    await conn.execute(
        """
        UPDATE dealers SET group_id = $2, overrides = $3::jsonb, configuration_version = $4,
            configuration = $5::jsonb, published = $6, updated_at = now()
        WHERE dealer_id = $1
        """,
        record.dealer_id,
        record.group_id,
        _dumps(record.overrides),
        record.configuration_version,
        _dumps(record.configuration) if record.configuration is not None else None,
        record.published,
    )


async def list_dealers(
    conn: DbConnection,
    *,
    group_id: str | None,
    dealer_ids: Sequence[str] | None,
    dealer_group: str | None,
    after: str | None,
    limit: int,
) -> list[DealerRecord]:
    """Stores by dealer id (of one group when ``group_id``), after ``after``; only those
    in ``dealer_ids`` or of ``dealer_group`` unless ``dealer_ids`` is None (every store)."""
    rows = await conn.fetch(
        f"""
        SELECT {_DEALER_COLUMNS} FROM dealers
        WHERE ($1::text IS NULL OR group_id = $1) AND ($2::text IS NULL OR dealer_id > $2)
          AND ($4::text[] IS NULL OR dealer_id = ANY($4::text[]) OR group_id = $5::text)
        ORDER BY dealer_id LIMIT $3
        """,
        group_id,
        after,
        limit,
        dealer_ids,
        dealer_group,
    )
    return [_dealer(r) for r in rows]


async def lock_group_stores(conn: DbConnection, group_id: str) -> list[DealerRecord]:
    """Every store of the group, locked for a change (in dealer id order)."""
    rows = await conn.fetch(
        f"SELECT {_DEALER_COLUMNS} FROM dealers WHERE group_id = $1 ORDER BY dealer_id FOR UPDATE",
        group_id,
    )
    return [_dealer(r) for r in rows]


async def lock_unpublished(conn: DbConnection) -> list[DealerRecord]:
    """Stores whose overrides changed without a DealerConfigured (imported), locked."""
    rows = await conn.fetch(
        f"SELECT {_DEALER_COLUMNS} FROM dealers WHERE NOT published ORDER BY dealer_id"
        " FOR UPDATE SKIP LOCKED"
    )
    return [_dealer(r) for r in rows]


# -- groups ------------------------------------------------------------------------------


async def group(conn: DbConnection, group_id: str) -> GroupRecord | None:
    """The dealer group, if it was ever named."""
    row = await conn.fetchrow(
        f"SELECT {_GROUP_COLUMNS} FROM dealer_groups WHERE group_id = $1", group_id
    )
    return _group(row) if row is not None else None


async def _lock_group(conn: DbConnection, group_id: str, mode: str) -> GroupRecord:
    await conn.execute(
        "INSERT INTO dealer_groups (group_id) VALUES ($1) ON CONFLICT (group_id) DO NOTHING",
        group_id,
    )
    row = await conn.fetchrow(
        f"SELECT {_GROUP_COLUMNS} FROM dealer_groups WHERE group_id = $1 FOR {mode}", group_id
    )
    assert row is not None  # inserted above or already there
    return _group(row)


async def lock_group(conn: DbConnection, group_id: str) -> GroupRecord:
    """The group locked for a change of its own (created, version 0, if new)."""
    return await _lock_group(conn, group_id, "UPDATE")


async def share_group(conn: DbConnection, group_id: str) -> GroupRecord:
    """The group a store's change inherits from, held until the change commits (a group
    change meanwhile waits, then sees the store)."""
    return await _lock_group(conn, group_id, "SHARE")


async def save_group(conn: DbConnection, record: GroupRecord) -> None:
    """Store the group's overrides, version and configuration."""
    await conn.execute(
        """
        UPDATE dealer_groups SET overrides = $2::jsonb, configuration_version = $3,
            configuration = $4::jsonb, updated_at = now()
        WHERE group_id = $1
        """,
        record.group_id,
        _dumps(record.overrides),
        record.configuration_version,
        _dumps(record.configuration) if record.configuration is not None else None,
    )


# -- history -----------------------------------------------------------------------------


async def add_history(conn: DbConnection, entry: HistoryEntry) -> None:
    """Record one version of a store or a group."""
    await conn.execute(
        """
        INSERT INTO configuration_history (owner_kind, owner_id, version, changed_at,
            changed_by, sections, change, configuration)
        VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb)
        """,
        entry.owner_kind,
        entry.owner_id,
        entry.version,
        entry.changed_at,
        entry.changed_by,
        _dumps(entry.sections),
        _dumps(entry.change),
        _dumps(entry.configuration),
    )


async def history(
    conn: DbConnection, owner_kind: Owner, owner_id: str, *, before: int | None, limit: int
) -> Sequence[HistoryEntry]:
    """Versions of a store or a group, newest first, older than ``before``."""
    rows = await conn.fetch(
        """
        SELECT owner_kind, owner_id, version, changed_at, changed_by, sections::text AS sections,
            change::text AS change, configuration::text AS configuration
        FROM configuration_history
        WHERE owner_kind = $1 AND owner_id = $2 AND ($3::integer IS NULL OR version < $3)
        ORDER BY version DESC LIMIT $4
        """,
        owner_kind,
        owner_id,
        before,
        limit,
    )
    return [
        HistoryEntry(
            owner_kind=r["owner_kind"],
            owner_id=r["owner_id"],
            version=r["version"],
            changed_at=r["changed_at"],
            changed_by=r["changed_by"],
            sections=_loads(r["sections"]),
            change=_loads(r["change"]),
            configuration=_loads(r["configuration"]),
        )
        for r in rows
    ]
