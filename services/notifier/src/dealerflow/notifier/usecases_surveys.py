"""Satisfaction surveys answered through a signed link (issue 14): the survey planned with
a delivery's owner care (its message carries the link), the page's look-up and the
answer, which publishes SurveyResponded (complaints opens a complaint for a low score).
Rules and the token: `domain_surveys`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dealerflow.contracts.care_enums import RecordKind, ReminderKind, SurveyKind
from dealerflow.contracts.contact import ContactSnapshot, RelatedRecord
from dealerflow.contracts.enums import ConsentPurpose, Locale
from dealerflow.contracts.events.notifier import SurveyResponded
from dealerflow.notifier import repository_surveys as repo
from dealerflow.notifier.domain_alerts import timer_key
from dealerflow.notifier.domain_surveys import (
    SURVEY_EXPIRY,
    TokenState,
    check_answer,
    page_locale,
    read_survey_token,
    survey_token,
    survey_url,
    unanswered_survey_callback,
)
from dealerflow.notifier.domain_types import DeliveryFacts, PlannedReminder, RecordRef
from dealerflow.notifier.repository_surveys import SurveyRow
from dealerflow.notifier.settings import NotifierSettings
from dealerflow.notifier.usecases_messages import schedule_reminder
from dealerflow.notifier.usecases_tasks import schedule_task
from dealerflow.policy import BusinessCalendar
from dealerflow.runtime.context import UseCaseContext

Uc = UseCaseContext[NotifierSettings]


class SurveyState(StrEnum):
    """What the survey page shows."""

    OPEN = "open"  # the form
    ANSWERED = "answered"  # answered before: "already answered"
    THANKS = "thanks"  # this answer was recorded
    INVALID = "invalid"  # the form again, with the reason
    EXPIRED = "expired"
    NOT_FOUND = "not_found"  # forged token or no such survey


@dataclass(frozen=True, slots=True)
class SurveyPage:
    """What the page needs: its state, language and, for INVALID, the reason."""

    state: SurveyState
    locale: Locale
    reason: str | None = None


@dataclass(frozen=True)
class AnswerSurvey:
    """A customer's answer from the survey page (``POST /s/{token}``)."""

    token: str
    score: str | None
    comment: str | None
    lang: str | None = None


def _secret(uc: Uc) -> str | None:
    secret = uc.settings.survey_link_secret
    return None if secret is None else secret.get_secret_value()


def surveys_on(uc: Uc, dealer_id: str) -> bool:
    """Whether the dealer's deliveries get a survey link (the notifier has a
    ``survey_link_secret``; a dealer id with a dot cannot be carried in a token)."""
    return _secret(uc) is not None and "." not in dealer_id


async def plan_delivery_survey(
    uc: Uc, delivery: DeliveryFacts, contact: ContactSnapshot | None
) -> SurveyRow | None:
    """The delivery's satisfaction survey: a survey row and its message, sent when the
    satisfaction callback is due (``owner_care.satisfaction_after_delivery``, moved out of
    quiet hours) with a link valid ``owner_care.survey_link_valid_for``. Nothing without a
    ``survey_link_secret`` (or for a dealer id a token cannot carry, one with a dot).
    A timer at the link's expiry gives the satisfaction callback if still unanswered."""
    secret = _secret(uc)
    if secret is None or not surveys_on(uc, delivery.dealer_id):
        return None
    policy = await uc.policy(delivery.dealer_id)
    calendar = BusinessCalendar(policy)
    care = policy.owner_care
    send_at = calendar.next_allowed_send_time(
        delivery.delivered_at + care.satisfaction_after_delivery
    )
    survey = await repo.insert_survey(
        uc.conn,
        SurveyRow(
            id=uuid.uuid4(),
            dealer_id=delivery.dealer_id,
            customer_id=delivery.customer_id,
            kind=SurveyKind.DELIVERY_SATISFACTION.value,
            related_kind=RecordKind.DELIVERY.value,
            related_id=delivery.delivery_id,
            locale=(contact.locale if contact is not None else Locale.ZH_CN).value,
            sent_at=send_at,
            expires_at=send_at + care.survey_link_valid_for,
            answered_at=None,
            score=None,
            comment=None,
            created_at=uc.now,
        ),
    )
    if survey is None:
        return None  # planned before (a redelivered or repeated event)
    token = survey_token(secret, survey.dealer_id, survey.id, survey.expires_at)
    await schedule_reminder(
        uc,
        PlannedReminder(
            key=f"delivery:{delivery.delivery_id}:survey",
            kind=ReminderKind.SATISFACTION_SURVEY,
            dealer_id=delivery.dealer_id,
            customer_id=delivery.customer_id,
            send_at=send_at,
            purpose=ConsentPurpose.SERVICE,
            related=RecordRef(RecordKind.DELIVERY, delivery.delivery_id),
            params={"survey_url": survey_url(uc.settings.public_base_url, token)},
        ),
        contact,
    )
    await uc.schedule_timer(
        key=timer_key(survey.dealer_id, f"survey:{survey.id}:expiry"),
        kind=SURVEY_EXPIRY,
        dealer_id=survey.dealer_id,
        due_at=survey.expires_at,
        payload={"survey_id": str(survey.id)},
    )
    return survey


async def fire_survey_expiry(uc: Uc, dealer_id: str, payload: Mapping[str, Any]) -> None:
    """The link expired: the satisfaction callback for customer relations if the survey
    is unanswered (for a delivery survey), nothing otherwise."""
    survey = await repo.get_survey(uc.conn, dealer_id, uuid.UUID(str(payload["survey_id"])))
    if survey is None or survey.is_answered or survey.related_kind != RecordKind.DELIVERY:
        return
    await schedule_task(
        uc,
        unanswered_survey_callback(
            dealer_id=survey.dealer_id,
            customer_id=survey.customer_id,
            delivery_id=survey.related_id,
            expired_at=survey.expires_at,
        ),
    )


async def _survey_of(uc: Uc, token: str, *, lock: bool) -> tuple[SurveyRow | None, TokenState]:
    secret = _secret(uc)
    if secret is None:
        return None, TokenState.FORGED
    read = read_survey_token(secret, token, uc.now)
    if read.state is TokenState.FORGED or read.dealer_id is None or read.survey_id is None:
        return None, TokenState.FORGED
    survey = await repo.get_survey(uc.conn, read.dealer_id, read.survey_id, lock=lock)
    return survey, read.state


async def open_survey(uc: Uc, token: str, lang: str | None) -> SurveyPage:
    """What ``GET /s/{token}`` shows: the form, "already answered", expired or not found."""
    survey, state = await _survey_of(uc, token, lock=False)
    if survey is None:
        return SurveyPage(SurveyState.NOT_FOUND, page_locale(lang, None))
    locale = page_locale(lang, survey.locale)
    if survey.is_answered:
        return SurveyPage(SurveyState.ANSWERED, locale)
    if state is TokenState.EXPIRED:
        return SurveyPage(SurveyState.EXPIRED, locale)
    return SurveyPage(SurveyState.OPEN, locale)


async def answer_survey(uc: Uc, cmd: AnswerSurvey) -> SurveyPage:
    """Record the answer once and publish SurveyResponded; a second answer, an expired or
    unknown link get their page (nothing recorded), a bad score the form with the reason."""
    survey, state = await _survey_of(uc, cmd.token, lock=True)
    if survey is None:
        return SurveyPage(SurveyState.NOT_FOUND, page_locale(cmd.lang, None))
    locale = page_locale(cmd.lang, survey.locale)
    if survey.is_answered:
        return SurveyPage(SurveyState.ANSWERED, locale)
    if state is TokenState.EXPIRED:
        return SurveyPage(SurveyState.EXPIRED, locale)
    try:
        answer = check_answer(cmd.score, cmd.comment)
    except ValueError as exc:
        return SurveyPage(SurveyState.INVALID, locale, str(exc))
    answered = await repo.record_answer(
        uc.conn,
        survey.dealer_id,
        survey.id,
        score=answer.score,
        comment=answer.comment,
        answered_at=uc.now,
    )
    if answered is None:
        return SurveyPage(SurveyState.ANSWERED, locale)
    await uc.publish(
        SurveyResponded(
            dealer_id=answered.dealer_id,
            customer_id=answered.customer_id,
            occurred_at=uc.now,
            survey_id=str(answered.id),
            kind=SurveyKind(answered.kind),
            score=answer.score,
            comment=answer.comment,
            related=RelatedRecord.model_validate(
                {"kind": answered.related_kind, "id": answered.related_id}
            ),
            responded_at=uc.now,
        )
    )
    return SurveyPage(SurveyState.THANKS, locale)
