"""SQL of the retention scan: the dealer's vehicles with their visits in keyset batches
by VIN, the level published per VIN, and the dealers with vehicles here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.runtime.db import DbConnection


@dataclass(frozen=True)
class VehicleForScan:
    """A vehicle known here (repair orders and/or a delivery), with what CustomerAtRisk
    needs: its visits (repair orders opened, oldest first) and who to call."""

    vin: str
    visits: tuple[datetime, ...]
    delivered_at: datetime | None
    customer_id: uuid.UUID
    advisor_id: str | None
    contact: ContactSnapshot


@dataclass(frozen=True)
class PublishedLevel:
    level: str
    last_visit_at: datetime


async def known_dealers(conn: DbConnection) -> list[str]:
    """The dealers with a vehicle here (repair orders or deliveries), by id (act for
    ``*`` to see them all)."""
    rows = await conn.fetch(
        "SELECT dealer_id FROM repair_orders UNION SELECT dealer_id FROM owned_vehicles"
        " ORDER BY dealer_id"
    )
    return [row["dealer_id"] for row in rows]


# The next VINs of the dealer after $2 (keyset): each side limited, then merged.
_NEXT_VINS = """
SELECT vin FROM (
    (SELECT DISTINCT vin FROM repair_orders
     WHERE dealer_id = $1 AND ($2::text IS NULL OR vin > $2) ORDER BY vin LIMIT $3)
    UNION
    (SELECT vin FROM owned_vehicles
     WHERE dealer_id = $1 AND ($2::text IS NULL OR vin > $2) ORDER BY vin LIMIT $3)
) AS next_vins
ORDER BY vin
LIMIT $3
"""


async def vehicles_for_scan(
    conn: DbConnection, dealer_id: str, *, after: str | None, limit: int
) -> list[VehicleForScan]:
    """The next ``limit`` vehicles of the dealer by VIN after ``after`` (keyset; None:
    from the first): each with its repair orders' opening times and the last one's
    advisor, customer and contact; else (or if delivered after it) the delivery's."""
    vins = [row["vin"] for row in await conn.fetch(_NEXT_VINS, dealer_id, after, limit)]
    if not vins:
        return []
    ros = await conn.fetch(
        "SELECT vin, opened_at, customer_id, advisor_id, contact::text AS contact_json"
        " FROM repair_orders WHERE dealer_id = $1 AND vin = ANY($2::text[])"
        " ORDER BY vin, opened_at",
        dealer_id,
        vins,
    )
    owned = await conn.fetch(
        "SELECT vin, delivered_at, customer_id, contact::text AS contact_json"
        " FROM owned_vehicles WHERE dealer_id = $1 AND vin = ANY($2::text[])",
        dealer_id,
        vins,
    )
    by_vin: dict[str, list[asyncpg.Record]] = {}
    for row in ros:
        by_vin.setdefault(row["vin"], []).append(row)
    deliveries = {row["vin"]: row for row in owned}
    vehicles = []
    for vin in vins:
        orders = by_vin.get(vin, [])
        delivery = deliveries.get(vin)
        last = orders[-1] if orders else None
        if last is None or (delivery is not None and delivery["delivered_at"] > last["opened_at"]):
            source, advisor = delivery, None
        else:
            source, advisor = last, last["advisor_id"]
        assert source is not None
        vehicles.append(
            VehicleForScan(
                vin=vin,
                visits=tuple(o["opened_at"] for o in orders),
                delivered_at=delivery["delivered_at"] if delivery is not None else None,
                customer_id=source["customer_id"],
                advisor_id=advisor,
                contact=ContactSnapshot.model_validate_json(source["contact_json"]),
            )
        )
    return vehicles


async def published_levels(
    conn: DbConnection, dealer_id: str, vins: list[str]
) -> dict[str, PublishedLevel]:
    """The level published before for each of ``vins`` that has one."""
    rows = await conn.fetch(
        "SELECT vin, level, last_visit_at FROM retention_levels"
        " WHERE dealer_id = $1 AND vin = ANY($2::text[])",
        dealer_id,
        vins,
    )
    return {r["vin"]: PublishedLevel(r["level"], r["last_visit_at"]) for r in rows}


async def save_published_level(
    conn: DbConnection,
    dealer_id: str,
    vin: str,
    level: str,
    last_visit_at: datetime,
    published_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO retention_levels (dealer_id, vin, level, last_visit_at, published_at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (dealer_id, vin) DO UPDATE SET"
        " level = EXCLUDED.level, last_visit_at = EXCLUDED.last_visit_at,"
        " published_at = EXCLUDED.published_at",
        dealer_id,
        vin,
        level,
        last_visit_at,
        published_at,
    )
