"""Use cases of holiday greetings and referral invitations (rules: `domain_greetings`).

Greetings: each dealer with an owner has one pending ``notifier.holiday_greeting`` timer,
for its next greeting (planned when a VehicleDelivered is seen and, at start-up, for every
dealer known here: configured or with an owner; the timer key per holiday date makes both
idempotent). When it fires it plans a ``holiday_greeting`` reminder for every owner
(keyset batches) through `schedule_reminder`, so consent, quiet hours, an open complaint
and the weekly marketing cap decide at send time, then plans the next greeting's timer.

Referral invitations: a satisfaction callback completed ``satisfied`` or a delivery survey
answered with 9 or more plans one ``referral_invitation`` per delivery.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from dealerflow.contracts.care_enums import SurveyKind, TaskKind, TaskOutcome
from dealerflow.contracts.contact import RelatedRecord
from dealerflow.notifier import repository as repo
from dealerflow.notifier import repository_greetings as greetings_repo
from dealerflow.notifier.domain_greetings import (
    HOLIDAY_GREETING,
    delivery_of_satisfied_callback,
    delivery_of_satisfied_survey,
    greeting_timer_key,
    next_greeting,
    plan_greeting,
    plan_referral_invitation,
)
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases_messages import schedule_reminder
from dealerflow.runtime import dealers
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]

#: Owners read per query when a greeting fires.
OWNER_BATCH = 500


async def schedule_next_greeting(uc: Uc, dealer_id: str, after: date | None = None) -> bool:
    """Plan the timer of the dealer's next greeting (after holiday ``after``, or after
    today); False when none is ahead or it was pending already."""
    policy = await uc.policy(dealer_id)
    greeting = next_greeting(policy, uc.now, after)
    if greeting is None:
        return False
    return await uc.schedule_timer(
        key=greeting_timer_key(dealer_id, greeting.on),
        kind=HOLIDAY_GREETING,
        dealer_id=dealer_id,
        due_at=greeting.fire_at,
        payload={"name": greeting.name, "name_en": greeting.name_en, "on": greeting.on.isoformat()},
    )


async def plan_known_dealers_greetings(uc: Uc) -> list[str]:
    """At start-up (acting for every dealer): the next greeting of every dealer known
    here (configured or with an owner) that has none pending; the dealers planned."""
    known = sorted(
        set(await dealers.configured_dealers(uc.conn))
        | set(await greetings_repo.dealers_with_owners(uc.conn))
    )
    return [d for d in known if await schedule_next_greeting(uc, d)]


async def for_every_owner(
    uc: Uc, dealer_id: str, plan_batch: Callable[[list[uuid.UUID]], Awaitable[int]]
) -> int:
    """Run ``plan_batch`` on the dealer's owners in keyset batches of OWNER_BATCH (a
    greeting, a weather tip to every owner); the sum of what it returned."""
    planned = 0
    after: uuid.UUID | None = None
    while True:
        batch = await greetings_repo.owners(uc.conn, dealer_id, after=after, limit=OWNER_BATCH)
        planned += await plan_batch(batch)
        if len(batch) < OWNER_BATCH:
            return planned
        after = batch[-1]


async def fire_holiday_greeting(uc: Uc, dealer_id: str, payload: Mapping[str, Any]) -> int:
    """The day before the holiday: a greeting for every owner, then the next greeting's
    timer; how many greetings were planned."""
    on = date.fromisoformat(str(payload["on"]))

    async def greet(batch: list[uuid.UUID]) -> int:
        planned = 0
        for customer_id in batch:
            contact = await repo.get_contact(uc.conn, dealer_id, customer_id)
            reminder = plan_greeting(
                dealer_id, customer_id, str(payload["name"]), str(payload["name_en"]), on, uc.now
            )
            if await schedule_reminder(uc, reminder, contact) is not None:
                planned += 1
        return planned

    planned = await for_every_owner(uc, dealer_id, greet)
    await schedule_next_greeting(uc, dealer_id, after=on)
    return planned


@dataclass(frozen=True, slots=True)
class CallbackOutcome:
    """A completed task (TaskCompleted) as the referral invitation needs it."""

    dealer_id: str
    customer_id: uuid.UUID
    kind: TaskKind
    outcome: TaskOutcome
    related: RelatedRecord | None
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    """A survey answer (SurveyResponded) as the referral invitation needs it."""

    dealer_id: str
    customer_id: uuid.UUID
    kind: SurveyKind
    score: int
    related: RelatedRecord | None
    responded_at: datetime


async def on_callback_completed(uc: Uc, done: CallbackOutcome) -> bool:
    """A satisfaction callback completed satisfied: the delivery's referral invitation."""
    delivery_id = delivery_of_satisfied_callback(done.kind, done.outcome, done.related)
    if delivery_id is None:
        return False
    return await _invite_to_refer(
        uc, done.dealer_id, done.customer_id, delivery_id, done.completed_at
    )


async def on_survey_answered(uc: Uc, answer: SurveyAnswer) -> bool:
    """A delivery survey scored 9 or more: the delivery's referral invitation."""
    delivery_id = delivery_of_satisfied_survey(answer.kind, answer.score, answer.related)
    if delivery_id is None:
        return False
    return await _invite_to_refer(
        uc, answer.dealer_id, answer.customer_id, delivery_id, answer.responded_at
    )


async def _invite_to_refer(
    uc: Uc, dealer_id: str, customer_id: uuid.UUID, delivery_id: str, satisfied_at: datetime
) -> bool:
    """The owner of ``delivery_id`` is satisfied: plan the referral invitation (once per
    delivery); False when the dealer sends none or it was planned before."""
    policy = await uc.policy(dealer_id)
    reminder = plan_referral_invitation(dealer_id, customer_id, delivery_id, satisfied_at, policy)
    if reminder is None:
        return False
    contact = await repo.get_contact(uc.conn, dealer_id, customer_id)
    return await schedule_reminder(uc, reminder, contact) is not None
