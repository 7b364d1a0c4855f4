"""SQL of the retention scan: the dealer's vehicles with their visits, and the level
published per VIN."""

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


async def vehicles_for_scan(conn: DbConnection, dealer_id: str) -> list[VehicleForScan]:
    """Every vehicle of the dealer: its repair orders' opening times and the last one's
    advisor, customer and contact; else (or if delivered after it) the delivery's."""
    ros = await conn.fetch(
        "SELECT vin, opened_at, customer_id, advisor_id, contact::text AS contact_json"
        " FROM repair_orders WHERE dealer_id = $1 ORDER BY vin, opened_at",
        dealer_id,
    )
    owned = await conn.fetch(
        "SELECT vin, delivered_at, customer_id, contact::text AS contact_json"
        " FROM owned_vehicles WHERE dealer_id = $1",
        dealer_id,
    )
    by_vin: dict[str, list[asyncpg.Record]] = {}
    for row in ros:
        by_vin.setdefault(row["vin"], []).append(row)
    deliveries = {row["vin"]: row for row in owned}
    vehicles = []
    for vin in sorted(set(by_vin) | set(deliveries)):
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


async def published_levels(conn: DbConnection, dealer_id: str) -> dict[str, PublishedLevel]:
    rows = await conn.fetch(
        "SELECT vin, level, last_visit_at FROM retention_levels WHERE dealer_id = $1", dealer_id
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
