"""Holiday greetings and referral invitations (owner care, marketing): pure rules.

A dealer's greetings (``owner_care.greetings``) go out the day before each holiday at
10:00 dealer-local: one durable timer per dealer and greeting (:func:`next_greeting`),
which plans a ``holiday_greeting`` reminder for every owner (:func:`plan_greeting`) and
then the timer of the next greeting. The contact policy (consent, quiet hours, the open
complaint, the marketing cap) is applied when each message falls due (`decide_send`).

A satisfied owner gets one ``referral_invitation`` per delivery
``owner_care.referral_invitation_after`` later (:func:`plan_referral_invitation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID

from dealerflow.contracts.care_enums import (
    RecordKind,
    ReminderKind,
    SurveyKind,
    TaskKind,
    TaskOutcome,
)
from dealerflow.contracts.contact import RelatedRecord
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.notifier.domain_types import PlannedReminder, RecordRef
from dealerflow.policy import DealerPolicy

#: Timer kind of a dealer's next holiday greeting.
HOLIDAY_GREETING = "notifier.holiday_greeting"
#: Dealer-local time of day, the day before the holiday, at which greetings are planned.
GREETING_TIME = time(10, 0)
#: Lowest survey score that counts as a satisfied owner (0-10 scale).
REFERRAL_MIN_SCORE = 9


@dataclass(frozen=True, slots=True)
class NextGreeting:
    """The dealer's next greeting: the holiday, and when its messages are planned."""

    name: str
    name_en: str
    on: date
    fire_at: datetime


def next_greeting(policy: DealerPolicy, now: datetime, after: date | None) -> NextGreeting | None:
    """The earliest greeting of the dealer's list still ahead: its holiday after ``after``
    (the greeting just sent) or, with None, after dealer-local today; planned the day
    before at 10:00 local (at ``now`` if that moment has passed). None: nothing ahead."""
    tz = policy.calendar.tz
    floor = after if after is not None else now.astimezone(tz).date()
    ahead = sorted((g for g in policy.owner_care.greetings if g.on > floor), key=lambda g: g.on)
    if not ahead:
        return None
    g = ahead[0]
    fire_at = datetime.combine(g.on - timedelta(days=1), GREETING_TIME, tzinfo=tz)
    return NextGreeting(g.name, g.name_en, g.on, max(fire_at, now))


def greeting_timer_key(dealer_id: str, on: date) -> str:
    """Business key of a dealer's greeting timer (one per holiday date)."""
    return f"{dealer_id}:greetings:{on.isoformat()}"


def plan_greeting(
    dealer_id: str, customer_id: UUID, name: str, name_en: str, on: date, send_at: datetime
) -> PlannedReminder:
    """The greeting of holiday ``on`` to one owner (once per owner and holiday)."""
    return PlannedReminder(
        key=f"customer:{customer_id}:holiday_greeting:{on.isoformat()}",
        kind=ReminderKind.HOLIDAY_GREETING,
        dealer_id=dealer_id,
        customer_id=customer_id,
        send_at=send_at,
        purpose=ConsentPurpose.MARKETING,
        related=RecordRef(RecordKind.CUSTOMER, str(customer_id)),
        params={"holiday_name": name, "holiday_name_en": name_en},
    )


def _delivery_id(related: RelatedRecord | None) -> str | None:
    return related.id if related is not None and related.kind is RecordKind.DELIVERY else None


def delivery_of_satisfied_callback(
    kind: TaskKind, outcome: TaskOutcome, related: RelatedRecord | None
) -> str | None:
    """The delivery whose owner a completed task says is satisfied (a satisfaction
    callback with outcome ``satisfied``), or None."""
    if kind is not TaskKind.SATISFACTION_CALLBACK or outcome is not TaskOutcome.SATISFIED:
        return None
    return _delivery_id(related)


def delivery_of_satisfied_survey(
    kind: SurveyKind, score: int, related: RelatedRecord | None
) -> str | None:
    """The delivery whose owner a survey answer says is satisfied (a delivery survey
    scored REFERRAL_MIN_SCORE or more), or None."""
    if kind is not SurveyKind.DELIVERY_SATISFACTION or score < REFERRAL_MIN_SCORE:
        return None
    return _delivery_id(related)


def plan_referral_invitation(
    dealer_id: str,
    customer_id: UUID,
    delivery_id: str,
    satisfied_at: datetime,
    policy: DealerPolicy,
) -> PlannedReminder | None:
    """The referral invitation of a delivery whose owner said they were satisfied; None
    when the dealer sends none."""
    delay = policy.owner_care.referral_invitation_after
    if delay is None:
        return None
    return PlannedReminder(
        key=f"delivery:{delivery_id}:referral_invitation",
        kind=ReminderKind.REFERRAL_INVITATION,
        dealer_id=dealer_id,
        customer_id=customer_id,
        send_at=satisfied_at + delay,
        purpose=ConsentPurpose.MARKETING,
        related=RecordRef(RecordKind.DELIVERY, delivery_id),
    )
