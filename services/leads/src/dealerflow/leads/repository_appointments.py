"""SQL of the steps on a booked appointment (asyncpg): read one, locked, and write back
what a step changed. Booking and a lead's history are in ``repository_activity``."""

from __future__ import annotations

import uuid

from dealerflow.leads.records import AppointmentRecord
from dealerflow.leads.repository import columns_of
from dealerflow.runtime.db import DbConnection

_COLUMNS = columns_of(AppointmentRecord)
# what a step may change (the booking's ids, lead, purpose and creation stay)
_CHANGED_BY_STEPS = (
    "scheduled_for",
    "consultant_id",
    "location",
    "status",
    "rescheduled_count",
    "ended_at",
    "cancelled_by",
    "reason",
    "updated_at",
)
_UPDATE = (
    "UPDATE appointments SET "
    + ", ".join(f"{name} = ${i}" for i, name in enumerate(_CHANGED_BY_STEPS, start=4))
    + " WHERE dealer_id = $1 AND lead_id = $2 AND appointment_id = $3"
)


async def get_appointment(
    conn: DbConnection, dealer_id: str, lead_id: uuid.UUID, appointment_id: str
) -> AppointmentRecord | None:
    """The lead's appointment, locked until the transaction ends (None: the lead has no
    appointment with that id at the dealer)."""
    row = await conn.fetchrow(
        f"SELECT {', '.join(_COLUMNS)} FROM appointments"
        " WHERE dealer_id = $1 AND lead_id = $2 AND appointment_id = $3 FOR UPDATE",
        dealer_id,
        lead_id,
        appointment_id,
    )
    return AppointmentRecord(**dict(row)) if row else None


async def save_appointment(conn: DbConnection, appointment: AppointmentRecord) -> None:
    """Write what a step changed (the row must exist)."""
    status = await conn.execute(
        _UPDATE,
        appointment.dealer_id,
        appointment.lead_id,
        appointment.appointment_id,
        *(getattr(appointment, name) for name in _CHANGED_BY_STEPS),
    )
    if status != "UPDATE 1":
        raise LookupError(f"appointment {appointment.appointment_id} does not exist")
