"""HTTP API of customer tiers (/v1/customers/{customer_id}/tier): what the notifier's tier
rules made of a customer's purchases, service spend and referrals at one dealer. Read
only, open to the dealer's staff like the notifier's other reads (``allow(*STAFF)``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from dealerflow.contracts.types import DEALER_ID_PATTERN
from dealerflow.notifier.schemas_tiers import CustomerTierOut
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases_tiers import customer_tier
from dealerflow.runtime.auth import STAFF, allow
from dealerflow.runtime.service import ServiceContext, service_context

router = APIRouter(prefix="/v1")

DealerQuery = Annotated[
    str, Query(pattern=DEALER_ID_PATTERN, description="Dealer (store) code; required.")
]
Ctx = Annotated[ServiceContext[NotifierSettings], Depends(service_context)]


@router.get(
    "/customers/{customer_id}/tier",
    response_model=CustomerTierOut,
    tags=["tiers"],
    dependencies=[allow(*STAFF)],
)
async def get_customer_tier(
    ctx: Ctx, customer_id: uuid.UUID, dealer_id: DealerQuery
) -> CustomerTierOut:
    """The customer's tier at the dealer and its basis (purchases, converted referrals,
    service spend in the window); a customer the notifier knows nothing of is regular."""
    view = await ctx.run_in_transaction(lambda uc: customer_tier(uc, dealer_id, customer_id))
    return CustomerTierOut.of(view)
