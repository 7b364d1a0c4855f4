"""HTTP API of bad-weather tips (/v1/weather-warnings): the service manager, the GM or
customer relations record a warning; every owner of the dealer gets a tip (at most one per
``owner_care.weather_tip_min_interval``; `usecases_weather`). Thin: one use case in one
transaction; takes ``Idempotency-Key``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status

from dealerflow.notifier.api import Ctx, DealerQuery
from dealerflow.notifier.schemas_weather import WeatherWarningIn, WeatherWarningOut
from dealerflow.notifier.usecases_weather import IssueWeatherWarning, issue_weather_warning
from dealerflow.runtime.auth import Principal, Role, allow
from dealerflow.runtime.idempotency import IdempotencyKeyHeader

router = APIRouter(prefix="/v1")

#: Who may warn every owner of the dealer.
WeatherStaff = Annotated[Principal, allow(Role.SERVICE_MANAGER, Role.GM, Role.CUSTOMER_RELATIONS)]


@router.post(
    "/weather-warnings",
    response_model=WeatherWarningOut,
    status_code=status.HTTP_202_ACCEPTED,
    tags=["notifications"],
    responses={
        422: {
            "description": "Ends before it starts or is over, or the Idempotency-Key was "
            "reused (problem+json)"
        }
    },
)
async def issue_warning(
    ctx: Ctx,
    principal: WeatherStaff,
    dealer_id: DealerQuery,
    body: WeatherWarningIn,
    idempotency_key: IdempotencyKeyHeader = None,
) -> WeatherWarningOut:
    """Record a weather warning: a `weather_tip` (service purpose) to every owner of the
    dealer not tipped within the dealer's minimum interval, sent now (consent and quiet
    hours apply at send time)."""
    cmd = IssueWeatherWarning(
        dealer_id=dealer_id,
        kind=body.kind,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        note=body.note,
        issued_by=principal.subject,
        idempotency_key=idempotency_key,
    )
    return WeatherWarningOut.of(
        await ctx.run_in_transaction(lambda uc: issue_weather_warning(uc, cmd))
    )
