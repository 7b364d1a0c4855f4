"""HTTP API of the steps on a lead (``/v1/leads/{lead_id}/...``): contact log,
(re)assignment, loss, appointments, a declined invitation and conversion. Thin like
``api``; every step takes an ``Idempotency-Key`` (see ``api.once``).

Who: the contact log, appointments, a declined invitation and a loss are the
consultant's and the sales manager's; (re)assignment is the sales manager's and the gm's;
conversion (a signed contract) is who signs contracts: consultant, sales manager, gm and
integrations (a DMS pushing the contract)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from dealerflow.leads.api import PROBLEM, Ctx, DealerQuery, once
from dealerflow.leads.records import LeadRecord
from dealerflow.leads.schemas import (
    AppointmentIn,
    AppointmentOut,
    AssignIn,
    ContactIn,
    ContactOut,
    ConvertIn,
    DeclineIn,
    LeadSummary,
    LostIn,
    MergeIn,
)
from dealerflow.leads.settings import LeadsSettings
from dealerflow.leads.usecases import AssignLead, Uc, assign_lead
from dealerflow.leads.usecases_invitation import (
    DeclineInvitation,
    ScheduleAppointment,
    decline_invitation,
    schedule_appointment,
)
from dealerflow.leads.usecases_lifecycle import (
    ConvertLead,
    LogContact,
    MarkLost,
    convert_lead,
    log_contact,
    mark_lost,
)
from dealerflow.leads.usecases_merge import MergeLeads, merge_leads
from dealerflow.runtime.auth import Role, allow
from dealerflow.runtime.idempotency import IdempotencyKeyHeader
from dealerflow.runtime.service import ServiceContext

router = APIRouter(prefix="/v1", tags=["leads"])

#: Who works a lead: contact log, appointments, declined invitation, loss.
WORKERS = allow(Role.CONSULTANT, Role.SALES_MANAGER)
#: Who (re)assigns or merges leads (manager-only).
ASSIGNERS = allow(Role.SALES_MANAGER, Role.GM)
#: Who converts a lead (a signed contract): who signs contracts, and a DMS.
CONVERTERS = allow(Role.CONSULTANT, Role.SALES_MANAGER, Role.GM, Role.INTEGRATION)

_ACTION_RESPONSES: dict[int | str, dict[str, Any]] = {404: PROBLEM, 409: PROBLEM, 422: PROBLEM}


async def _lead_step(
    ctx: ServiceContext[LeadsSettings],
    key: str | None,
    dealer_id: str,
    scope: str,
    request: BaseModel,
    use_case: Callable[[Uc], Awaitable[LeadRecord]],
) -> JSONResponse:
    """A step on a lead answered with the lead (200), once per Idempotency-Key."""

    async def run(uc: Uc) -> tuple[int, BaseModel]:
        return 200, LeadSummary.of(await use_case(uc))

    return (await once(ctx, key, dealer_id, scope, request, run)).response()


@router.post(
    "/leads/{lead_id}/contacts",
    status_code=201,
    response_model=ContactOut,
    responses=_ACTION_RESPONSES,
    dependencies=[WORKERS],
)
async def post_contact(
    lead_id: uuid.UUID,
    dealer_id: DealerQuery,
    entry: ContactIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Log a contact (LeadContacted; LeadGraded when the grade changes)."""
    cmd = LogContact(dealer_id, lead_id, **entry.model_dump())

    async def run(uc: Uc) -> tuple[int, BaseModel]:
        return 201, ContactOut.of(await log_contact(uc, cmd))

    scope = f"contacts:{lead_id}"
    return (await once(ctx, idempotency_key, dealer_id, scope, entry, run)).response()


@router.post(
    "/leads/{lead_id}/assign",
    response_model=LeadSummary,
    responses=_ACTION_RESPONSES,
    dependencies=[ASSIGNERS],
)
async def post_assign(
    lead_id: uuid.UUID,
    dealer_id: DealerQuery,
    body: AssignIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Reassign the lead (LeadAssigned, ``assigned_by`` the token's subject); without
    consultant_id, the next available one (the dealer's assignment strategy)."""
    cmd = AssignLead(dealer_id, lead_id, body.consultant_id, reason=body.reason)

    scope = f"assign:{lead_id}"
    return await _lead_step(
        ctx, idempotency_key, dealer_id, scope, body, lambda uc: assign_lead(uc, cmd)
    )


@router.post(
    "/leads/{lead_id}/lost",
    response_model=LeadSummary,
    responses=_ACTION_RESPONSES,
    dependencies=[WORKERS],
)
async def post_lost(
    lead_id: uuid.UUID,
    dealer_id: DealerQuery,
    body: LostIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Close the lead as lost with a reason (LeadGraded F + LeadLost)."""
    cmd = MarkLost(dealer_id, lead_id, body.reason, body.reason_note)

    scope = f"lost:{lead_id}"
    return await _lead_step(
        ctx, idempotency_key, dealer_id, scope, body, lambda uc: mark_lost(uc, cmd)
    )


@router.post(
    "/leads/{lead_id}/merge",
    response_model=LeadSummary,
    responses=_ACTION_RESPONSES,
    dependencies=[ASSIGNERS],
)
async def post_merge(
    lead_id: uuid.UUID,
    dealer_id: DealerQuery,
    body: MergeIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Merge duplicate leads of the same person into this one (LeadMerged): their contact
    log, appointments, assignments and submissions join this lead, they close as merged,
    and a later submission from their numbers touches this lead."""
    cmd = MergeLeads(dealer_id, lead_id, tuple(body.merged_lead_ids))

    scope = f"merge:{lead_id}"
    return await _lead_step(
        ctx, idempotency_key, dealer_id, scope, body, lambda uc: merge_leads(uc, cmd)
    )


@router.post(
    "/leads/{lead_id}/appointments",
    status_code=201,
    response_model=AppointmentOut,
    responses={200: {"model": AppointmentOut}, **_ACTION_RESPONSES},
    dependencies=[WORKERS],
)
async def post_appointment(
    lead_id: uuid.UUID,
    dealer_id: DealerQuery,
    body: AppointmentIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Book a store visit or test drive (AppointmentScheduled); 200 for a known id."""
    cmd = ScheduleAppointment(dealer_id, lead_id, **body.model_dump())

    async def run(uc: Uc) -> tuple[int, BaseModel]:
        booked = await schedule_appointment(uc, cmd)
        return (201 if booked.created else 200), AppointmentOut.of(booked)

    scope = f"appointments:{lead_id}"
    return (await once(ctx, idempotency_key, dealer_id, scope, body, run)).response()


@router.post(
    "/leads/{lead_id}/decline-invitation",
    response_model=LeadSummary,
    responses=_ACTION_RESPONSES,
    dependencies=[WORKERS],
)
async def post_decline(
    lead_id: uuid.UUID,
    dealer_id: DealerQuery,
    body: DeclineIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """The prospect declined the invitation (InvitationDeclined): no pitching until they
    re-engage."""
    cmd = DeclineInvitation(dealer_id, lead_id, body.consultant_id, body.reason)

    scope = f"decline:{lead_id}"
    return await _lead_step(
        ctx, idempotency_key, dealer_id, scope, body, lambda uc: decline_invitation(uc, cmd)
    )


@router.post(
    "/leads/{lead_id}/convert",
    response_model=LeadSummary,
    responses=_ACTION_RESPONSES,
    dependencies=[CONVERTERS],
)
async def post_convert(
    lead_id: uuid.UUID,
    dealer_id: DealerQuery,
    body: ConvertIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """A contract was signed (LeadGraded O + LeadConverted); repeating it is a no-op."""
    cmd = ConvertLead(dealer_id, lead_id, body.contract_id, body.converted_at)

    scope = f"convert:{lead_id}"
    return await _lead_step(
        ctx, idempotency_key, dealer_id, scope, body, lambda uc: convert_lead(uc, cmd)
    )
