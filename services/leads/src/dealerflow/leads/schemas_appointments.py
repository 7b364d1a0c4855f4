"""Request bodies of the steps on a booked appointment (``api_appointments``); each
answers with the appointment after the step (``schemas.AppointmentView``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from dealerflow.contracts.enums import CancelledBy
from dealerflow.contracts.types import StaffId
from dealerflow.leads.schemas import Note
from dealerflow.runtime.request_models import HappenedAt, PlannedAt, RequestBody


class RescheduleIn(RequestBody):
    scheduled_for: PlannedAt = Field(description="The new start time.")
    location: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Where to meet now; default: unchanged."
    )
    reason: Note | None = None


class CancelIn(RequestBody):
    cancelled_by: CancelledBy = Field(description="Whether the customer or the dealer cancels.")
    reason: Note | None = None


class AttendedIn(RequestBody):
    attended_at: HappenedAt | None = Field(
        default=None, description="When the customer arrived; default: now."
    )
    consultant_id: StaffId | None = Field(
        default=None, description="Who received the customer; default: the appointment's."
    )


class NoShowIn(RequestBody):
    consultant_id: StaffId | None = Field(
        default=None, description="Who waited; default: the appointment's consultant."
    )
