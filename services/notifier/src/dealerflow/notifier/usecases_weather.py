"""Use cases of bad-weather tips (rules: `domain_weather`): a warning recorded by staff
(``POST /v1/weather-warnings``) schedules a durable timer due at once; when it fires, every
owner of the dealer (keyset batches, `usecases_greetings.for_every_owner`) without a tip
within ``owner_care.weather_tip_min_interval`` gets a ``weather_tip`` reminder through
`schedule_reminder` (consent and quiet hours decide at send time). The warning itself is
kept in its timer (no table): a retry with the same Idempotency-Key answers the first
request's warning id."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dealerflow.notifier import repository as repo
from dealerflow.notifier import repository_weather as weather_repo
from dealerflow.notifier.domain_weather import (
    WEATHER_WARNING,
    WeatherKind,
    WeatherWarning,
    check_warning,
    plan_weather_tip,
    tip_allowed,
    weather_timer_key,
)
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases_greetings import for_every_owner
from dealerflow.notifier.usecases_messages import schedule_reminder
from dealerflow.runtime import idempotency
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]
log = logging.getLogger("dealerflow.notifier")


@dataclass(frozen=True)
class IssueWeatherWarning:
    """A weather warning for the dealer's area (``POST /v1/weather-warnings``)."""

    dealer_id: str
    kind: WeatherKind
    starts_at: datetime
    ends_at: datetime | None = None
    note: str | None = None
    issued_by: str | None = None
    #: the request's Idempotency-Key: a retry with it gets the first warning back
    idempotency_key: str | None = None


async def issue_weather_warning(uc: Uc, cmd: IssueWeatherWarning) -> WeatherWarning:
    """Check the warning and schedule its fan-out (due at once). Raises
    WeatherWarningRefused (ends before it starts, or is over) or IdempotencyKeyReused."""
    warning = WeatherWarning(
        warning_id=uuid.uuid4(),
        dealer_id=cmd.dealer_id,
        kind=cmd.kind,
        starts_at=cmd.starts_at,
        ends_at=cmd.ends_at,
        note=cmd.note,
    )
    key = idempotency.request_key(cmd.idempotency_key, None)
    request = None if key is None else idempotency.RequestKey(key, idempotency.fingerprint_of(cmd))
    earlier = await idempotency.claimed_resource(
        uc.conn,
        request,
        dealer_id=cmd.dealer_id,
        scope="weather-warning",
        resource_id=warning.warning_id,
    )
    if earlier is not None:
        return WeatherWarning(
            earlier, cmd.dealer_id, cmd.kind, cmd.starts_at, cmd.ends_at, cmd.note
        )
    check_warning(warning, uc.now)  # after the claim: a retry gets its answer, even later
    await uc.schedule_timer(
        key=weather_timer_key(cmd.dealer_id, warning.warning_id),
        kind=WEATHER_WARNING,
        dealer_id=cmd.dealer_id,
        due_at=uc.now,
        payload={
            "warning_id": str(warning.warning_id),
            "kind": warning.kind.value,
            "starts_at": warning.starts_at.isoformat(),
            "ends_at": warning.ends_at.isoformat() if warning.ends_at else None,
            "note": warning.note,
            "issued_by": cmd.issued_by,
        },
    )
    log.info(
        "dealer %s: %s warning %s by %s",
        cmd.dealer_id,
        warning.kind.value,
        warning.warning_id,
        cmd.issued_by,
    )
    return warning


def _warning_of(dealer_id: str, payload: Mapping[str, Any]) -> WeatherWarning:
    ends = payload.get("ends_at")
    return WeatherWarning(
        warning_id=uuid.UUID(str(payload["warning_id"])),
        dealer_id=dealer_id,
        kind=WeatherKind(str(payload["kind"])),
        starts_at=datetime.fromisoformat(str(payload["starts_at"])),
        ends_at=datetime.fromisoformat(str(ends)) if ends else None,
        note=payload.get("note"),
    )


async def fire_weather_warning(uc: Uc, dealer_id: str, payload: Mapping[str, Any]) -> int:
    """The warning's fan-out: a tip to every owner not tipped within the dealer's
    ``weather_tip_min_interval``; how many tips were planned."""
    warning = _warning_of(dealer_id, payload)
    policy = await uc.policy(dealer_id)

    async def tip(batch: list[uuid.UUID]) -> int:
        last = await weather_repo.last_weather_tips(uc.conn, dealer_id, batch)
        planned = 0
        for customer_id in batch:
            if not tip_allowed(last.get(customer_id), uc.now, policy):
                continue
            contact = await repo.get_contact(uc.conn, dealer_id, customer_id)
            reminder = plan_weather_tip(warning, customer_id, uc.now, policy)
            if await schedule_reminder(uc, reminder, contact) is not None:
                planned += 1
        return planned

    planned = await for_every_owner(uc, dealer_id, tip)
    log.info("dealer %s: weather warning %s: %d tips", dealer_id, warning.warning_id, planned)
    return planned
