"""Satisfaction surveys answered through a signed link (issue 14; DOMAIN.md section 5).
Pure rules, no I/O.

- The link carries a token ``<dealer>.<survey id>.<expiry>.<signature>``: the signature
  is the HMAC-SHA256 (stdlib hmac, the notifier's ``survey_link_secret``) of the other
  three parts, base64url without padding; the expiry (Unix seconds) is the invitation's
  send time plus the dealer's ``owner_care.survey_link_valid_for`` (default 14 days).
  The dealer is in the token so the page acts for that dealer only (row-level security).
- A token that does not verify is "not found" (404 page), one past its expiry "expired"
  (410 page), whatever the survey row says; a survey is answered once (a second answer
  gets the "already answered" page).
- Scores run 0 to 10 (the contract's range); the comment is optional, trimmed and at
  most `COMMENT_MAX` characters.
- The page speaks the customer's locale (stored with the survey) unless ``?lang=`` asks
  for another supported one.
- Fallback: with surveys on, the delivery's 7-day satisfaction callback task is not
  planned up front (`without_satisfaction_callback`); a timer at the link's expiry
  (`SURVEY_EXPIRY`) gives customer relations that callback (`unanswered_survey_callback`,
  the same task key) only if the survey is still unanswered then.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from dealerflow.contracts.care_enums import RecordKind, TaskKind
from dealerflow.contracts.enums import Locale
from dealerflow.notifier.domain_task_texts import staff_text
from dealerflow.notifier.domain_types import PlannedItem, PlannedTask, RecordRef, StaffRole

__all__ = [
    "COMMENT_MAX",
    "SCORE_MAX",
    "SURVEY_EXPIRY",
    "SurveyAnswer",
    "SurveyAnswerError",
    "SurveyToken",
    "TokenState",
    "check_answer",
    "page_locale",
    "read_survey_token",
    "survey_token",
    "survey_url",
    "token_dealer",
    "unanswered_survey_callback",
    "without_satisfaction_callback",
]

SCORE_MAX = 10
#: Timer kind: a survey link expires (the callback fallback).
SURVEY_EXPIRY = "notifier.survey_expiry"
COMMENT_MAX = 2000
_DEALER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class TokenState(StrEnum):
    """What a token is worth: valid, expired (signature fine, past expiry) or forged."""

    VALID = "valid"
    EXPIRED = "expired"
    FORGED = "forged"


@dataclass(frozen=True, slots=True)
class SurveyToken:
    """A read token: its state and, when it verified, what it names."""

    state: TokenState
    dealer_id: str | None = None
    survey_id: uuid.UUID | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    """A checked answer."""

    score: int
    comment: str | None


class SurveyAnswerError(ValueError):
    """The answer is not one the survey accepts (score out of range, comment too long)."""


def _signature(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def survey_token(secret: str, dealer_id: str, survey_id: uuid.UUID, expires_at: datetime) -> str:
    """The signed token of a survey link (module docstring)."""
    if not _DEALER.match(dealer_id):
        raise ValueError(f"dealer id {dealer_id!r} cannot be carried in a survey token")
    payload = f"{dealer_id}.{survey_id.hex}.{int(expires_at.timestamp())}"
    return f"{payload}.{_signature(secret, payload)}"


def read_survey_token(secret: str, token: str, now: datetime) -> SurveyToken:
    """Verify ``token`` (constant-time comparison) and tell whether it has expired."""
    parts = token.split(".")
    if len(parts) != 4:
        return SurveyToken(TokenState.FORGED)
    dealer_id, survey_hex, expiry, signature = parts
    payload = f"{dealer_id}.{survey_hex}.{expiry}"
    if not hmac.compare_digest(_signature(secret, payload), signature):
        return SurveyToken(TokenState.FORGED)
    try:
        survey_id = uuid.UUID(hex=survey_hex)
        expires_at = datetime.fromtimestamp(int(expiry), UTC)
    except (ValueError, OverflowError):
        return SurveyToken(TokenState.FORGED)
    state = TokenState.EXPIRED if now >= expires_at else TokenState.VALID
    return SurveyToken(state, dealer_id, survey_id, expires_at)


def survey_url(public_base_url: str, token: str) -> str:
    """The link the customer gets: ``<public base>/s/<token>``."""
    return f"{public_base_url.rstrip('/')}/s/{token}"


def check_answer(score: int | str | None, comment: str | None) -> SurveyAnswer:
    """The answer as recorded; raises `SurveyAnswerError` for a missing or out-of-range
    score or a comment over `COMMENT_MAX` characters (a blank comment is none)."""
    try:
        value = int(str(score).strip())
    except ValueError:
        raise SurveyAnswerError("choose a score from 0 to 10") from None
    if not 0 <= value <= SCORE_MAX:
        raise SurveyAnswerError("choose a score from 0 to 10")
    text = (comment or "").strip() or None
    if text is not None and len(text) > COMMENT_MAX:
        raise SurveyAnswerError(f"the comment is longer than {COMMENT_MAX} characters")
    return SurveyAnswer(value, text)


def page_locale(asked: str | None, customer_locale: str | None) -> Locale:
    """``?lang=`` when it names a supported locale (``zh``/``en`` prefixes too), else the
    customer's, else zh-CN."""
    for candidate in (asked, customer_locale):
        if not candidate:
            continue
        lowered = candidate.strip().lower()
        if lowered.startswith("zh"):
            return Locale.ZH_CN
        if lowered.startswith("en"):
            return Locale.EN
    return Locale.ZH_CN


def token_dealer(token: str) -> list[str]:
    """The dealer a token names, unverified (only to scope the page's transaction to
    that dealer; `read_survey_token` verifies); none for a token naming none."""
    parts = token.split(".")
    return [parts[0]] if len(parts) == 4 and _DEALER.match(parts[0]) else []


def without_satisfaction_callback(items: Sequence[PlannedItem]) -> list[PlannedItem]:
    """Owner care with surveys on: the plan without the satisfaction callback task (the
    survey's expiry brings it when unanswered)."""
    return [
        item
        for item in items
        if not (isinstance(item, PlannedTask) and item.kind is TaskKind.SATISFACTION_CALLBACK)
    ]


def unanswered_survey_callback(
    *, dealer_id: str, customer_id: uuid.UUID, delivery_id: str, expired_at: datetime
) -> PlannedTask:
    """The satisfaction callback for customer relations when the delivery's survey expired
    unanswered: due at the expiry, with the key the up-front callback has
    (`domain.plan_owner_care`), so a delivery gets one either way."""
    return PlannedTask(
        key=f"delivery:{delivery_id}:satisfaction-7d",
        kind=TaskKind.SATISFACTION_CALLBACK,
        dealer_id=dealer_id,
        customer_id=customer_id,
        due_at=expired_at,
        assignee_role=StaffRole.CUSTOMER_RELATIONS,
        assignee_id=None,
        related=RecordRef(RecordKind.DELIVERY, delivery_id),
        **staff_text("satisfaction_callback.survey_unanswered"),
    )
