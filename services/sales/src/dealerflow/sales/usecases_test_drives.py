"""Test drives in depth: the dealer's test-drive fleet (managers keep it), and a booked
drive's steps: started (licence checked on the day, route, the customer's signed consent),
completed with feedback (TestDriveCompleted), cancelled (the slot is free again:
TestDriveCancelled).

Every step takes a request key (a retry answers with the drive as it is now) and doing a
step again changes nothing; a step the drive's state does not allow is 409 with the
reason, a refused check 422 with the errors. The booking itself: :mod:`usecases_showroom`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from dealerflow.contracts.events.sales import TestDriveCancelled, TestDriveCompleted
from dealerflow.runtime import idempotency
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.idempotency import RequestKey
from dealerflow.sales import repository_showroom as showroom_repo
from dealerflow.sales import repository_test_drives as drives_repo
from dealerflow.sales.domain_delivery import mask_licence_number
from dealerflow.sales.domain_test_drives import (
    Consent,
    Ratings,
    start_problems,
    state_problem,
    step_done,
)
from dealerflow.sales.records import FleetVehicleRecord, TestDriveRecord
from dealerflow.sales.settings import SalesSettings
from dealerflow.sales.usecases import dealer_date
from dealerflow.sales.usecases_showroom import TestDriveNotFound, TestDriveRefused, get_test_drive

Uc = UseCaseContext[SalesSettings]


class FleetVehicleNotFound(LookupError):
    """No such vehicle in the dealer's test-drive fleet."""

    def __init__(self, vehicle_id: str) -> None:
        super().__init__(f"No test-drive vehicle {vehicle_id}")


class TestDriveStepNotAllowed(Exception):
    """The drive's state does not allow the step (409, the reason given)."""

    __test__ = False

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.problem_extensions = {"reason": reason}


# --- the fleet --------------------------------------------------------------------------


@dataclass(frozen=True)
class PutFleetVehicle:
    """Add a vehicle to the dealer's test-drive fleet, or change it (model, VIN, plate,
    in service or not)."""

    dealer_id: str
    vehicle_id: str
    model: str
    vin: str | None = None
    plate: str | None = None
    in_service: bool = True


async def put_fleet_vehicle(uc: Uc, cmd: PutFleetVehicle) -> FleetVehicleRecord:
    """The same request again changes nothing but the update time."""
    known = await drives_repo.get_fleet_vehicle(uc.conn, cmd.dealer_id, cmd.vehicle_id)
    return await drives_repo.upsert_fleet_vehicle(
        uc.conn,
        FleetVehicleRecord(
            dealer_id=cmd.dealer_id,
            vehicle_id=cmd.vehicle_id,
            model=cmd.model,
            vin=cmd.vin,
            plate=cmd.plate,
            in_service=cmd.in_service,
            created_at=uc.now if known is None else known.created_at,
            updated_at=uc.now,
        ),
    )


async def get_fleet_vehicle(uc: Uc, dealer_id: str, vehicle_id: str) -> FleetVehicleRecord:
    vehicle = await drives_repo.get_fleet_vehicle(uc.conn, dealer_id, vehicle_id)
    if vehicle is None:
        raise FleetVehicleNotFound(vehicle_id)
    return vehicle


async def list_fleet(
    uc: Uc, dealer_id: str, in_service: bool | None = None
) -> list[FleetVehicleRecord]:
    """The dealer's fleet by vehicle id (only those in or out of service if asked)."""
    return await drives_repo.list_fleet(uc.conn, dealer_id, in_service=in_service)


async def vehicle_bookings(
    uc: Uc, dealer_id: str, vehicle_id: str, *, since: datetime, until: datetime
) -> list[TestDriveRecord]:
    """The vehicle's live bookings that overlap [since, until), by start: its availability
    (a booking keeps the vehicle until its end plus the dealer's turnaround)."""
    return await showroom_repo.bookings_of_vehicle_between(
        uc.conn, dealer_id, vehicle_id, starts_before=until, ends_after=since
    )


async def remove_fleet_vehicle(uc: Uc, dealer_id: str, vehicle_id: str) -> None:
    """The vehicle leaves the fleet (its bookings stay); FleetVehicleNotFound if unknown."""
    if not await drives_repo.delete_fleet_vehicle(uc.conn, dealer_id, vehicle_id):
        raise FleetVehicleNotFound(vehicle_id)


# --- a drive's steps --------------------------------------------------------------------


async def _for_step(
    uc: Uc, dealer_id: str, test_drive_id: uuid.UUID, request: RequestKey | None, step: str
) -> tuple[TestDriveRecord, bool]:
    """The locked drive and whether the step has nothing to do (a retry, or done already);
    TestDriveStepNotAllowed when its state forbids the step."""
    if not await drives_repo.lock_test_drive(uc.conn, dealer_id, test_drive_id):
        raise TestDriveNotFound(test_drive_id)
    earlier = await idempotency.claimed_resource(
        uc.conn,
        request,
        dealer_id=dealer_id,
        scope=f"test-drive-{step}:{test_drive_id}",
        resource_id=test_drive_id,
    )
    drive = await get_test_drive(uc, dealer_id, test_drive_id)
    if earlier is not None or step_done(drive.status, step):
        return drive, True
    if (reason := state_problem(drive.status, step)) is not None:
        raise TestDriveStepNotAllowed(reason)
    return drive, False


@dataclass(frozen=True)
class StartTestDrive:
    """The drive starts: the licence shown on the day, the route, the signed consent."""

    __test__ = False

    dealer_id: str
    test_drive_id: uuid.UUID
    licence_number: str | None
    licence_expires: date | None
    consent: Consent | None
    route: str | None = None
    request: RequestKey | None = None


async def start_test_drive(uc: Uc, cmd: StartTestDrive) -> TestDriveRecord:
    """Refused (422) without a licence valid on the dealer's date today or without the
    customer's signed consent; the licence number is kept masked."""
    drive, nothing_to_do = await _for_step(
        uc, cmd.dealer_id, cmd.test_drive_id, cmd.request, "start"
    )
    if nothing_to_do:
        return drive
    problems = start_problems(
        licence_number=cmd.licence_number,
        licence_expires=cmd.licence_expires,
        drive_date=await dealer_date(uc, cmd.dealer_id, uc.now),
        consent=cmd.consent,
    )
    if problems:
        raise TestDriveRefused(problems)
    assert cmd.licence_number is not None
    assert cmd.licence_expires is not None
    assert cmd.consent is not None
    await drives_repo.mark_started(
        uc.conn,
        cmd.dealer_id,
        cmd.test_drive_id,
        at=uc.now,
        licence_number=mask_licence_number(cmd.licence_number),
        licence_expires=cmd.licence_expires,
        route=cmd.route,
        consent_signed_by=cmd.consent.signed_by,
        consent_signed_at=cmd.consent.signed_at,
        consent_version=cmd.consent.text_version,
    )
    return await get_test_drive(uc, cmd.dealer_id, cmd.test_drive_id)


@dataclass(frozen=True)
class CompleteTestDrive:
    """The drive is over: the customer's ratings (1-5) and notes."""

    __test__ = False

    dealer_id: str
    test_drive_id: uuid.UUID
    ratings: Ratings
    notes: str | None = None
    request: RequestKey | None = None


async def complete_test_drive(uc: Uc, cmd: CompleteTestDrive) -> TestDriveRecord:
    """Only a started drive completes (409 otherwise): TestDriveCompleted."""
    drive, nothing_to_do = await _for_step(
        uc, cmd.dealer_id, cmd.test_drive_id, cmd.request, "complete"
    )
    if nothing_to_do:
        return drive
    await drives_repo.mark_completed(
        uc.conn,
        cmd.dealer_id,
        cmd.test_drive_id,
        at=uc.now,
        overall=cmd.ratings.overall,
        vehicle=cmd.ratings.vehicle,
        consultant=cmd.ratings.consultant,
        notes=cmd.notes,
    )
    started_at: datetime = drive.started_at or uc.now
    await uc.publish(
        TestDriveCompleted(
            dealer_id=cmd.dealer_id,
            customer_id=drive.customer_id,
            occurred_at=uc.now,
            test_drive_id=str(drive.id),
            lead_id=drive.lead_id,
            vehicle_id=drive.vehicle_id,
            model=drive.model,
            consultant_id=drive.consultant_id,
            started_at=started_at,
            ended_at=uc.now,
            licence_checked=drive.licence_checked_at is not None,
            consent_signed=drive.consent_signed_at is not None,
            feedback_rating=cmd.ratings.overall,
            feedback=cmd.notes,
            # the expiry checked on the day (the notifier's licence-renewal reminder)
            licence_valid_until=drive.licence_expires if drive.licence_checked_at else None,
        )
    )
    return await get_test_drive(uc, cmd.dealer_id, cmd.test_drive_id)


@dataclass(frozen=True)
class CancelTestDrive:
    __test__ = False

    dealer_id: str
    test_drive_id: uuid.UUID
    reason: str
    request: RequestKey | None = None


async def cancel_test_drive(uc: Uc, cmd: CancelTestDrive) -> TestDriveRecord:
    """Only a drive not started yet is cancelled (409 otherwise); its slot is free again:
    TestDriveCancelled (the notifier withdraws the customer's reminder)."""
    drive, nothing_to_do = await _for_step(
        uc, cmd.dealer_id, cmd.test_drive_id, cmd.request, "cancel"
    )
    if not nothing_to_do:
        await drives_repo.mark_cancelled(
            uc.conn, cmd.dealer_id, cmd.test_drive_id, at=uc.now, reason=cmd.reason
        )
        await uc.publish(
            TestDriveCancelled(
                dealer_id=cmd.dealer_id,
                customer_id=drive.customer_id,
                occurred_at=uc.now,
                test_drive_id=str(drive.id),
                lead_id=drive.lead_id,
                vehicle_id=drive.vehicle_id,
                scheduled_start=drive.starts_at,
                cancelled_at=uc.now,
            )
        )
    return await get_test_drive(uc, cmd.dealer_id, cmd.test_drive_id)
