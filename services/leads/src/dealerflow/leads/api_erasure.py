"""HTTP API of customer erasure (``/v1/customers/{customer_id}/erasure``): PIPL Art. 47 /
GDPR Art. 17 requests, recorded at leads and carried out by every service on the
``CustomerErasureRequested`` event. Thin like ``api``.

Who: recording an erasure is the gm's (the store's data controller; admin always may);
reading the requests is for managers and customer relations (who answer the customer).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from dealerflow.leads.api import PROBLEM, Ctx, DealerQuery, once
from dealerflow.leads.schemas import ErasureIn, ErasureOut, ErasuresOut
from dealerflow.leads.usecases import Uc
from dealerflow.leads.usecases_erasure import RequestErasure, erasures_of, request_erasure
from dealerflow.runtime.auth import MANAGERS, Role, allow
from dealerflow.runtime.idempotency import IdempotencyKeyHeader

router = APIRouter(prefix="/v1", tags=["erasure"])

#: Who records an erasure request.
ERASERS = allow(Role.GM)
#: Who reads a customer's erasure requests.
ERASURE_READERS = allow(*MANAGERS, Role.CUSTOMER_RELATIONS)

CustomerPath = Annotated[uuid.UUID, Path(description="The customer's dealerflow id.")]


@router.post(
    "/customers/{customer_id}/erasure",
    status_code=202,
    response_model=ErasureOut,
    responses={422: PROBLEM},
    dependencies=[ERASERS],
)
async def post_erasure(
    customer_id: CustomerPath,
    body: ErasureIn,
    ctx: Ctx,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Record that the customer asked to have their personal data erased at the store and
    publish ``CustomerErasureRequested``: leads, sales, service-center, complaints and the
    notifier anonymise the customer's contact data, notes and ID numbers there and keep
    the business records (202: it is carried out asynchronously, within seconds). The
    request is accepted for any customer id, known here or only to another service."""

    async def run(uc: Uc) -> tuple[int, BaseModel]:
        command = RequestErasure(body.dealer_id, customer_id, body.basis, uc.actor or "unknown")
        return 202, ErasureOut.of(await request_erasure(uc, command))

    scope = f"erasure:{customer_id}"
    return (await once(ctx, idempotency_key, body.dealer_id, scope, body, run)).response()


@router.get(
    "/customers/{customer_id}/erasure",
    response_model=ErasuresOut,
    dependencies=[ERASURE_READERS],
)
async def get_erasures(customer_id: CustomerPath, dealer_id: DealerQuery, ctx: Ctx) -> ErasuresOut:
    """The customer's erasure requests at the store, newest first (empty when none)."""
    found = await ctx.run_in_transaction(lambda uc: erasures_of(uc, dealer_id, customer_id))
    return ErasuresOut(items=[ErasureOut.of(e) for e in found])
