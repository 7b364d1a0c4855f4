"""HTTP API of the steps on a booked appointment
(``/v1/leads/{lead_id}/appointments/{appointment_id}/...``): moved, cancelled, attended,
no-show. Thin like ``api``; every step takes an ``Idempotency-Key`` (see ``api.once``) and
answers with the appointment after it; repeating a step that is already done changes
nothing (200, no second event).

Who: the consultant and the sales manager, as booking (``api_actions.WORKERS``)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from dealerflow.leads.api import PROBLEM, Ctx, DealerQuery, once
from dealerflow.leads.api_actions import WORKERS
from dealerflow.leads.records import AppointmentRecord
from dealerflow.leads.schemas import AppointmentView
from dealerflow.leads.schemas_appointments import AttendedIn, CancelIn, NoShowIn, RescheduleIn
from dealerflow.leads.usecases import Uc
from dealerflow.leads.usecases_appointments import (
    CancelAppointment,
    RecordAttendance,
    RecordNoShow,
    RescheduleAppointment,
    cancel_appointment,
    record_attendance,
    record_no_show,
    reschedule_appointment,
)
from dealerflow.runtime.idempotency import IdempotencyKeyHeader

router = APIRouter(prefix="/v1", tags=["leads"])

AppointmentPath = Annotated[str, Path(max_length=128, description="The appointment's id.")]
_STEP = "/leads/{lead_id}/appointments/{appointment_id}"
_RESPONSES: dict[int | str, dict[str, Any]] = {404: PROBLEM, 409: PROBLEM, 422: PROBLEM}


async def _appointment_step(
    ctx: Ctx,
    key: str | None,
    dealer_id: str,
    scope: str,
    request: BaseModel,
    use_case: Callable[[Uc], Awaitable[AppointmentRecord]],
) -> JSONResponse:
    """A step answered with the appointment (200), once per Idempotency-Key."""

    async def run(uc: Uc) -> tuple[int, BaseModel]:
        return 200, AppointmentView.of(await use_case(uc))

    return (await once(ctx, key, dealer_id, scope, request, run)).response()


@router.post(
    f"{_STEP}/reschedule",
    response_model=AppointmentView,
    responses=_RESPONSES,
    dependencies=[WORKERS],
)
async def post_reschedule(
    lead_id: uuid.UUID,
    appointment_id: AppointmentPath,
    dealer_id: DealerQuery,
    body: RescheduleIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Move the appointment (AppointmentRescheduled: the customer's reminders follow);
    409 once it ended or while a declined invitation stands, 422 for a time in the past."""
    cmd = RescheduleAppointment(dealer_id, lead_id, appointment_id, **body.model_dump())
    scope = f"appointment-reschedule:{lead_id}:{appointment_id}"
    return await _appointment_step(
        ctx, idempotency_key, dealer_id, scope, body, lambda uc: reschedule_appointment(uc, cmd)
    )


@router.post(
    f"{_STEP}/cancel",
    response_model=AppointmentView,
    responses=_RESPONSES,
    dependencies=[WORKERS],
)
async def post_cancel(
    lead_id: uuid.UUID,
    appointment_id: AppointmentPath,
    dealer_id: DealerQuery,
    body: CancelIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Call the appointment off (AppointmentCancelled: its reminders are cancelled);
    409 once it was attended or missed."""
    cmd = CancelAppointment(dealer_id, lead_id, appointment_id, body.cancelled_by, body.reason)
    scope = f"appointment-cancel:{lead_id}:{appointment_id}"
    return await _appointment_step(
        ctx, idempotency_key, dealer_id, scope, body, lambda uc: cancel_appointment(uc, cmd)
    )


@router.post(
    f"{_STEP}/attended",
    response_model=AppointmentView,
    responses=_RESPONSES,
    dependencies=[WORKERS],
)
async def post_attended(
    lead_id: uuid.UUID,
    appointment_id: AppointmentPath,
    dealer_id: DealerQuery,
    body: AttendedIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """The customer came (AppointmentAttended, and a showroom-visit touch on the lead:
    LeadUpdated); 409 once it was cancelled or missed."""
    cmd = RecordAttendance(dealer_id, lead_id, appointment_id, **body.model_dump())
    scope = f"appointment-attended:{lead_id}:{appointment_id}"
    return await _appointment_step(
        ctx, idempotency_key, dealer_id, scope, body, lambda uc: record_attendance(uc, cmd)
    )


@router.post(
    f"{_STEP}/no-show",
    response_model=AppointmentView,
    responses=_RESPONSES,
    dependencies=[WORKERS],
)
async def post_no_show(
    lead_id: uuid.UUID,
    appointment_id: AppointmentPath,
    dealer_id: DealerQuery,
    body: NoShowIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """The customer did not come (AppointmentNoShow: a follow-up call for the
    consultant); 422 before the appointment's time, 409 once it was cancelled or attended."""
    cmd = RecordNoShow(dealer_id, lead_id, appointment_id, body.consultant_id)
    scope = f"appointment-no-show:{lead_id}:{appointment_id}"
    return await _appointment_step(
        ctx, idempotency_key, dealer_id, scope, body, lambda uc: record_no_show(uc, cmd)
    )
