"""SQL of satisfaction surveys (`surveys`, migration 0010). Every statement is scoped by
``dealer_id``; a survey is keyed by its kind and the record surveyed, so a redelivered
event plans one survey."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from dealerflow.runtime.db import DbConnection


@dataclass(frozen=True, slots=True)
class SurveyRow:
    """A survey as stored."""

    id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    kind: str
    related_kind: str
    related_id: str
    locale: str
    sent_at: datetime
    expires_at: datetime
    answered_at: datetime | None
    score: int | None
    comment: str | None
    created_at: datetime

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None


_COLUMNS = (
    "id, dealer_id, customer_id, kind, related_kind, related_id, locale, sent_at, "
    "expires_at, answered_at, score, comment, created_at"
)


def _row(record: asyncpg.Record | None) -> SurveyRow | None:
    return None if record is None else SurveyRow(**dict(record))


async def insert_survey(conn: DbConnection, survey: SurveyRow) -> SurveyRow | None:
    """Store a new survey; None when that record already has one of that kind."""
    record = await conn.fetchrow(
        f"""
        INSERT INTO surveys ({_COLUMNS})
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, NULL, $10)
        ON CONFLICT (dealer_id, kind, related_kind, related_id) DO NOTHING
        RETURNING {_COLUMNS}
        """,
        survey.id,
        survey.dealer_id,
        survey.customer_id,
        survey.kind,
        survey.related_kind,
        survey.related_id,
        survey.locale,
        survey.sent_at,
        survey.expires_at,
        survey.created_at,
    )
    return _row(record)


async def get_survey(
    conn: DbConnection, dealer_id: str, survey_id: uuid.UUID, *, lock: bool = False
) -> SurveyRow | None:
    """One survey of the dealer (``lock``: FOR UPDATE, to record its answer)."""
    record = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM surveys WHERE dealer_id = $1 AND id = $2"
        + (" FOR UPDATE" if lock else ""),
        dealer_id,
        survey_id,
    )
    return _row(record)


async def record_answer(
    conn: DbConnection,
    dealer_id: str,
    survey_id: uuid.UUID,
    *,
    score: int,
    comment: str | None,
    answered_at: datetime,
) -> SurveyRow | None:
    """Record the answer of an unanswered survey; None when it was answered already."""
    record = await conn.fetchrow(
        f"""
        UPDATE surveys SET answered_at = $3, score = $4, comment = $5
        WHERE dealer_id = $1 AND id = $2 AND answered_at IS NULL
        RETURNING {_COLUMNS}
        """,
        dealer_id,
        survey_id,
        answered_at,
        score,
        comment,
    )
    return _row(record)
