"""SQL of the maintenance calendar: the owners' vehicles registered at delivery."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.runtime.db import DbConnection


@dataclass(frozen=True)
class OwnedVehicleRecord:
    dealer_id: str
    vin: str
    customer_id: uuid.UUID
    model: str
    delivered_at: datetime
    odometer_km: int
    contact: ContactSnapshot
    first_due_on: date
    first_due_km: int
    registered_at: datetime


_COLUMNS = (
    "dealer_id, vin, customer_id, model, delivered_at, odometer_km, contact, first_due_on,"
    " first_due_km, registered_at"
)


async def save_owned_vehicle(conn: DbConnection, v: OwnedVehicleRecord) -> None:
    """Register the vehicle (a later delivery of the same VIN, a resale, replaces it)."""
    await conn.execute(
        f"INSERT INTO owned_vehicles ({_COLUMNS})"
        " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)"
        " ON CONFLICT (dealer_id, vin) DO UPDATE SET customer_id = EXCLUDED.customer_id,"
        " model = EXCLUDED.model, delivered_at = EXCLUDED.delivered_at,"
        " odometer_km = EXCLUDED.odometer_km, contact = EXCLUDED.contact,"
        " first_due_on = EXCLUDED.first_due_on, first_due_km = EXCLUDED.first_due_km,"
        " registered_at = EXCLUDED.registered_at",
        v.dealer_id,
        v.vin,
        v.customer_id,
        v.model,
        v.delivered_at,
        v.odometer_km,
        v.contact.model_dump_json(),
        v.first_due_on,
        v.first_due_km,
        v.registered_at,
    )


async def get_owned_vehicle(
    conn: DbConnection, dealer_id: str, vin: str
) -> OwnedVehicleRecord | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS}, contact::text AS contact_json FROM owned_vehicles"
        " WHERE dealer_id = $1 AND vin = $2",
        dealer_id,
        vin,
    )
    if row is None:
        return None
    fields = {k: row[k] for k in _COLUMNS.replace(" ", "").split(",") if k != "contact"}
    return OwnedVehicleRecord(
        **fields, contact=ContactSnapshot.model_validate_json(row["contact_json"])
    )


async def erase_owned_vehicle_contacts(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID, erased: ContactSnapshot
) -> int:
    """Replace the customer's contact on their vehicles with ``erased`` (each row keeps
    its message locale); rows changed."""
    status = await conn.execute(
        "UPDATE owned_vehicles"
        " SET contact = $3::jsonb || jsonb_build_object('locale', contact->'locale')"
        " WHERE dealer_id = $1 AND customer_id = $2"
        " AND contact <> $3::jsonb || jsonb_build_object('locale', contact->'locale')",
        dealer_id,
        customer_id,
        erased.model_dump_json(),
    )
    return int(status.split()[-1])
