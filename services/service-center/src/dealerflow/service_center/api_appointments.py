"""The service-center HTTP API of service appointments (/v1): the workshop's free capacity
and the bookings (thin endpoints, one use case in one transaction each).

Who may call: bookings, reschedules and cancellations are made by the service advisors,
the service manager, customer relations (phone bookings) and a DMS or online channel
(``integration``); every staff member of the dealer, and a DMS, may read the slots and
the appointments. Every POST takes an ``Idempotency-Key``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from dealerflow.contracts.enums import ServiceWorkType
from dealerflow.contracts.types import DEALER_ID_PATTERN
from dealerflow.runtime.auth import STAFF, Role, allow
from dealerflow.runtime.http import Responses, problem_doc, step_routes
from dealerflow.runtime.idempotency import IdempotencyKeyHeader, request_of
from dealerflow.runtime.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor, page_of
from dealerflow.runtime.service import ServiceContext, service_context
from dealerflow.service_center import usecases_appointments as appointments
from dealerflow.service_center.api import customer_of
from dealerflow.service_center.domain_appointments import AppointmentStatus
from dealerflow.service_center.schemas_appointments import (
    AppointmentDetail,
    AppointmentSummary,
    BookAppointmentIn,
    CancelIn,
    RescheduleIn,
    ServiceSlotsOut,
)
from dealerflow.service_center.settings import ServiceCenterSettings

router = APIRouter(prefix="/v1", tags=["service appointments"])

Ctx = Annotated[ServiceContext[ServiceCenterSettings], Depends(service_context)]
DealerQuery = Annotated[str, Query(pattern=DEALER_ID_PATTERN, description="Dealer (store) code.")]

STEP: Responses = {
    404: problem_doc("No such service appointment at this dealer"),
    409: problem_doc("The slot is full, or the appointment is cancelled or checked in"),
    422: problem_doc("Invalid request, or the start is not a free slot of the day"),
}

#: Who books: the advisors, the service manager, customer relations (phone), a DMS/app.
BOOKERS = (Role.ADVISOR, Role.SERVICE_MANAGER, Role.CUSTOMER_RELATIONS, Role.INTEGRATION)
READERS = (*STAFF, Role.INTEGRATION)

_step = step_routes(
    router,
    "/service-appointments/{service_appointment_id}",
    response_model=AppointmentDetail,
    responses=STEP,
    dependencies=[allow(*BOOKERS)],
)


@router.get(
    "/service-slots",
    response_model=ServiceSlotsOut,
    dependencies=[allow(*READERS)],
    summary="The workshop's free capacity on a day, for one work type",
)
async def get_service_slots(
    dealer_id: DealerQuery,
    date_: Annotated[date, Query(alias="date", description="The dealer's local date.")],
    work_type: ServiceWorkType,
    ctx: Ctx,
) -> ServiceSlotsOut:
    """Each start a job of ``work_type`` may be booked at (it takes the slots its duration
    needs), with how many more fit there: the scarcer of bays and technicians minus the
    bookings (dealer policy ``service``: bays, technicians, hours, slot and job minutes)."""
    day = await ctx.run_in_transaction(
        lambda uc: appointments.free_capacity(uc, dealer_id, date_, work_type)
    )
    return ServiceSlotsOut.of(day)


@router.post(
    "/service-appointments",
    status_code=status.HTTP_201_CREATED,
    response_model=AppointmentDetail,
    responses={409: STEP[409], 422: STEP[422]},
    dependencies=[allow(*BOOKERS)],
    summary="Book a service appointment (ServiceAppointmentBooked)",
)
async def book_appointment(
    body: BookAppointmentIn,
    response: Response,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> AppointmentDetail:
    """Never overbooked: when bookings race for the last place the database decides, and
    the others get 409 slot-full. The answer lists the vehicle's open declined work."""
    cmd = appointments.BookAppointment(
        dealer_id=body.dealer_id,
        appointment_id=body.service_appointment_id,
        customer_id=body.customer_id,
        dealer_group=body.dealer_group,
        customer=customer_of(body.customer),
        vin=body.vin,
        work_type=body.work_type,
        intake_channel=body.intake_channel,
        slot_start=body.slot_start,
        advisor_id=body.advisor_id,
        pickup_requested=body.pickup_requested,
        dropoff_requested=body.dropoff_requested,
        concerns=tuple(body.concerns),
        request=request_of(idempotency_key, body, body.service_appointment_id),
    )
    booked = await ctx.run_in_transaction(lambda uc: appointments.book_appointment(uc, cmd))
    response.status_code = status.HTTP_201_CREATED if booked.created else status.HTTP_200_OK
    return AppointmentDetail.of(booked.details)


@router.get(
    "/service-appointments",
    response_model=Page[AppointmentSummary],
    dependencies=[allow(*READERS)],
)
async def list_appointments(
    dealer_id: DealerQuery,
    ctx: Ctx,
    vin: str | None = None,
    status_: Annotated[AppointmentStatus | None, Query(alias="status")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[AppointmentSummary]:
    query = appointments.ListAppointments(
        dealer_id=dealer_id,
        vin=vin,
        status=status_,
        after=decode_cursor(cursor, datetime, uuid.UUID),
        limit=limit,
    )
    found = await ctx.run_in_transaction(lambda uc: appointments.list_appointments(uc, query))
    page, next_cursor = page_of(found, limit, lambda a: (a.slot_start, a.id))
    return Page[AppointmentSummary](
        items=[AppointmentSummary.of(a) for a in page], next_cursor=next_cursor
    )


@router.get(
    "/service-appointments/{service_appointment_id}",
    response_model=AppointmentDetail,
    responses={404: STEP[404]},
    dependencies=[allow(*READERS)],
)
async def get_appointment(
    service_appointment_id: uuid.UUID, dealer_id: DealerQuery, ctx: Ctx
) -> AppointmentDetail:
    details = await ctx.run_in_transaction(
        lambda uc: appointments.get_appointment(uc, dealer_id, service_appointment_id)
    )
    return AppointmentDetail.of(details)


@_step("reschedule", "Move the appointment to another start (ServiceAppointmentBooked)")
async def reschedule(
    service_appointment_id: uuid.UUID,
    body: RescheduleIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> AppointmentDetail:
    """Frees the old slots and takes the new ones (409 slot-full if they have no room)."""
    cmd = appointments.RescheduleAppointment(
        dealer_id=body.dealer_id,
        appointment_id=service_appointment_id,
        request=request_of(idempotency_key, body),
        slot_start=body.slot_start,
    )
    return AppointmentDetail.of(
        await ctx.run_in_transaction(lambda uc: appointments.reschedule_appointment(uc, cmd))
    )


@_step("cancel", "Call the appointment off (ServiceAppointmentCancelled)")
async def cancel(
    service_appointment_id: uuid.UUID,
    body: CancelIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> AppointmentDetail:
    cmd = appointments.CancelAppointment(
        dealer_id=body.dealer_id,
        appointment_id=service_appointment_id,
        request=request_of(idempotency_key, body),
        cancelled_by=body.cancelled_by,
        reason=body.reason,
    )
    return AppointmentDetail.of(
        await ctx.run_in_transaction(lambda uc: appointments.cancel_appointment(uc, cmd))
    )
