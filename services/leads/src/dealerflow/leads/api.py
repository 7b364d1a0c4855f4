"""HTTP API of the leads service (``/v1``): validate, build a command, run one use case
in one transaction (``ctx.run_in_transaction``), answer with its view. Domain
exceptions become problems through ``problems.PROBLEMS``.

Every create/step POST accepts an ``Idempotency-Key`` (:mod:`dealerflow.runtime.idempotency`):
the first answer is stored in the same transaction as the change and a retry with the
same key and request gets it back (``Idempotent-Replayed: true``); the same key with a
different request is a 422.

Who may call what (``allow``, shown as ``x-roles`` in the OpenAPI): reads of a dealer's leads
and consultants are every staff role's and integrations' (a DMS or CRM reads them);
submitting a lead is for consultants, sales managers, gms and integrations (lead
providers); the steps on a lead are in ``api_actions``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from dealerflow.contracts.identity import InvalidPhoneNumber, normalize_phone
from dealerflow.contracts.inbound import LeadSubmission, LeadSubmissionError, parse_lead_submission
from dealerflow.contracts.types import DEALER_ID_PATTERN
from dealerflow.leads.repository import LIST_KEY_KINDS, LeadFilter
from dealerflow.leads.schemas import (
    ConsultantsOut,
    LeadDetail,
    LeadEditIn,
    LeadPageOut,
    SubmissionResponse,
    SubmitRequest,
)
from dealerflow.leads.settings import LeadsSettings
from dealerflow.leads.usecases import (
    ListLeads,
    Uc,
    consultants_of,
    lead_dossier,
    list_leads,
)
from dealerflow.leads.usecases_edit import EditLead, edit_lead
from dealerflow.leads.usecases_submission import SubmitLead, submit_lead
from dealerflow.runtime import idempotency
from dealerflow.runtime.auth import STAFF, DealerNotCovered, Principal, Role, allow
from dealerflow.runtime.idempotency import IdempotencyKeyHeader
from dealerflow.runtime.pagination import DEFAULT_LIMIT, Cursor, Limit, decode_cursor
from dealerflow.runtime.problems import Problem, problem_type
from dealerflow.runtime.service import ServiceContext, service_context
from dealerflow.runtime.time_bounds import EVENT_TIME, check_request_time

router = APIRouter(prefix="/v1", tags=["leads"])

#: Who reads a dealer's leads and consultants.
READERS: tuple[Role, ...] = (*STAFF, Role.INTEGRATION)
#: Who submits a lead (staff keying in a walk-in or a call; lead providers' systems).
SUBMITTERS: tuple[Role, ...] = (Role.CONSULTANT, Role.SALES_MANAGER, Role.GM, Role.INTEGRATION)

Ctx = Annotated[ServiceContext[LeadsSettings], Depends(service_context)]
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
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}

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
    "document nested",  # too deep (ADF or JSON)
    "document has more than",  # too many ADF elements
    "document too large",
)


def submission_problem(exc: LeadSubmissionError) -> Problem:
    """The HTTP answer to an unparsable submission, with the parser's reason as detail."""
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


@dataclass(frozen=True)
class Answer:
    """A POST's answer: status and JSON body, first given or replayed for a retry."""

    status: int
    body: Any
    replayed: bool = False

    def response(self, headers: dict[str, str] | None = None) -> JSONResponse:
        replayed = {"Idempotent-Replayed": "true"} if self.replayed else {}
        return JSONResponse(self.body, self.status, headers={**(headers or {}), **replayed})


async def once(
    ctx: ServiceContext[LeadsSettings],
    key: str | None,
    dealer_id: str,
    scope: str,
    request: BaseModel,
    run: Callable[[Uc], Awaitable[tuple[int, BaseModel]]],
) -> Answer:
    """``run`` (status and view) in one transaction, once per (dealer, scope, key): a
    retry of ``request`` gets the stored answer; another request with the key is the
    runtime's 422 ``idempotency-key-reused``. Without a key it simply runs."""

    async def work(uc: Uc) -> Answer:
        if key is not None:
            fingerprint = idempotency.request_fingerprint(request)
            earlier = await idempotency.claim(
                uc.conn, dealer_id=dealer_id, scope=scope, key=key, fingerprint=fingerprint
            )
            if earlier is not None and earlier.status_code is not None:
                return Answer(earlier.status_code, earlier.response, replayed=True)
        status, view = await run(uc)
        body = view.model_dump(mode="json")
        if key is not None:
            await idempotency.record_response(
                uc.conn,
                dealer_id=dealer_id,
                scope=scope,
                key=key,
                status_code=status,
                response=body,
            )
        return Answer(status, body)

    return await ctx.run_in_transaction(work)


# --- submissions and consultants ------------------------------------------------------


@router.post(
    "/leads",
    status_code=201,
    response_model=SubmissionResponse,
    summary="Submit a lead (JSON LeadSubmission or ADF 1.0 XML)",
    description="201 with a new lead (LeadCreated), 200 when the person already has an open "
    "lead at the dealer (a touch: LeadUpdated). 400 unreadable body, 415 unsupported content "
    "type, 422 a submission the rules refuse (e.g. no valid phone number).",
    responses={200: {"model": SubmissionResponse}, 400: PROBLEM, 415: PROBLEM, 422: PROBLEM},
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
    principal: Annotated[Principal, allow(*SUBMITTERS)],
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
    try:
        submission = parse_lead_submission(
            await request.body(),
            request.headers.get("content-type", ""),
            default_region=ctx.settings.default_region,
            dealer_id=dealer_id,
        )
    except LeadSubmissionError as exc:
        raise submission_problem(exc) from None
    # the bound the inbound topic's consumer applies to the same field
    check_request_time(("body", "requested_at"), submission.requested_at, EVENT_TIME)
    if dealer_id is not None and submission.dealer_id != dealer_id:
        raise Problem(422, "Dealer mismatch", "dealer_id in the query and the body differ")
    await _check_covers(ctx, principal, submission.dealer_id or "")
    cmd = SubmitLead(submission, dealer_group, consultant_id)

    async def run(uc: Uc) -> tuple[int, BaseModel]:
        result = await submit_lead(uc, cmd)
        return (201 if result.created else 200), SubmissionResponse.of(result)

    target = submission.dealer_id or ""
    request_body = SubmitRequest(
        submission=submission, consultant_id=consultant_id, dealer_group=dealer_group
    )
    answer = await once(ctx, idempotency_key, target, "submit", request_body, run)
    return answer.response({"Location": f"/v1/leads/{answer.body['lead_id']}?dealer_id={target}"})


async def _check_covers(
    ctx: ServiceContext[LeadsSettings], principal: Principal, dealer_id: str
) -> None:
    # the runtime checks a dealer_id in the query or a JSON body's top level; an ADF
    # document names its dealer inside the XML, so the parsed submission is checked too
    group = await ctx.dealer_group_of(dealer_id) if principal.dealer_group else None
    if not principal.covers(dealer_id, group):
        raise DealerNotCovered(f"the token may not act for dealer {dealer_id}")


@router.get(
    "/dealers/{dealer_id}/consultants",
    response_model=ConsultantsOut,
    dependencies=[allow(*READERS)],
)
async def get_consultants(dealer_id: DealerPath, ctx: Ctx) -> ConsultantsOut:
    """The dealer's consultants (from its people in the dealer configuration), who gets
    new leads today and how many open leads each holds. Read-only: the people are changed
    in the dealers service (``PUT /v1/dealers/{dealer_id}/people``)."""
    return ConsultantsOut.of(await ctx.run_in_transaction(lambda uc: consultants_of(uc, dealer_id)))


# --- reading leads --------------------------------------------------------------------


@router.get("/leads", response_model=LeadPageOut, dependencies=[allow(*READERS)])
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
            phone_e164 = normalize_phone(phone, ctx.settings.default_region)
        except InvalidPhoneNumber as exc:
            raise Problem(422, "Invalid phone number", str(exc)) from None
    where = LeadFilter(status, grade, consultant_id, phone_e164, customer_id)
    query = ListLeads(dealer_id, where, limit, decode_cursor(cursor, *LIST_KEY_KINDS))
    return LeadPageOut.of(await ctx.run_in_transaction(lambda uc: list_leads(uc, query)))


@router.get(
    "/leads/{lead_id}",
    response_model=LeadDetail,
    responses={404: PROBLEM},
    dependencies=[allow(*READERS)],
)
async def get_lead(lead_id: uuid.UUID, dealer_id: DealerQuery, ctx: Ctx) -> LeadDetail:
    """One lead with its contact log, appointments, assignments and submissions."""
    return LeadDetail.of(
        await ctx.run_in_transaction(lambda uc: lead_dossier(uc, dealer_id, lead_id))
    )


@router.patch(
    "/leads/{lead_id}",
    response_model=LeadDetail,
    responses={404: PROBLEM, 422: PROBLEM},
    dependencies=[allow(Role.CONSULTANT, Role.SALES_MANAGER)],
)
async def patch_lead(
    lead_id: uuid.UUID, dealer_id: DealerQuery, body: LeadEditIn, ctx: Ctx
) -> LeadDetail:
    """Edit the lead's interest (models, vehicle type, budget, use, current vehicle,
    purchase horizon, notes) as a JSON merge patch: given fields change, null clears one.
    Publishes LeadUpdated (reason edited, the changed fields) when something changed."""
    cmd = EditLead(dealer_id, lead_id, body.model_dump(exclude_unset=True, mode="json"))
    return LeadDetail.of(await ctx.run_in_transaction(lambda uc: edit_lead(uc, cmd)))
