"""Survey link tokens, answers, the page's language and the callback fallback
(domain_surveys)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dealerflow.contracts.care_enums import TaskKind
from dealerflow.contracts.enums import Locale
from dealerflow.notifier.domain import plan_owner_care
from dealerflow.notifier.domain_surveys import (
    COMMENT_MAX,
    SurveyAnswer,
    SurveyAnswerError,
    TokenState,
    check_answer,
    page_locale,
    read_survey_token,
    survey_token,
    survey_url,
    token_dealer,
    unanswered_survey_callback,
    without_satisfaction_callback,
)
from dealerflow.notifier.domain_types import DeliveryFacts
from dealerflow.policy import DealerPolicy

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
SURVEY = uuid.UUID("12345678-1234-5678-1234-567812345678")


def test_a_token_verifies_until_it_expires() -> None:
    expires = NOW + timedelta(days=14)
    token = survey_token("s3cret", "D001", SURVEY, expires)
    assert token.startswith(f"D001.{SURVEY.hex}.{int(expires.timestamp())}.")
    read = read_survey_token("s3cret", token, NOW)
    assert (read.state, read.dealer_id, read.survey_id) == (TokenState.VALID, "D001", SURVEY)
    assert read.expires_at == expires
    assert read_survey_token("s3cret", token, expires).state is TokenState.EXPIRED


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.replace("D001", "D002", 1),  # another dealer
        lambda t: t.replace(SURVEY.hex, uuid.uuid4().hex),  # another survey
        lambda t: t.rsplit(".", 2)[0] + ".9999999999." + t.rsplit(".", 1)[1],  # longer life
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # another signature
        lambda t: t + ".x",
        lambda t: "nonsense",
    ],
)
def test_a_changed_token_is_forged(tamper) -> None:  # type: ignore[no-untyped-def]
    token = survey_token("s3cret", "D001", SURVEY, NOW + timedelta(days=1))
    assert read_survey_token("s3cret", tamper(token), NOW).state is TokenState.FORGED


def test_another_secret_does_not_verify() -> None:
    token = survey_token("s3cret", "D001", SURVEY, NOW + timedelta(days=1))
    assert read_survey_token("other", token, NOW).state is TokenState.FORGED


def test_a_dealer_with_a_dot_cannot_be_carried() -> None:
    with pytest.raises(ValueError, match="cannot be carried"):
        survey_token("s3cret", "D.01", SURVEY, NOW)


def test_the_link_and_the_dealer_it_names() -> None:
    token = survey_token("s3cret", "D001", SURVEY, NOW)
    assert survey_url("https://cx.example.com/", token) == f"https://cx.example.com/s/{token}"
    assert token_dealer(token) == ["D001"]
    assert token_dealer("nonsense") == []
    assert token_dealer("a,b.c.d.e") == []


def test_answers() -> None:
    assert check_answer("5", "  fine  ") == SurveyAnswer(5, "fine")
    assert check_answer(0, "   ") == SurveyAnswer(0, None)
    assert check_answer("10", None) == SurveyAnswer(10, None)
    for bad in (None, "", "-1", "11", "five", "5.5"):
        with pytest.raises(SurveyAnswerError):
            check_answer(bad, None)
    with pytest.raises(SurveyAnswerError):
        check_answer("5", "x" * (COMMENT_MAX + 1))


def test_page_locale() -> None:
    assert page_locale(None, "en") is Locale.EN
    assert page_locale("zh", "en") is Locale.ZH_CN
    assert page_locale("en-GB", None) is Locale.EN
    assert page_locale("fr", None) is Locale.ZH_CN
    assert page_locale(None, None) is Locale.ZH_CN


def test_the_fallback_callback_replaces_the_planned_one() -> None:
    delivery = DeliveryFacts(
        dealer_id="D001", customer_id=SURVEY, delivery_id="DL-1", delivered_at=NOW
    )
    plan = plan_owner_care(delivery, DealerPolicy())
    [planned] = [i for i in plan if getattr(i, "kind", None) is TaskKind.SATISFACTION_CALLBACK]
    kept = without_satisfaction_callback(plan)
    assert kept == [i for i in plan if i is not planned]

    expired = NOW + timedelta(days=21)
    fallback = unanswered_survey_callback(
        dealer_id="D001", customer_id=SURVEY, delivery_id="DL-1", expired_at=expired
    )
    assert fallback.key == planned.key  # one satisfaction callback per delivery either way
    assert (fallback.kind, fallback.assignee_role) == (planned.kind, planned.assignee_role)
    assert (fallback.related, fallback.due_at) == (planned.related, expired)
    assert "unanswered" in fallback.script
