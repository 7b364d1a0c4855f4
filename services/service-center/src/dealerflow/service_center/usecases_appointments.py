"""Service appointments (issue 12): the free capacity of a dealer's workshop day, booking
into it (phone, online, on site), rescheduling and cancelling.

Capacity is the dealer's (``DealerPolicy.service``: bays, technicians, opening hours, slot
length, minutes per work type; rules in ``domain_appointments``). The database decides
when bookings race for the last place (``repository_appointments.take_slot``): a full slot
is :class:`SlotFull` (409) and nothing is written. A booking, and a reschedule (a new
``ServiceAppointmentBooked`` for the same appointment id), publishes
``ServiceAppointmentBooked``; a cancellation ``ServiceAppointmentCancelled``. The answer
shows the vehicle's open declined work, offered again at this visit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from dealerflow.contracts.enums import CancelledBy, IntakeChannel, ServiceWorkType
from dealerflow.contracts.events.service import (
    ServiceAppointmentBooked,
    ServiceAppointmentCancelled,
)
from dealerflow.runtime import idempotency
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.idempotency import RequestKey
from dealerflow.service_center import domain_appointments as rules
from dealerflow.service_center import repository_appointments as appointments_repo
from dealerflow.service_center.domain_appointments import (
    AppointmentRecord,
    AppointmentStatus,
    FreeSlot,
    Workshop,
)
from dealerflow.service_center.domain_intake import SlotCapacity
from dealerflow.service_center.domain_repair import declined_items_due
from dealerflow.service_center.records import DeclinedItemRecord
from dealerflow.service_center.settings import ServiceCenterSettings
from dealerflow.service_center.usecases import Customer, contact_of
from dealerflow.service_center.usecases_vehicles import declined_item_of, declined_to_offer

Uc = UseCaseContext[ServiceCenterSettings]


class AppointmentNotFound(Exception):
    """No service appointment with this id at this dealer."""

    def __init__(self, appointment_id: uuid.UUID) -> None:
        super().__init__(f"No service appointment with id {appointment_id}")


class SlotFull(Exception):
    """The slot (or one of the slots the job needs) has no bay or technician left."""


class AppointmentIdTaken(Exception):
    """The client-chosen appointment id exists already (not as this request's retry)."""


async def workshop_of(uc: Uc, dealer_id: str) -> Workshop:
    """The dealer's workshop day from its policy."""
    policy = await uc.policy(dealer_id)
    service = policy.service
    return Workshop(
        tz=policy.calendar.tz,
        opens_at=service.workshop_opens_at,
        closes_at=service.workshop_closes_at,
        slot_length=timedelta(minutes=service.slot_minutes),
        capacity=SlotCapacity(bays=service.workshop_bays, technicians=service.workshop_technicians),
        job_minutes={str(k): v for k, v in service.job_minutes.items()},
    )


# -- free capacity ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DaySlots:
    dealer_id: str
    day: date
    work_type: ServiceWorkType
    per_slot_capacity: int
    slots: tuple[FreeSlot, ...]


async def free_capacity(uc: Uc, dealer_id: str, day: date, work_type: ServiceWorkType) -> DaySlots:
    """Every start of the dealer's ``day`` a ``work_type`` job may be booked at, with the
    places left (starts already past are left out)."""
    workshop = await workshop_of(uc, dealer_id)
    grid = rules.day_slots(workshop, day)
    booked = (
        await appointments_repo.slot_load(
            uc.conn, dealer_id, grid[0], grid[-1] + workshop.slot_length
        )
        if grid
        else {}
    )
    return DaySlots(
        dealer_id,
        day,
        work_type,
        rules.per_slot_capacity(workshop),
        rules.free_slots(workshop, day, work_type, booked, now=uc.now),
    )


# -- booking ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppointmentDetails:
    appointment: AppointmentRecord
    #: the vehicle's open declined lines from earlier visits (offered again)
    offered_again: tuple[DeclinedItemRecord, ...]
    #: which of them have their follow-up due by the appointment (item keys)
    follow_up_due: frozenset[tuple[str, str]]


async def appointment_details(uc: Uc, appointment: AppointmentRecord) -> AppointmentDetails:
    offered = await declined_to_offer(uc, appointment.dealer_id, appointment.vin)
    tz = (await uc.policy(appointment.dealer_id)).calendar.tz
    due = declined_items_due([declined_item_of(r, tz) for r in offered], appointment.slot_start)
    return AppointmentDetails(
        appointment, offered, frozenset((i.repair_order_id, i.item_id) for i in due)
    )


async def get_appointment(uc: Uc, dealer_id: str, appointment_id: uuid.UUID) -> AppointmentDetails:
    found = await appointments_repo.get_appointment(uc.conn, dealer_id, appointment_id)
    if found is None:
        raise AppointmentNotFound(appointment_id)
    return await appointment_details(uc, found)


@dataclass(frozen=True, kw_only=True)
class BookAppointment:
    dealer_id: str
    appointment_id: uuid.UUID | None = None  # client-chosen: a retry books nothing
    customer_id: uuid.UUID | None = None  # default: the contracts' identity rule
    dealer_group: str | None = None
    customer: Customer
    vin: str
    work_type: ServiceWorkType
    intake_channel: IntakeChannel
    slot_start: datetime
    advisor_id: str | None = None
    pickup_requested: bool = False
    dropoff_requested: bool = False
    concerns: tuple[str, ...] = ()
    request: RequestKey | None = None


@dataclass(frozen=True)
class BookedAppointment:
    details: AppointmentDetails
    created: bool  # False: a retry, answered with the appointment it booked


async def _take(uc: Uc, dealer_id: str, workshop: Workshop, slots: tuple[datetime, ...]) -> None:
    """Take one place in each slot, earliest first (so concurrent bookings lock in one
    order); SlotFull (the transaction rolls back) when one has none left."""
    capacity = rules.per_slot_capacity(workshop)
    for slot in sorted(slots):
        if not await appointments_repo.take_slot(uc.conn, dealer_id, slot, capacity):
            raise SlotFull(f"no bay or technician left at {slot.isoformat()}")


async def _publish_booked(uc: Uc, a: AppointmentRecord) -> None:
    await uc.publish(
        ServiceAppointmentBooked(
            dealer_id=a.dealer_id,
            customer_id=a.customer_id,
            occurred_at=uc.now,
            service_appointment_id=str(a.id),
            vin=a.vin,
            work_type=a.work_type,
            intake_channel=a.intake_channel,
            slot_start=a.slot_start,
            slot_end=a.slot_end,
            advisor_id=a.advisor_id,
            pickup_requested=a.pickup_requested,
            dropoff_requested=a.dropoff_requested,
            concerns=list(a.concerns),
            contact=a.contact,
        )
    )


async def book_appointment(uc: Uc, cmd: BookAppointment) -> BookedAppointment:
    """Book a job into the slots it needs (SlotNotOffered, SlotFull): ServiceAppointmentBooked."""
    appointment_id = cmd.appointment_id or uuid.uuid4()
    earlier = await idempotency.claimed_resource(
        uc.conn,
        cmd.request,
        dealer_id=cmd.dealer_id,
        scope="service-appointments",
        resource_id=appointment_id,
    )
    if earlier is not None:
        return BookedAppointment(await get_appointment(uc, cmd.dealer_id, earlier), False)
    customer_id, contact = contact_of(
        uc, cmd.customer, dealer_group=cmd.dealer_group, customer_id=cmd.customer_id
    )
    workshop = await workshop_of(uc, cmd.dealer_id)
    slots = rules.job_slots(workshop, cmd.slot_start, cmd.work_type)
    rules.require_future(slots[0], uc.now)
    await _take(uc, cmd.dealer_id, workshop, slots)
    appointment = AppointmentRecord(
        dealer_id=cmd.dealer_id,
        id=appointment_id,
        customer_id=customer_id,
        vin=cmd.vin.upper(),
        work_type=cmd.work_type,
        intake_channel=cmd.intake_channel,
        slot_start=slots[0],
        slot_end=rules.job_end(workshop, slots),
        slots=slots,
        advisor_id=cmd.advisor_id,
        pickup_requested=cmd.pickup_requested,
        dropoff_requested=cmd.dropoff_requested,
        concerns=cmd.concerns,
        contact=contact,
        status=AppointmentStatus.BOOKED,
        booked_at=uc.now,
        updated_at=uc.now,
    )
    if not await appointments_repo.insert_appointment(uc.conn, appointment):
        raise AppointmentIdTaken(
            f"service appointment {appointment_id} already exists (sent with another "
            "Idempotency-Key)"
        )
    await _publish_booked(uc, appointment)
    return BookedAppointment(await appointment_details(uc, appointment), True)


@dataclass(frozen=True, kw_only=True)
class AppointmentCommand:
    dealer_id: str
    appointment_id: uuid.UUID
    request: RequestKey | None = None


async def _begin(uc: Uc, cmd: AppointmentCommand, step: str) -> AppointmentRecord | None:
    """The booked appointment, locked; None when this request is a retry of one done."""
    scope = f"service-appointments:{cmd.appointment_id}:{step}"
    if await idempotency.claimed_resource(
        uc.conn, cmd.request, dealer_id=cmd.dealer_id, scope=scope, resource_id=cmd.appointment_id
    ):
        return None
    found = await appointments_repo.get_appointment(
        uc.conn, cmd.dealer_id, cmd.appointment_id, for_update=True
    )
    if found is None:
        raise AppointmentNotFound(cmd.appointment_id)
    rules.require_open(found.status)
    return found


@dataclass(frozen=True, kw_only=True)
class RescheduleAppointment(AppointmentCommand):
    slot_start: datetime


async def reschedule_appointment(uc: Uc, cmd: RescheduleAppointment) -> AppointmentDetails:
    """Move a booked appointment to another start (its old slots freed, the new ones
    taken: SlotNotOffered, SlotFull): a new ServiceAppointmentBooked for the same id."""
    current = await _begin(uc, cmd, "reschedule")
    if current is None:
        return await get_appointment(uc, cmd.dealer_id, cmd.appointment_id)
    workshop = await workshop_of(uc, cmd.dealer_id)
    slots = rules.job_slots(workshop, cmd.slot_start, current.work_type)
    rules.require_future(slots[0], uc.now)
    await appointments_repo.release_slots(uc.conn, cmd.dealer_id, current.slots)
    await _take(uc, cmd.dealer_id, workshop, slots)
    moved = replace(
        current,
        slot_start=slots[0],
        slot_end=rules.job_end(workshop, slots),
        slots=slots,
        updated_at=uc.now,
    )
    await appointments_repo.save_appointment(uc.conn, moved)
    await _publish_booked(uc, moved)
    return await appointment_details(uc, moved)


@dataclass(frozen=True, kw_only=True)
class CancelAppointment(AppointmentCommand):
    cancelled_by: CancelledBy
    reason: str | None = None


async def cancel_appointment(uc: Uc, cmd: CancelAppointment) -> AppointmentDetails:
    """Call a booked appointment off (its slots freed): ServiceAppointmentCancelled."""
    current = await _begin(uc, cmd, "cancel")
    if current is None:
        return await get_appointment(uc, cmd.dealer_id, cmd.appointment_id)
    await appointments_repo.release_slots(uc.conn, cmd.dealer_id, current.slots)
    cancelled = replace(
        current,
        status=AppointmentStatus.CANCELLED,
        cancelled_by=cmd.cancelled_by,
        cancel_reason=cmd.reason,
        updated_at=uc.now,
    )
    await appointments_repo.save_appointment(uc.conn, cancelled)
    await uc.publish(
        ServiceAppointmentCancelled(
            dealer_id=cancelled.dealer_id,
            customer_id=cancelled.customer_id,
            occurred_at=uc.now,
            service_appointment_id=str(cancelled.id),
            vin=cancelled.vin,
            cancelled_by=cmd.cancelled_by,
            reason=cmd.reason,
            cancelled_at=uc.now,
        )
    )
    return await appointment_details(uc, cancelled)


@dataclass(frozen=True, kw_only=True)
class ListAppointments:
    dealer_id: str
    vin: str | None = None
    status: AppointmentStatus | None = None
    after: tuple[datetime, uuid.UUID] | None = None
    limit: int = 50


async def list_appointments(uc: Uc, query: ListAppointments) -> list[AppointmentRecord]:
    """Up to ``query.limit + 1`` appointments by slot start (the extra one: a next page)."""
    return await appointments_repo.list_appointments(
        uc.conn,
        query.dealer_id,
        vin=query.vin.upper() if query.vin else None,
        status=query.status,
        after=query.after,
        limit=query.limit + 1,
    )
