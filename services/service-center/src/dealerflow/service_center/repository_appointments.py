"""SQL of service appointments and the slots' load (``usecases_appointments``), scoped by
dealer_id. Overbooking is refused here, by the database: :func:`take_slot` increments a
slot's load only while it is below capacity (the upsert locks the row, so concurrent
bookings of one slot are decided one after another)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import CancelledBy, IntakeChannel, ServiceWorkType
from dealerflow.runtime.db import DbConnection
from dealerflow.service_center.domain_appointments import AppointmentRecord, AppointmentStatus

_COLUMNS = (
    "dealer_id, id, customer_id, vin, work_type, intake_channel, slot_start, slot_end, slots, "
    "advisor_id, pickup_requested, dropoff_requested, concerns::text AS concerns, "
    "contact::text AS contact, status, booked_at, updated_at, cancelled_by, cancel_reason, "
    "repair_order_id"
)


def _appointment(row: Any) -> AppointmentRecord:
    data = dict(row)
    data["work_type"] = ServiceWorkType(data["work_type"])
    data["intake_channel"] = IntakeChannel(data["intake_channel"])
    data["slots"] = tuple(data["slots"])
    data["concerns"] = tuple(json.loads(data["concerns"]))
    data["contact"] = ContactSnapshot.model_validate_json(data["contact"])
    data["status"] = AppointmentStatus(data["status"])
    data["cancelled_by"] = CancelledBy(data["cancelled_by"]) if data["cancelled_by"] else None
    return AppointmentRecord(**data)


async def take_slot(
    conn: DbConnection, dealer_id: str, slot_start: datetime, capacity: int
) -> bool:
    """One more job in the slot if it has room (its capacity now ``capacity``); False when
    it is full. Holds the slot's row lock until the transaction ends."""
    if capacity < 1:
        return False
    taken = await conn.fetchval(
        """
        INSERT INTO service_slot_load AS l (dealer_id, slot_start, booked, capacity)
        VALUES ($1, $2, 1, $3)
        ON CONFLICT (dealer_id, slot_start) DO UPDATE
            SET booked = l.booked + 1, capacity = EXCLUDED.capacity
            WHERE l.booked < EXCLUDED.capacity
        RETURNING booked
        """,
        dealer_id,
        slot_start,
        capacity,
    )
    return taken is not None


async def release_slots(conn: DbConnection, dealer_id: str, slots: Sequence[datetime]) -> None:
    """One job fewer in each of ``slots`` (a cancelled or moved booking)."""
    await conn.execute(
        "UPDATE service_slot_load SET booked = booked - 1 "
        "WHERE dealer_id = $1 AND slot_start = ANY($2::timestamptz[]) AND booked > 0",
        dealer_id,
        list(slots),
    )


async def slot_load(
    conn: DbConnection, dealer_id: str, start: datetime, end: datetime
) -> dict[datetime, int]:
    """Jobs booked per slot start in [start, end)."""
    rows = await conn.fetch(
        "SELECT slot_start, booked FROM service_slot_load "
        "WHERE dealer_id = $1 AND slot_start >= $2 AND slot_start < $3",
        dealer_id,
        start,
        end,
    )
    return {row["slot_start"]: row["booked"] for row in rows}


async def insert_appointment(conn: DbConnection, a: AppointmentRecord) -> bool:
    """Store a new appointment; False when its id is taken."""
    status = await conn.execute(
        """
        INSERT INTO service_appointments (dealer_id, id, customer_id, vin, work_type,
            intake_channel, slot_start, slot_end, slots, advisor_id, pickup_requested,
            dropoff_requested, concerns, contact, status, booked_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14::jsonb,
            $15, $16, $17)
        ON CONFLICT (dealer_id, id) DO NOTHING
        """,
        a.dealer_id,
        a.id,
        a.customer_id,
        a.vin,
        a.work_type.value,
        a.intake_channel.value,
        a.slot_start,
        a.slot_end,
        list(a.slots),
        a.advisor_id,
        a.pickup_requested,
        a.dropoff_requested,
        json.dumps(list(a.concerns)),
        a.contact.model_dump_json(),
        a.status.value,
        a.booked_at,
        a.updated_at,
    )
    return str(status).endswith(" 1")


async def save_appointment(conn: DbConnection, a: AppointmentRecord) -> None:
    """Write back what a reschedule, cancellation, check-in or erasure changes."""
    await conn.execute(
        """
        UPDATE service_appointments
        SET slot_start = $3, slot_end = $4, slots = $5, status = $6, updated_at = $7,
            cancelled_by = $8, cancel_reason = $9, repair_order_id = $10,
            concerns = $11::jsonb, contact = $12::jsonb
        WHERE dealer_id = $1 AND id = $2
        """,
        a.dealer_id,
        a.id,
        a.slot_start,
        a.slot_end,
        list(a.slots),
        a.status.value,
        a.updated_at,
        a.cancelled_by.value if a.cancelled_by else None,
        a.cancel_reason,
        a.repair_order_id,
        json.dumps(list(a.concerns)),
        a.contact.model_dump_json(),
    )


async def get_appointment(
    conn: DbConnection, dealer_id: str, appointment_id: uuid.UUID, *, for_update: bool = False
) -> AppointmentRecord | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM service_appointments WHERE dealer_id = $1 AND id = $2"
        + (" FOR UPDATE" if for_update else ""),
        dealer_id,
        appointment_id,
    )
    return None if row is None else _appointment(row)


async def customer_appointments(
    conn: DbConnection, dealer_id: str, customer_id: uuid.UUID
) -> list[AppointmentRecord]:
    """The customer's appointments at the dealer (for the eraser)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM service_appointments "
        "WHERE dealer_id = $1 AND customer_id = $2 ORDER BY booked_at, id",
        dealer_id,
        customer_id,
    )
    return [_appointment(row) for row in rows]


async def list_appointments(
    conn: DbConnection,
    dealer_id: str,
    *,
    vin: str | None,
    status: AppointmentStatus | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[AppointmentRecord]:
    """Appointments by slot start (earliest first); ``after``: the previous page's last
    (slot_start, id)."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM service_appointments
        WHERE dealer_id = $1
          AND ($2::text IS NULL OR vin = $2)
          AND ($3::text IS NULL OR status = $3)
          AND ($4::timestamptz IS NULL OR (slot_start, id) > ($4, $5::uuid))
        ORDER BY slot_start, id
        LIMIT $6
        """,
        dealer_id,
        vin,
        status.value if status else None,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [_appointment(row) for row in rows]
