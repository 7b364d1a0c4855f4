"""SQL of the test-drive fleet and of a drive's steps (start, completion, cancellation);
the booking itself is in :mod:`repository_showroom`. Every statement is scoped by dealer_id."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from dealerflow.runtime.db import DbConnection
from dealerflow.sales.records import FleetVehicleRecord

_FLEET_COLUMNS = "dealer_id, vehicle_id, model, vin, plate, in_service, created_at, updated_at"


def _vehicle(row: asyncpg.Record) -> FleetVehicleRecord:
    return FleetVehicleRecord(**dict(row))


async def upsert_fleet_vehicle(conn: DbConnection, v: FleetVehicleRecord) -> FleetVehicleRecord:
    row = await conn.fetchrow(
        f"""
        INSERT INTO test_drive_vehicles ({_FLEET_COLUMNS})
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (dealer_id, vehicle_id) DO UPDATE
        SET model = EXCLUDED.model, vin = EXCLUDED.vin, plate = EXCLUDED.plate,
            in_service = EXCLUDED.in_service, updated_at = EXCLUDED.updated_at
        RETURNING {_FLEET_COLUMNS}
        """,
        v.dealer_id,
        v.vehicle_id,
        v.model,
        v.vin,
        v.plate,
        v.in_service,
        v.created_at,
        v.updated_at,
    )
    assert row is not None
    return _vehicle(row)


async def get_fleet_vehicle(
    conn: DbConnection, dealer_id: str, vehicle_id: str
) -> FleetVehicleRecord | None:
    row = await conn.fetchrow(
        f"""
        SELECT {_FLEET_COLUMNS} FROM test_drive_vehicles
        WHERE dealer_id = $1 AND vehicle_id = $2
        """,
        dealer_id,
        vehicle_id,
    )
    return None if row is None else _vehicle(row)


async def list_fleet(
    conn: DbConnection, dealer_id: str, *, in_service: bool | None = None
) -> list[FleetVehicleRecord]:
    rows = await conn.fetch(
        f"""
        SELECT {_FLEET_COLUMNS} FROM test_drive_vehicles
        WHERE dealer_id = $1 AND ($2::boolean IS NULL OR in_service = $2)
        ORDER BY vehicle_id
        """,
        dealer_id,
        in_service,
    )
    return [_vehicle(r) for r in rows]


async def dealer_has_fleet(conn: DbConnection, dealer_id: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM test_drive_vehicles WHERE dealer_id = $1)", dealer_id
        )
    )


async def delete_fleet_vehicle(conn: DbConnection, dealer_id: str, vehicle_id: str) -> bool:
    """Take the vehicle out of the fleet (its past bookings stay)."""
    done = await conn.execute(
        "DELETE FROM test_drive_vehicles WHERE dealer_id = $1 AND vehicle_id = $2",
        dealer_id,
        vehicle_id,
    )
    return done.endswith(" 1")


async def lock_test_drive(conn: DbConnection, dealer_id: str, test_drive_id: uuid.UUID) -> bool:
    """Lock the drive's row until the transaction ends (False: no such drive)."""
    found = await conn.fetchval(
        "SELECT true FROM test_drives WHERE dealer_id = $1 AND id = $2 FOR UPDATE",
        dealer_id,
        test_drive_id,
    )
    return bool(found)


async def mark_started(
    conn: DbConnection,
    dealer_id: str,
    test_drive_id: uuid.UUID,
    *,
    at: datetime,
    licence_number: str,
    licence_expires: object,
    route: str | None,
    consent_signed_by: str,
    consent_signed_at: datetime,
    consent_version: str,
) -> None:
    await conn.execute(
        """
        UPDATE test_drives
        SET started_at = $3, licence_checked_at = $3, licence_number = $4,
            licence_expires = $5, route = COALESCE($6, route), consent_signed_by = $7,
            consent_signed_at = $8, consent_version = $9
        WHERE dealer_id = $1 AND id = $2
        """,
        dealer_id,
        test_drive_id,
        at,
        licence_number,
        licence_expires,
        route,
        consent_signed_by,
        consent_signed_at,
        consent_version,
    )


async def mark_completed(
    conn: DbConnection,
    dealer_id: str,
    test_drive_id: uuid.UUID,
    *,
    at: datetime,
    overall: int,
    vehicle: int | None,
    consultant: int | None,
    notes: str | None,
) -> None:
    await conn.execute(
        """
        UPDATE test_drives
        SET completed_at = $3, rating_overall = $4, rating_vehicle = $5,
            rating_consultant = $6, feedback_notes = $7
        WHERE dealer_id = $1 AND id = $2
        """,
        dealer_id,
        test_drive_id,
        at,
        overall,
        vehicle,
        consultant,
        notes,
    )


async def mark_cancelled(
    conn: DbConnection, dealer_id: str, test_drive_id: uuid.UUID, *, at: datetime, reason: str
) -> None:
    """The slot is free again (the exclusion constraint ignores cancelled bookings)."""
    await conn.execute(
        """
        UPDATE test_drives SET cancelled = true, cancelled_at = $3, cancel_reason = $4
        WHERE dealer_id = $1 AND id = $2
        """,
        dealer_id,
        test_drive_id,
        at,
        reason,
    )
