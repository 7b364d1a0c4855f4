"""Service appointments: the dealer's slot grid and what a booked job takes of it (pure).

The workshop's day is cut into slots of ``slot_minutes`` from opening to closing (the
dealer's local time, ``DealerPolicy.service``). A job takes the consecutive slots its work
type needs (``job_minutes`` rounded up to whole slots) and must end by closing time. Each
slot takes as many jobs as the scarcer of bays and technicians
(:func:`~dealerflow.service_center.domain_intake.slot_remaining`).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import CancelledBy, IntakeChannel, ServiceWorkType
from dealerflow.service_center.domain_intake import SlotCapacity, can_book_slot, slot_remaining


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    CHECKED_IN = "checked_in"


class SlotNotOffered(Exception):
    """The requested start is not a slot of the workshop's day, or the job would not end
    by closing time."""


class AppointmentClosed(Exception):
    """The appointment is cancelled or checked in already: it cannot change."""


@dataclass(frozen=True)
class Workshop:
    """One dealer's workshop day (from the ``service`` policy group)."""

    tz: ZoneInfo
    opens_at: time
    closes_at: time
    slot_length: timedelta
    capacity: SlotCapacity
    job_minutes: Mapping[str, int]

    def __post_init__(self) -> None:
        if self.slot_length <= timedelta(0):
            raise ValueError("slot_length must be positive")


def day_slots(workshop: Workshop, day: date) -> tuple[datetime, ...]:
    """The starts (UTC) of the day's slots: from opening, every slot length, each slot
    ending by closing time."""
    start = datetime.combine(day, workshop.opens_at, workshop.tz)
    closes = datetime.combine(day, workshop.closes_at, workshop.tz)
    slots = []
    while start + workshop.slot_length <= closes:
        slots.append(start.astimezone(UTC))
        start += workshop.slot_length
    return tuple(slots)


def slots_needed(workshop: Workshop, work_type: ServiceWorkType) -> int:
    """Whole slots a job of ``work_type`` takes (at least one)."""
    minutes = workshop.job_minutes.get(
        work_type.value, int(workshop.slot_length.total_seconds() // 60)
    )
    return max(1, math.ceil(timedelta(minutes=minutes) / workshop.slot_length))


def job_slots(
    workshop: Workshop, start: datetime, work_type: ServiceWorkType
) -> tuple[datetime, ...]:
    """The consecutive slots (UTC starts) a job of ``work_type`` starting at ``start``
    takes; SlotNotOffered if ``start`` is no slot of its day or the job runs past closing."""
    day = start.astimezone(workshop.tz).date()
    grid = day_slots(workshop, day)
    start = start.astimezone(UTC)
    if start not in grid:
        raise SlotNotOffered(f"{start.isoformat()} is not an appointment slot of {day}")
    first = grid.index(start)
    needed = slots_needed(workshop, work_type)
    taken = grid[first : first + needed]
    if len(taken) < needed:
        raise SlotNotOffered(
            f"a {work_type.value} job from {start.isoformat()} would run past closing time"
        )
    return taken


def job_end(workshop: Workshop, slots: tuple[datetime, ...]) -> datetime:
    """When a job taking ``slots`` ends."""
    return slots[-1] + workshop.slot_length


@dataclass(frozen=True)
class FreeSlot:
    """A start a job of one work type can be booked at, and how many more fit there."""

    slot_start: datetime
    slot_end: datetime
    remaining: int
    bookable: bool


def free_slots(
    workshop: Workshop,
    day: date,
    work_type: ServiceWorkType,
    booked: Mapping[datetime, int],
    now: datetime | None = None,
) -> tuple[FreeSlot, ...]:
    """Each start of the day for a ``work_type`` job with the places left there (the
    fewest over the slots the job takes; ``booked``: jobs per slot start). Starts in the
    past (before ``now``) are not offered."""
    grid = day_slots(workshop, day)
    needed = slots_needed(workshop, work_type)
    out = []
    for i in range(len(grid) - needed + 1):
        if now is not None and grid[i] < now:
            continue
        taken = grid[i : i + needed]
        remaining = min(slot_remaining(workshop.capacity, booked.get(s, 0)) for s in taken)
        bookable = all(can_book_slot(workshop.capacity, booked.get(s, 0)) for s in taken)
        out.append(FreeSlot(taken[0], job_end(workshop, taken), remaining, bookable))
    return tuple(out)


def per_slot_capacity(workshop: Workshop) -> int:
    """Jobs one slot takes: the scarcer of bays and technicians."""
    return slot_remaining(workshop.capacity, 0)


def require_future(slot_start: datetime, now: datetime) -> None:
    """A job is booked into a slot that has not begun yet."""
    if slot_start <= now:
        raise SlotNotOffered(f"the slot at {slot_start.isoformat()} has begun already")


class CheckInMismatch(ValueError):
    """The check-in names another vehicle than the appointment it is booked under."""


@dataclass(frozen=True)
class BookedVisit:
    """What check-in takes from the booking (the advisor's own entries win)."""

    vin: str
    concerns: tuple[str, ...]
    work_type: ServiceWorkType


def visit_from_booking(
    booking: AppointmentRecord,
    *,
    vin: str | None,
    concerns: tuple[str, ...],
    work_type: ServiceWorkType | None,
) -> BookedVisit:
    """Check-in of a booked customer: the booking's VIN (a different VIN is refused), its
    concerns unless the advisor took others down, its work type unless the advisor chose
    one."""
    require_open(booking.status)
    if vin is not None and vin.strip().upper() != booking.vin.upper():
        raise CheckInMismatch(
            f"the vehicle {vin} is not the one booked under appointment {booking.id}"
        )
    return BookedVisit(
        vin=booking.vin,
        concerns=concerns or booking.concerns,
        work_type=work_type or booking.work_type,
    )


def require_open(status: AppointmentStatus) -> None:
    """Only a booked appointment may be rescheduled, cancelled or checked in."""
    if status is not AppointmentStatus.BOOKED:
        raise AppointmentClosed(f"the appointment is {status.value}")


@dataclass(frozen=True, kw_only=True)
class AppointmentRecord:
    """A stored service appointment (repository_appointments reads and writes it)."""

    dealer_id: str
    id: uuid.UUID
    customer_id: uuid.UUID
    vin: str
    work_type: ServiceWorkType
    intake_channel: IntakeChannel
    slot_start: datetime
    slot_end: datetime
    slots: tuple[datetime, ...]
    advisor_id: str | None
    pickup_requested: bool
    dropoff_requested: bool
    concerns: tuple[str, ...]
    contact: ContactSnapshot
    status: AppointmentStatus
    booked_at: datetime
    updated_at: datetime
    cancelled_by: CancelledBy | None = None
    cancel_reason: str | None = None
    repair_order_id: uuid.UUID | None = None
