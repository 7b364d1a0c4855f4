"""Request and response bodies of the lost-lead review queue (``api_review``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from dealerflow.leads.records import LeadRecord
from dealerflow.leads.schemas import LeadSummary, Note
from dealerflow.leads.usecases import LeadPage
from dealerflow.leads.usecases_review import LeadReviewed
from dealerflow.runtime.pagination import Page
from dealerflow.runtime.request_models import RequestBody


class LostLeadOut(LeadSummary):
    """A lost lead awaiting the manager's review."""

    lost_reason: str | None
    lost_note: str | None
    lost_at: datetime = Field(description="When the lead was closed as lost (F), UTC.")

    @classmethod
    def of(cls, lead: LeadRecord) -> LostLeadOut:
        assert lead.closed_at is not None  # a lead at F is closed
        return cls(
            **LeadSummary.of(lead).model_dump(),
            lost_reason=lead.lost_reason,
            lost_note=lead.lost_note,
            lost_at=lead.closed_at,
        )


class LostLeadPageOut(Page[LostLeadOut]):
    """A page of the review queue, the longest waiting first."""

    @classmethod
    def of(cls, page: LeadPage) -> LostLeadPageOut:
        return cls(
            items=[LostLeadOut.of(lead) for lead in page.items], next_cursor=page.next_cursor
        )


class ReviewIn(RequestBody):
    """The manager's decision on a lost lead."""

    decision: Literal["approve", "reopen"] = Field(
        description="approve: the loss stands (grade F); reopen: back to a live grade."
    )
    note: Note | None = Field(default=None, description="Why; required to reopen.")
    grade: Literal["H", "A", "B", "C"] | None = Field(
        default=None,
        description="reopen only: the live grade (default: the lead's last live grade, else A).",
    )


class ReviewOut(BaseModel):
    """A recorded review and the lead after it."""

    review_id: uuid.UUID
    decision: str
    grade_after: str | None = Field(description="The live grade a reopened lead went back to.")
    note: str | None
    reviewed_by: str | None
    reviewed_at: datetime
    lost_at: datetime = Field(description="The loss reviewed.")
    lead: LeadSummary

    @classmethod
    def of(cls, reviewed: LeadReviewed) -> ReviewOut:
        review = reviewed.review
        return cls(
            review_id=review.review_id,
            decision=review.decision,
            grade_after=review.grade_after,
            note=review.note,
            reviewed_by=review.reviewed_by,
            reviewed_at=review.reviewed_at,
            lost_at=review.lost_at,
            lead=LeadSummary.of(reviewed.lead),
        )
