"""The test-drive fleet (/v1/test-drive-vehicles: the managers keep it, every staff member
reads it) and a booked drive's steps (/v1/test-drives/{id}/start|complete|cancel: the
showroom, as booking). Thin like :mod:`api`; every step takes an ``Idempotency-Key`` and
answers with the drive after it; repeating a step already done changes nothing."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from dealerflow.contracts.types import UtcDatetime
from dealerflow.runtime.auth import Role, allow
from dealerflow.runtime.http import step_routes
from dealerflow.runtime.idempotency import IdempotencyKeyHeader
from dealerflow.sales import usecases_test_drives as drives
from dealerflow.sales.api import CONFLICT, INVALID, NOT_FOUND, READERS, SHOWROOM, Ctx, DealerQuery
from dealerflow.sales.schemas_test_drives import (
    BookedSlotOut,
    CancelTestDriveIn,
    CompleteTestDriveIn,
    FleetOut,
    FleetVehicleIn,
    FleetVehicleOut,
    StartTestDriveIn,
    TestDriveDetail,
    VehicleBookingsOut,
)

router = APIRouter(prefix="/v1")

#: Who keeps the fleet: the managers.
FLEET_KEEPERS = (Role.SALES_MANAGER, Role.GM)
VehiclePath = Annotated[str, Path(min_length=1, max_length=64, description="Fleet vehicle id.")]

_drive_step = step_routes(
    router,
    "/test-drives/{test_drive_id}",
    response_model=TestDriveDetail,
    responses={**NOT_FOUND, **INVALID, **CONFLICT},
    tags=["test drives"],
)


@router.put(
    "/test-drive-vehicles/{vehicle_id}",
    response_model=FleetVehicleOut,
    responses={**INVALID},
    tags=["test drives"],
    summary="Add a vehicle to the test-drive fleet or change it (in service or not)",
    dependencies=[allow(*FLEET_KEEPERS)],
)
async def put_fleet_vehicle(
    vehicle_id: VehiclePath, body: FleetVehicleIn, ctx: Ctx
) -> FleetVehicleOut:
    """Once a dealer keeps a fleet, only its vehicles in service are booked."""
    cmd = body.command(vehicle_id)
    return FleetVehicleOut.of(
        await ctx.run_in_transaction(lambda uc: drives.put_fleet_vehicle(uc, cmd))
    )


@router.get(
    "/test-drive-vehicles",
    response_model=FleetOut,
    tags=["test drives"],
    dependencies=[allow(*READERS)],
)
async def list_fleet(
    dealer_id: DealerQuery, ctx: Ctx, in_service: Annotated[bool | None, Query()] = None
) -> FleetOut:
    fleet = await ctx.run_in_transaction(lambda uc: drives.list_fleet(uc, dealer_id, in_service))
    return FleetOut(items=[FleetVehicleOut.of(v) for v in fleet])


@router.get(
    "/test-drive-vehicles/{vehicle_id}",
    response_model=FleetVehicleOut,
    responses={**NOT_FOUND},
    tags=["test drives"],
    dependencies=[allow(*READERS)],
)
async def get_fleet_vehicle(
    vehicle_id: VehiclePath, dealer_id: DealerQuery, ctx: Ctx
) -> FleetVehicleOut:
    return FleetVehicleOut.of(
        await ctx.run_in_transaction(lambda uc: drives.get_fleet_vehicle(uc, dealer_id, vehicle_id))
    )


@router.get(
    "/test-drive-vehicles/{vehicle_id}/bookings",
    response_model=VehicleBookingsOut,
    responses={**INVALID},
    tags=["test drives"],
    dependencies=[allow(*READERS)],
)
async def vehicle_bookings(
    vehicle_id: VehiclePath,
    dealer_id: DealerQuery,
    ctx: Ctx,
    since: Annotated[UtcDatetime, Query(alias="from", description="Window start, UTC.")],
    until: Annotated[UtcDatetime, Query(alias="to", description="Window end, UTC.")],
) -> VehicleBookingsOut:
    """The vehicle's availability: its live bookings overlapping [from, to), by start."""
    booked = await ctx.run_in_transaction(
        lambda uc: drives.vehicle_bookings(uc, dealer_id, vehicle_id, since=since, until=until)
    )
    return VehicleBookingsOut(vehicle_id=vehicle_id, items=[BookedSlotOut.of(b) for b in booked])


@router.delete(
    "/test-drive-vehicles/{vehicle_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**NOT_FOUND},
    tags=["test drives"],
    dependencies=[allow(*FLEET_KEEPERS)],
)
async def remove_fleet_vehicle(
    vehicle_id: VehiclePath, dealer_id: DealerQuery, ctx: Ctx
) -> Response:
    """The vehicle leaves the fleet; its bookings stay."""
    await ctx.run_in_transaction(lambda uc: drives.remove_fleet_vehicle(uc, dealer_id, vehicle_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@_drive_step(
    "start",
    "Start the drive: licence checked on the day, route, signed consent",
    dependencies=[allow(*SHOWROOM)],
)
async def start_test_drive(
    test_drive_id: uuid.UUID,
    body: StartTestDriveIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TestDriveDetail:
    """422 when the licence is missing or expired today, or the consent is not signed."""
    cmd = body.command(test_drive_id, idempotency_key)
    return TestDriveDetail.of(
        await ctx.run_in_transaction(lambda uc: drives.start_test_drive(uc, cmd))
    )


@_drive_step(
    "complete",
    "Complete the drive with the customer's feedback (TestDriveCompleted)",
    dependencies=[allow(*SHOWROOM)],
)
async def complete_test_drive(
    test_drive_id: uuid.UUID,
    body: CompleteTestDriveIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TestDriveDetail:
    """Ratings 1-5 and notes; 409 unless the drive started."""
    cmd = body.command(test_drive_id, idempotency_key)
    return TestDriveDetail.of(
        await ctx.run_in_transaction(lambda uc: drives.complete_test_drive(uc, cmd))
    )


@_drive_step(
    "cancel", "Cancel the booking (the slot is free again)", dependencies=[allow(*SHOWROOM)]
)
async def cancel_test_drive(
    test_drive_id: uuid.UUID,
    body: CancelTestDriveIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TestDriveDetail:
    """409 once the drive started."""
    cmd = body.command(test_drive_id, idempotency_key)
    return TestDriveDetail.of(
        await ctx.run_in_transaction(lambda uc: drives.cancel_test_drive(uc, cmd))
    )
