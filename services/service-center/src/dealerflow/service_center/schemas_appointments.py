"""HTTP bodies of service appointments and the workshop's free capacity (the ``XOut.of``
classmethods turn use-case records into responses)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import CancelledBy, IntakeChannel, ServiceWorkType
from dealerflow.contracts.types import DealerId, StaffId, Vin
from dealerflow.runtime.request_models import DealerGroup, PlannedAt, RequestBody
from dealerflow.service_center.domain_appointments import AppointmentRecord, AppointmentStatus
from dealerflow.service_center.schemas import CustomerIn, DeclinedItemOut, Line, Text
from dealerflow.service_center.usecases_appointments import AppointmentDetails, DaySlots


class FreeSlotOut(BaseModel):
    slot_start: datetime = Field(description="When the job would start, UTC.")
    slot_end: datetime = Field(description="When it would end (the slots it takes), UTC.")
    remaining: int = Field(description="How many more such jobs fit from this start.")
    bookable: bool


class ServiceSlotsOut(BaseModel):
    dealer_id: str
    date: date
    work_type: ServiceWorkType
    per_slot_capacity: int = Field(description="Jobs one slot takes: min(bays, technicians).")
    slots: list[FreeSlotOut]

    @classmethod
    def of(cls, day: DaySlots) -> ServiceSlotsOut:
        return cls(
            dealer_id=day.dealer_id,
            date=day.day,
            work_type=day.work_type,
            per_slot_capacity=day.per_slot_capacity,
            slots=[
                FreeSlotOut(
                    slot_start=s.slot_start,
                    slot_end=s.slot_end,
                    remaining=s.remaining,
                    bookable=s.bookable,
                )
                for s in day.slots
            ],
        )


class BookAppointmentIn(RequestBody):
    """A booking by phone, online or on site into a free slot of the workshop."""

    dealer_id: DealerId
    service_appointment_id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id: a retry with the same id books nothing."
    )
    customer_id: uuid.UUID | None = Field(
        default=None,
        description="Known customer id; otherwise derived from the phone (or e-mail) by "
        "the dealerflow.contracts.identity rule.",
    )
    dealer_group: DealerGroup | None = None
    customer: CustomerIn
    vin: Vin
    work_type: ServiceWorkType
    intake_channel: IntakeChannel
    slot_start: PlannedAt = Field(description="A start offered by GET /v1/service-slots.")
    advisor_id: StaffId | None = None
    pickup_requested: bool = False
    dropoff_requested: bool = False
    concerns: list[Line] = Field(default_factory=list, max_length=50)


class RescheduleIn(RequestBody):
    dealer_id: DealerId
    slot_start: PlannedAt = Field(description="The new start (offered by GET /v1/service-slots).")


class CancelIn(RequestBody):
    dealer_id: DealerId
    cancelled_by: CancelledBy
    reason: Text | None = None


class AppointmentSummary(BaseModel):
    service_appointment_id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    vin: str
    work_type: ServiceWorkType
    intake_channel: IntakeChannel
    slot_start: datetime
    slot_end: datetime
    status: AppointmentStatus
    advisor_id: str | None
    booked_at: datetime

    @classmethod
    def of(cls, a: AppointmentRecord) -> AppointmentSummary:
        return cls(
            service_appointment_id=a.id,
            dealer_id=a.dealer_id,
            customer_id=a.customer_id,
            vin=a.vin,
            work_type=a.work_type,
            intake_channel=a.intake_channel,
            slot_start=a.slot_start,
            slot_end=a.slot_end,
            status=a.status,
            advisor_id=a.advisor_id,
            booked_at=a.booked_at,
        )


class OfferedItemOut(DeclinedItemOut):
    follow_up_due: bool = Field(
        description="Its follow-up (declined_item_followup_after) is due by the appointment."
    )


class AppointmentDetail(AppointmentSummary):
    pickup_requested: bool
    dropoff_requested: bool
    concerns: list[str]
    contact: ContactSnapshot
    cancelled_by: CancelledBy | None
    cancel_reason: str | None
    repair_order_id: uuid.UUID | None = Field(description="The repair order of the check-in.")
    updated_at: datetime
    offered_again: list[OfferedItemOut] = Field(
        description="The vehicle's open declined work from earlier visits, offered again."
    )

    @classmethod
    def of(cls, details: AppointmentDetails) -> AppointmentDetail:  # type: ignore[override]
        a = details.appointment
        return cls(
            **AppointmentSummary.of(a).model_dump(),
            pickup_requested=a.pickup_requested,
            dropoff_requested=a.dropoff_requested,
            concerns=list(a.concerns),
            contact=a.contact,
            cancelled_by=a.cancelled_by,
            cancel_reason=a.cancel_reason,
            repair_order_id=a.repair_order_id,
            updated_at=a.updated_at,
            offered_again=[
                OfferedItemOut(
                    **DeclinedItemOut.of(d).model_dump(),
                    follow_up_due=(str(d.repair_order_id), d.item_id) in details.follow_up_due,
                )
                for d in details.offered_again
            ],
        )
