"""HTTP bodies of the test-drive fleet and of a drive's steps (conventions: :mod:`schemas`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from dealerflow.contracts.types import DealerId
from dealerflow.runtime.idempotency import request_of
from dealerflow.runtime.request_models import HappenedAt, RequestBody
from dealerflow.sales.domain_test_drives import Consent, Ratings
from dealerflow.sales.records import FleetVehicleRecord, TestDriveRecord
from dealerflow.sales.schemas import ShortText
from dealerflow.sales.schemas_showroom import TestDriveOut
from dealerflow.sales.usecases_test_drives import (
    CancelTestDrive,
    CompleteTestDrive,
    PutFleetVehicle,
    StartTestDrive,
)

Rating = Annotated[int, Field(ge=1, le=5)]
Notes = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]

# --- the fleet --------------------------------------------------------------------------


class FleetVehicleIn(RequestBody):
    dealer_id: DealerId
    model: ShortText
    vin: Annotated[str, StringConstraints(strip_whitespace=True, max_length=17)] | None = None
    plate: Annotated[str, StringConstraints(strip_whitespace=True, max_length=16)] | None = None
    in_service: bool = Field(default=True, description="False: not bookable (in repair, sold).")

    def command(self, vehicle_id: str) -> PutFleetVehicle:
        return PutFleetVehicle(
            dealer_id=self.dealer_id,
            vehicle_id=vehicle_id,
            model=self.model,
            vin=self.vin,
            plate=self.plate,
            in_service=self.in_service,
        )


class FleetVehicleOut(BaseModel):
    dealer_id: str
    vehicle_id: str
    model: str
    vin: str | None
    plate: str | None
    in_service: bool
    updated_at: datetime

    @classmethod
    def of(cls, v: FleetVehicleRecord) -> FleetVehicleOut:
        return cls(
            dealer_id=v.dealer_id,
            vehicle_id=v.vehicle_id,
            model=v.model,
            vin=v.vin,
            plate=v.plate,
            in_service=v.in_service,
            updated_at=v.updated_at,
        )


class FleetOut(BaseModel):
    items: list[FleetVehicleOut]


class BookedSlotOut(BaseModel):
    test_drive_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    free_from: datetime = Field(description="End plus the turnaround kept free after it.")
    status: str

    @classmethod
    def of(cls, td: TestDriveRecord) -> BookedSlotOut:
        return cls(
            test_drive_id=td.id,
            starts_at=td.starts_at,
            ends_at=td.ends_at,
            free_from=td.blocked_until or td.ends_at,
            status=td.status,
        )


class VehicleBookingsOut(BaseModel):
    vehicle_id: str
    items: list[BookedSlotOut]


# --- a drive's steps --------------------------------------------------------------------


class DayLicenceIn(RequestBody):
    """The licence shown on the day (checked then: a missing or expired one is 422)."""

    number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    expires_on: date | None = None


class ConsentIn(RequestBody):
    signed_by: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    signed_at: HappenedAt
    text_version: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
    ] = Field(description="Version of the consent text the customer signed.")


class StartTestDriveIn(RequestBody):
    dealer_id: DealerId
    licence: DayLicenceIn | None = None
    consent: ConsentIn | None = None
    route: ShortText | None = None

    def command(self, test_drive_id: uuid.UUID, idempotency_key: str | None) -> StartTestDrive:
        licence = self.licence or DayLicenceIn()
        consent = self.consent
        return StartTestDrive(
            dealer_id=self.dealer_id,
            test_drive_id=test_drive_id,
            licence_number=licence.number,
            licence_expires=licence.expires_on,
            consent=None
            if consent is None
            else Consent(consent.signed_by, consent.signed_at, consent.text_version),
            route=self.route,
            request=request_of(idempotency_key, self),
        )


class RatingsIn(RequestBody):
    overall: Rating
    vehicle: Rating | None = None
    consultant: Rating | None = None


class CompleteTestDriveIn(RequestBody):
    dealer_id: DealerId
    ratings: RatingsIn
    notes: Notes | None = None

    def command(self, test_drive_id: uuid.UUID, idempotency_key: str | None) -> CompleteTestDrive:
        r = self.ratings
        return CompleteTestDrive(
            dealer_id=self.dealer_id,
            test_drive_id=test_drive_id,
            ratings=Ratings(r.overall, r.vehicle, r.consultant),
            notes=self.notes,
            request=request_of(idempotency_key, self),
        )


class CancelTestDriveIn(RequestBody):
    dealer_id: DealerId
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]

    def command(self, test_drive_id: uuid.UUID, idempotency_key: str | None) -> CancelTestDrive:
        return CancelTestDrive(
            dealer_id=self.dealer_id,
            test_drive_id=test_drive_id,
            reason=self.reason,
            request=request_of(idempotency_key, self),
        )


class ConsentOut(BaseModel):
    signed_by: str
    signed_at: datetime
    text_version: str


class FeedbackOut(BaseModel):
    overall: int
    vehicle: int | None
    consultant: int | None
    notes: str | None


class TestDriveDetail(TestDriveOut):
    """A drive with its state: booked, started, completed or cancelled."""

    __test__ = False

    status: str
    started_at: datetime | None
    licence_checked_at: datetime | None
    consent: ConsentOut | None
    completed_at: datetime | None
    feedback: FeedbackOut | None
    cancelled_at: datetime | None
    cancel_reason: str | None

    @classmethod
    def of(cls, td: TestDriveRecord) -> TestDriveDetail:
        consent = None
        if td.consent_signed_by and td.consent_signed_at and td.consent_version:
            consent = ConsentOut(
                signed_by=td.consent_signed_by,
                signed_at=td.consent_signed_at,
                text_version=td.consent_version,
            )
        feedback = None
        if td.rating_overall is not None:
            feedback = FeedbackOut(
                overall=td.rating_overall,
                vehicle=td.rating_vehicle,
                consultant=td.rating_consultant,
                notes=td.feedback_notes,
            )
        return cls(
            **TestDriveOut.of(td).model_dump(),
            status=td.status,
            started_at=td.started_at,
            licence_checked_at=td.licence_checked_at,
            consent=consent,
            completed_at=td.completed_at,
            feedback=feedback,
            cancelled_at=td.cancelled_at,
            cancel_reason=td.cancel_reason,
        )
