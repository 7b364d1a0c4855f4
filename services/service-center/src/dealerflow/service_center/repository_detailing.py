"""SQL of detailing authorisations (``usecases_detailing``), scoped by dealer_id."""

from __future__ import annotations

import uuid
from dataclasses import astuple, fields

from dealerflow.runtime.db import DbConnection
from dealerflow.service_center.records import DetailingRecord

_COLUMNS = tuple(f.name for f in fields(DetailingRecord))
_UPSERT = (
    f"INSERT INTO detailing_authorisations ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join(f'${i}' for i in range(1, len(_COLUMNS) + 1))}) "
    "ON CONFLICT (dealer_id, repair_order_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS[2:])
)


async def save_detailing(conn: DbConnection, record: DetailingRecord) -> None:
    """Record (or replace) what the customer was shown and authorised for the order."""
    values = list(astuple(record))
    values[_COLUMNS.index("affects")] = list(record.affects)
    await conn.execute(_UPSERT, *values)


async def detailing_of(
    conn: DbConnection, dealer_id: str, repair_order_id: uuid.UUID
) -> DetailingRecord | None:
    row = await conn.fetchrow(
        f"SELECT {', '.join(_COLUMNS)} FROM detailing_authorisations "
        "WHERE dealer_id = $1 AND repair_order_id = $2",
        dealer_id,
        repair_order_id,
    )
    if row is None:
        return None
    data = dict(row)
    data["affects"] = tuple(data["affects"])
    return DetailingRecord(**data)
