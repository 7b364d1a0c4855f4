"""SQL of the pre-delivery inspections (one per contract). Every statement is scoped by
dealer_id (see :mod:`repository` for the conventions; it reads the PDI into the contract
file, so this module does not import it)."""

from __future__ import annotations

import json
import uuid

from dealerflow.runtime.db import DbConnection
from dealerflow.sales.domain_pdi import PdiItem, PdiRecord


async def put_pdi(conn: DbConnection, pdi: PdiRecord) -> None:
    """Record the contract's PDI, replacing an earlier one."""
    await conn.execute(
        "INSERT INTO pdi_inspections"
        " (dealer_id, contract_id, inspector_id, inspected_at, items, recorded_at)"
        " VALUES ($1, $2, $3, $4, $5::jsonb, $6)"
        " ON CONFLICT (dealer_id, contract_id) DO UPDATE SET"
        " inspector_id = EXCLUDED.inspector_id, inspected_at = EXCLUDED.inspected_at,"
        " items = EXCLUDED.items, recorded_at = EXCLUDED.recorded_at",
        pdi.dealer_id,
        uuid.UUID(pdi.contract_id),
        pdi.inspector_id,
        pdi.inspected_at,
        json.dumps([{"item": i.item, "passed": i.passed, "note": i.note} for i in pdi.items]),
        pdi.recorded_at,
    )


async def get_pdi(conn: DbConnection, dealer_id: str, contract_id: uuid.UUID) -> PdiRecord | None:
    row = await conn.fetchrow(
        "SELECT inspector_id, inspected_at, items::text AS items, recorded_at"
        " FROM pdi_inspections WHERE dealer_id = $1 AND contract_id = $2",
        dealer_id,
        contract_id,
    )
    if row is None:
        return None
    return PdiRecord(
        dealer_id=dealer_id,
        contract_id=str(contract_id),
        inspector_id=row["inspector_id"],
        inspected_at=row["inspected_at"],
        items=tuple(PdiItem(**i) for i in json.loads(row["items"])),
        recorded_at=row["recorded_at"],
    )
