"""HTTP API of the care calendar: the dealer's effective rules (GET /v1/care-calendar) and
a preview of what an event would schedule (POST /v1/care-calendar/preview). For the
store's managers and customer relations (``allow(*CARE_PLANNERS)``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from dealerflow.contracts.types import DEALER_ID_PATTERN
from dealerflow.notifier.schemas_calendar import CareCalendarOut, CarePreviewOut
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases_calendar import PreviewEvent, care_calendar, preview
from dealerflow.runtime.auth import MANAGERS, Role, allow
from dealerflow.runtime.service import ServiceContext, service_context

router = APIRouter(prefix="/v1")

#: Who reads and previews the care calendar.
CARE_PLANNERS = (*MANAGERS, Role.CUSTOMER_RELATIONS)

DealerQuery = Annotated[
    str, Query(pattern=DEALER_ID_PATTERN, description="Dealer (store) code; required.")
]
Ctx = Annotated[ServiceContext[NotifierSettings], Depends(service_context)]


@router.get(
    "/care-calendar",
    response_model=CareCalendarOut,
    tags=["care calendar"],
    dependencies=[allow(*CARE_PLANNERS)],
)
async def get_care_calendar(ctx: Ctx, dealer_id: DealerQuery) -> CareCalendarOut:
    """Every care rule with the dealer's current numbers and whether it is on."""
    view = await ctx.run_in_transaction(lambda uc: care_calendar(uc, dealer_id))
    return CareCalendarOut.of(view)


EventBody = Annotated[
    dict[str, Any],
    Body(
        description="The event as published: a structured CloudEvent (JSON, as on Kafka) "
        "or {type, data} with type the CloudEvents type or the event name.",
        examples=[{"type": "VehicleDelivered", "data": {"dealer_id": "D001", "...": "..."}}],
    ),
]


@router.post(
    "/care-calendar/preview",
    response_model=CarePreviewOut,
    tags=["care calendar"],
    dependencies=[allow(*CARE_PLANNERS)],
    responses={
        403: {"description": "The event is for another dealer."},
        422: {"description": "Not a valid dealerflow event (the reason says why)."},
    },
)
async def preview_care_calendar(
    ctx: Ctx, dealer_id: DealerQuery, event: EventBody
) -> CarePreviewOut:
    """What the notifier would schedule for the event: its real handlers run in a
    transaction that is rolled back, so nothing is kept or published (no Idempotency-Key:
    the preview changes nothing). Not in ``run_in_transaction``: the dry run owns its
    transaction, to roll it back."""
    view = await preview(ctx, PreviewEvent(dealer_id=dealer_id, event=event))
    return CarePreviewOut.of(view)
