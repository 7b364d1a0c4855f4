"""HTTP API of the leads service (``/v1``): thin endpoints, one transaction each.

POST endpoints accept an ``Idempotency-Key`` header: the first response is stored in the
same transaction as the change and a retry with the same key gets it back unchanged.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse

from dealerflow.contracts.identity import InvalidPhoneNumber, normalize_phone
from dealerflow.contracts.inbound import LeadSubmission, LeadSubmissionError, parse_lead_submission
from dealerflow.contracts.types import DEALER_ID_PATTERN
from dealerflow.leads import repository as repo
from dealerflow.leads import usecases_invitation as invitation
from dealerflow.leads import usecases_lifecycle as lifecycle
from dealerflow.leads.domain import is_sales_follow_up_allowed
from dealerflow.leads.schemas import (
    AppointmentIn,
    AppointmentOut,
    AssignIn,
    ContactIn,
    ContactOut,
    ConvertIn,
    DeclineIn,
    LeadDetail,
    LeadPageOut,
    LeadSummary,
    LostIn,
    RosterIn,
    RosterOut,
    SubmissionResponse,
)
from dealerflow.leads.settings import LeadsSettings
from dealerflow.leads.usecases import (
    LeadsContext,
    assign_lead,
    list_leads,
    load_lead,
    set_roster,
    submit_lead,
)
from dealerflow.runtime import idempotency
from dealerflow.runtime.db import DbConnection, transaction
from dealerflow.runtime.idempotency import IdempotencyKeyHeader
from dealerflow.runtime.pagination import DEFAULT_LIMIT, Cursor, Limit
from dealerflow.runtime.problems import Problem, problem_type
from dealerflow.runtime.service import ServiceContext, service_context

router = APIRouter(prefix="/v1", tags=["leads"])

Ctx = Annotated[ServiceContext[Any], Depends(service_context)]
DealerQuery = Annotated[
    str, Query(pattern=DEALER_ID_PATTERN, description="Dealer the lead belongs to (required).")
]
DealerPath = Annotated[str, Path(pattern=DEALER_ID_PATTERN, description="Dealer code.")]

_SUBMISSION_SCHEMA: dict[str, Any] = {
    # Own $id so the schema's "#/$defs/..." references resolve inside it (JSON Schema 2020-12).
    "$id": "https://dealerflow.dev/schemas/LeadSubmission.json",
    **LeadSubmission.model_json_schema(),
}
_ADF_SCHEMA = {"type": "string", "description": "An ADF 1.0 XML document with one <prospect>."}
_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}

# Reasons of LeadSubmissionError that mean "not a readable document" rather than
# "a document the rules refuse" (contracts give the reason text only).
_UNREADABLE = (
    "body is not valid",
    "JSON submission must be an object",
    "malformed XML",
    "unsafe XML",
    "not an ADF document",
    "ADF document has no",
    "unknown XML encoding",
    "empty submission",
)


def leads_context(ctx: ServiceContext[Any]) -> LeadsContext:
    """The use cases' view of the running service."""
    settings = ctx.settings
    if not isinstance(settings, LeadsSettings):
        raise TypeError("the leads service needs LeadsSettings")
    return LeadsContext(settings=settings, clock=ctx.clock, publish=ctx.publish)


def submission_problem(exc: LeadSubmissionError) -> Problem:
    """The HTTP answer to a refused submission, with the parser's reason as detail."""
    reason = exc.reason
    if reason.startswith("unsupported content type"):
        status = 415
    elif reason.startswith("submission too large"):
        status = 413
    elif reason.startswith(_UNREADABLE):
        status = 400
    else:
        status = 422
    return Problem(status, "Invalid lead submission", reason, type=problem_type("invalid-lead"))


async def _once(
    conn: DbConnection,
    dealer_id: str,
    operation: str,
    key: str | None,
    run: Callable[[], Awaitable[tuple[int, Any]]],
) -> JSONResponse:
    """Run ``run`` once per (dealer, operation, Idempotency-Key) and answer with its body;
    a retry gets the first answer back, whatever its body (requests are not compared)."""
    if key is None:
        status, body = await run()
        return JSONResponse(body, status)
    earlier = await idempotency.claim(
        conn, dealer_id=dealer_id, scope=operation, key=key, fingerprint=None
    )
    if earlier is not None and earlier.status_code is not None:
        return JSONResponse(
            earlier.response, earlier.status_code, headers={"Idempotent-Replayed": "true"}
        )
    status, body = await run()
    await idempotency.record_response(
        conn, dealer_id=dealer_id, scope=operation, key=key, status_code=status, response=body
    )
    return JSONResponse(body, status)


@router.post(
    "/leads",
    status_code=201,
    response_model=SubmissionResponse,
    summary="Submit a lead (JSON LeadSubmission or ADF 1.0 XML)",
    description="201 with a new lead (LeadCreated), 200 when the person already has an open "
    "lead at the dealer (a touch: LeadUpdated). 400 unreadable body, 415 unsupported content "
    "type, 422 a submission the rules refuse (e.g. no valid phone number).",
    responses={200: {"model": SubmissionResponse}, 400: _PROBLEM, 415: _PROBLEM, 422: _PROBLEM},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _SUBMISSION_SCHEMA},
                "application/xml": {"schema": _ADF_SCHEMA},
                "text/xml": {"schema": _ADF_SCHEMA},
            },
        }
    },
)
async def submit(
    request: Request,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
    dealer_id: Annotated[
        str | None,
        Query(pattern=DEALER_ID_PATTERN, description="Dealer, when the body names none."),
    ] = None,
    consultant_id: Annotated[
        str | None, Query(max_length=64, description="Assign to this consultant.")
    ] = None,
    dealer_group: Annotated[
        str | None,
        Header(alias="X-Dealer-Group", max_length=64, description="Group for customer ids."),
    ] = None,
) -> JSONResponse:
    lc = leads_context(ctx)
    body = await request.body()
    try:
        submission = parse_lead_submission(
            body,
            request.headers.get("content-type", ""),
            default_region=lc.settings.default_region,
            dealer_id=dealer_id,
        )
    except LeadSubmissionError as exc:
        raise submission_problem(exc) from None
    if dealer_id is not None and submission.dealer_id != dealer_id:
        raise Problem(422, "Dealer mismatch", "dealer_id in the query and the body differ")
    target = submission.dealer_id or ""

    async def run() -> tuple[int, Any]:
        result = await submit_lead(
            conn, lc, submission, dealer_group=dealer_group, consultant_id=consultant_id
        )
        out = SubmissionResponse(
            dealer_id=result.dealer_id,
            lead_id=result.lead_id,
            customer_id=result.customer_id,
            created=result.created,
            deduplicated=result.deduplicated,
            replayed=result.replayed,
            consultant_id=result.consultant_id,
        )
        return (201 if result.created else 200), out.model_dump(mode="json")

    async with transaction(ctx.db) as conn:
        response = await _once(conn, target, "submit", idempotency_key, run)
    if response.status_code in (200, 201) and target:
        lead_id = json.loads(bytes(response.body))["lead_id"]
        response.headers["Location"] = f"/v1/leads/{lead_id}?dealer_id={target}"
    return response


@router.put("/dealers/{dealer_id}/consultants", response_model=RosterOut)
async def put_roster(dealer_id: DealerPath, roster: RosterIn, ctx: Ctx) -> RosterOut:
    """Replace the dealer's consultant roster; on-duty consultants get new leads in turn."""
    async with transaction(ctx.db) as conn:
        entries = await set_roster(
            conn,
            leads_context(ctx),
            dealer_id,
            [(c.consultant_id, c.name, c.on_duty) for c in roster.consultants],
        )
    return RosterOut(dealer_id=dealer_id, consultants=[e.__dict__ for e in entries])


@router.get("/dealers/{dealer_id}/consultants", response_model=RosterOut)
async def get_roster(dealer_id: DealerPath, ctx: Ctx) -> RosterOut:
    async with transaction(ctx.db) as conn:
        entries = await repo.list_roster(conn, dealer_id)
    return RosterOut(dealer_id=dealer_id, consultants=[e.__dict__ for e in entries])


@router.get("/leads", response_model=LeadPageOut)
async def get_leads(
    ctx: Ctx,
    dealer_id: DealerQuery,
    status: Literal["open", "converted", "delivered", "lost"] | None = None,
    grade: Literal["N", "H", "A", "B", "C", "O", "D", "F"] | None = None,
    consultant_id: Annotated[str | None, Query(max_length=64)] = None,
    phone: Annotated[str | None, Query(max_length=40, description="Any spelling.")] = None,
    customer_id: uuid.UUID | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Annotated[Cursor, Query(max_length=500)] = None,
) -> LeadPageOut:
    """The dealer's leads, customer referrals first, then newest first."""
    phone_e164 = None
    if phone is not None:
        try:
            phone_e164 = normalize_phone(phone, leads_context(ctx).settings.default_region)
        except InvalidPhoneNumber as exc:
            raise Problem(422, "Invalid phone number", str(exc)) from None
    where = repo.LeadFilter(status, grade, consultant_id, phone_e164, customer_id)
    async with transaction(ctx.db) as conn:
        page = await list_leads(conn, dealer_id, where, limit=limit, cursor=cursor)
    return LeadPageOut(
        items=[LeadSummary.of(lead) for lead in page.items], next_cursor=page.next_cursor
    )


@router.get("/leads/{lead_id}", response_model=LeadDetail, responses={404: _PROBLEM})
async def get_lead(lead_id: uuid.UUID, dealer_id: DealerQuery, ctx: Ctx) -> LeadDetail:
    """One lead with its contact log, appointments, assignments and submissions."""
    async with transaction(ctx.db) as conn:
        lead = await load_lead(conn, dealer_id, lead_id)
        history = await repo.history(conn, dealer_id, lead_id)
    snapshot = lead.snapshot()
    return LeadDetail(
        **LeadSummary.of(lead).model_dump(),
        contact=lead.contact,
        interest=lead.interest,
        referrer_customer_id=lead.referrer_customer_id,
        graded_at=lead.graded_at,
        invitation_declined_at=lead.invitation_declined_at,
        reengaged_at=lead.reengaged_at,
        sales_follow_up_allowed=is_sales_follow_up_allowed(snapshot),
        lost_reason=lead.lost_reason,
        lost_note=lead.lost_note,
        contract_id=lead.contract_id,
        closed_at=lead.closed_at,
        **history,
    )


_ACTION_RESPONSES: dict[int | str, dict[str, Any]] = {404: _PROBLEM, 409: _PROBLEM, 422: _PROBLEM}


@router.post(
    "/leads/{lead_id}/contacts",
    status_code=201,
    response_model=ContactOut,
    responses=_ACTION_RESPONSES,
)
async def post_contact(
    lead_id: uuid.UUID,
    dealer_id: DealerQuery,
    entry: ContactIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Log a contact (LeadContacted; LeadGraded when the grade changes)."""
    lc = leads_context(ctx)

    async def run() -> tuple[int, Any]:
        lead, entry_id = await lifecycle.log_contact(
            conn, lc, dealer_id, lead_id, lifecycle.ContactInput(**entry.model_dump())
        )
        return 201, ContactOut(entry_id=entry_id, lead=LeadSummary.of(lead)).model_dump(mode="json")

    async with transaction(ctx.db) as conn:
        return await _once(conn, dealer_id, f"contacts:{lead_id}", idempotency_key, run)


@router.post("/leads/{lead_id}/assign", response_model=LeadSummary, responses=_ACTION_RESPONSES)
async def post_assign(
    lead_id: uuid.UUID,
    dealer_id: DealerQuery,
    body: AssignIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Reassign the lead (LeadAssigned); without consultant_id, the next one on duty."""
    lc = leads_context(ctx)

    async def run() -> tuple[int, Any]:
        lead = await assign_lead(
            conn,
            lc,
            dealer_id,
            lead_id,
            consultant_id=body.consultant_id,
            assigned_by=body.assigned_by,
            reason=body.reason,
        )
        return 200, LeadSummary.of(lead).model_dump(mode="json")

    async with transaction(ctx.db) as conn:
        return await _once(conn, dealer_id, f"assign:{lead_id}", idempotency_key, run)


@router.post("/leads/{lead_id}/lost", response_model=LeadSummary, responses=_ACTION_RESPONSES)
async def post_lost(
    lead_id: uuid.UUID, dealer_id: DealerQuery, body: LostIn, ctx: Ctx
) -> LeadSummary:
    """Close the lead as lost with a reason (LeadGraded F + LeadLost)."""
    async with transaction(ctx.db) as conn:
        lead = await lifecycle.mark_lost(
            conn,
            leads_context(ctx),
            dealer_id,
            lead_id,
            reason=body.reason,
            note=body.reason_note,
        )
    return LeadSummary.of(lead)


@router.post(
    "/leads/{lead_id}/appointments",
    status_code=201,
    response_model=AppointmentOut,
    responses={200: {"model": AppointmentOut}, **_ACTION_RESPONSES},
)
async def post_appointment(
    lead_id: uuid.UUID, dealer_id: DealerQuery, body: AppointmentIn, ctx: Ctx
) -> JSONResponse:
    """Book a store visit or test drive (AppointmentScheduled); 200 for a known id."""
    async with transaction(ctx.db) as conn:
        appointment_id, created = await invitation.schedule_appointment(
            conn,
            leads_context(ctx),
            dealer_id,
            lead_id,
            invitation.AppointmentInput(**body.model_dump()),
        )
    out = AppointmentOut(appointment_id=appointment_id, lead_id=lead_id, created=created)
    return JSONResponse(out.model_dump(mode="json"), 201 if created else 200)


@router.post(
    "/leads/{lead_id}/decline-invitation",
    response_model=LeadSummary,
    responses=_ACTION_RESPONSES,
)
async def post_decline(
    lead_id: uuid.UUID, dealer_id: DealerQuery, body: DeclineIn, ctx: Ctx
) -> LeadSummary:
    """The prospect declined the invitation (InvitationDeclined): no pitching until they
    re-engage."""
    async with transaction(ctx.db) as conn:
        lead = await invitation.decline_invitation(
            conn,
            leads_context(ctx),
            dealer_id,
            lead_id,
            consultant_id=body.consultant_id,
            reason=body.reason,
        )
    return LeadSummary.of(lead)


@router.post("/leads/{lead_id}/convert", response_model=LeadSummary, responses=_ACTION_RESPONSES)
async def post_convert(
    lead_id: uuid.UUID, dealer_id: DealerQuery, body: ConvertIn, ctx: Ctx
) -> LeadSummary:
    """A contract was signed (LeadGraded O + LeadConverted); repeating it is a no-op."""
    async with transaction(ctx.db) as conn:
        lc = leads_context(ctx)
        lead = await load_lead(conn, dealer_id, lead_id, for_update=True)
        lead, _ = await lifecycle.convert_lead(
            conn, lc, lead, contract_id=body.contract_id, converted_at=body.converted_at
        )
    return LeadSummary.of(lead)
