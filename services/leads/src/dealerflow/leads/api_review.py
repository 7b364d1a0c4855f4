"""HTTP API of the lost-lead review queue: the leads awaiting review and the manager's
decision on one. Thin like ``api``; the POST takes an ``Idempotency-Key``.

Who: the sales manager and the gm (who review lost leads, DOMAIN.md section 1)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from dealerflow.leads.api import PROBLEM, Ctx, DealerQuery, once
from dealerflow.leads.domain import Grade
from dealerflow.leads.repository_review import QUEUE_KEY_KINDS
from dealerflow.leads.schemas_review import LostLeadPageOut, ReviewIn, ReviewOut
from dealerflow.leads.usecases import Uc
from dealerflow.leads.usecases_review import (
    ListLostLeads,
    ReviewLostLead,
    lost_leads_to_review,
    review_lost_lead,
)
from dealerflow.runtime.auth import Role, allow
from dealerflow.runtime.idempotency import IdempotencyKeyHeader
from dealerflow.runtime.pagination import DEFAULT_LIMIT, Cursor, Limit, decode_cursor

router = APIRouter(prefix="/v1", tags=["lead reviews"])

#: Who reviews lost leads.
REVIEWERS = allow(Role.SALES_MANAGER, Role.GM)


@router.get("/lead-reviews", response_model=LostLeadPageOut, dependencies=[REVIEWERS])
async def get_lead_reviews(
    ctx: Ctx,
    dealer_id: DealerQuery,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Annotated[Cursor, Query(max_length=500)] = None,
) -> LostLeadPageOut:
    """The dealer's lost leads (grade F) whose loss is not reviewed yet, the longest
    waiting first."""
    query = ListLostLeads(dealer_id, limit, decode_cursor(cursor, *QUEUE_KEY_KINDS))
    return LostLeadPageOut.of(
        await ctx.run_in_transaction(lambda uc: lost_leads_to_review(uc, query))
    )


@router.post(
    "/leads/{lead_id}/review",
    response_model=ReviewOut,
    responses={404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
    dependencies=[REVIEWERS],
)
async def post_review(
    lead_id: uuid.UUID,
    dealer_id: DealerQuery,
    body: ReviewIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Review the lead's loss (``reviewed_by`` the token's subject): approve it, or reopen
    the lead at a live grade (LeadGraded) with a note. 409 when the lead is not awaiting
    review or the customer has another open lead; 422 reopening without a note."""
    grade = Grade(body.grade) if body.grade is not None else None
    cmd = ReviewLostLead(dealer_id, lead_id, body.decision, body.note, grade)

    async def run(uc: Uc) -> tuple[int, BaseModel]:
        return 200, ReviewOut.of(await review_lost_lead(uc, cmd))

    scope = f"review:{lead_id}"
    return (await once(ctx, idempotency_key, dealer_id, scope, body, run)).response()
