"""Request and response bodies of improvement actions (/v1/improvement-actions)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from dealerflow.complaints.domain_improvements import ActionStatus, ImprovementAction
from dealerflow.complaints.schemas import Doer, Line, Text
from dealerflow.contracts.types import DealerId, StaffId
from dealerflow.runtime.pagination import Page
from dealerflow.runtime.request_models import PlannedOn, RequestBody


class ImprovementActionIn(RequestBody):
    """An improvement action against a cause of complaints."""

    dealer_id: DealerId
    cause: Line = Field(
        description="The cause it answers, as resolutions name it (case and spacing do not "
        "matter: the analysis counts them as one)."
    )
    description: Text = Field(description="What will be done.")
    owner_staff_id: StaffId = Field(description="Who sees it through.")
    due_on: PlannedOn = Field(description="Due day (dealer's calendar); today or later.")
    complaint_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=200, description="Complaints of the dealer it answers."
    )


class CompletionIn(RequestBody):
    """The action is done."""

    dealer_id: DealerId
    note: Text | None = Field(default=None, description="What was done, how it went.")
    completed_by: Doer = None


class ImprovementActionView(BaseModel):
    id: uuid.UUID
    dealer_id: str
    cause: str
    cause_key: str = Field(description="The cause as the analysis counts it.")
    description: str
    owner_staff_id: str
    due_on: date
    status: ActionStatus
    overdue: bool = Field(description="Open after its due day (dealer's today).")
    complaint_ids: list[uuid.UUID]
    created_at: datetime
    created_by: str | None
    completed_at: datetime | None
    completed_by: str | None
    completion_note: str | None

    @classmethod
    def of(cls, a: ImprovementAction, today: date) -> ImprovementActionView:
        return cls(
            id=a.id,
            dealer_id=a.dealer_id,
            cause=a.cause,
            cause_key=a.cause_key,
            description=a.description,
            owner_staff_id=a.owner_staff_id,
            due_on=a.due_on,
            status=a.status,
            overdue=a.overdue(today),
            complaint_ids=list(a.complaint_ids),
            created_at=a.created_at,
            created_by=a.created_by,
            completed_at=a.completed_at,
            completed_by=a.completed_by,
            completion_note=a.completion_note,
        )


class ImprovementActionPage(Page[ImprovementActionView]):
    """A page of improvement actions, newest first."""
