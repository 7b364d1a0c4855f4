"""Response bodies of the sales manager's views (``api_reports``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from dealerflow.leads.domain_reports import FUNNEL_STAGES, WorkItemState
from dealerflow.leads.repository_reports import FunnelRow
from dealerflow.leads.schemas import LeadSummary
from dealerflow.leads.usecases_reports import Board, VisitReport, Worklist


class _From(BaseModel):
    model_config = {"from_attributes": True}


class VisitLineOut(_From):
    """A logged contact: when, channel, outcome, grade after, next contact, notes."""

    entry_id: uuid.UUID
    lead_id: uuid.UUID
    consultant_id: str
    name: str = Field(description="The prospect's name ('(erased)' after an erasure).")
    contacted_at: datetime
    channel: str
    outcome: str
    grade_before: str
    grade_after: str
    next_contact_at: datetime | None
    notes: str | None
    customer_initiated: bool


class ConsultantDayOut(_From):
    """A consultant's totals of the day."""

    consultant_id: str
    contacts: int
    reached: int
    next_contacts_planned: int = Field(description="Contacts that set the next contact date.")
    leads: int = Field(description="Distinct leads contacted.")


class VisitReportOut(BaseModel):
    """The daily visit report of a dealer (or one consultant) on a dealer-local day."""

    dealer_id: str
    day: date
    consultants: list[ConsultantDayOut]
    items: list[VisitLineOut] = Field(description="This page of the day's contacts.")
    next_cursor: str | None

    @classmethod
    def of(cls, report: VisitReport) -> VisitReportOut:
        return cls(
            dealer_id=report.dealer_id,
            day=report.day,
            consultants=[ConsultantDayOut.model_validate(c) for c in report.consultants],
            items=[VisitLineOut.model_validate(line) for line in report.lines],
            next_cursor=report.next_cursor,
        )


class WorkItemOut(BaseModel):
    """A lead on the worklist and why it is there."""

    state: WorkItemState
    lead: LeadSummary


class WorklistOut(BaseModel):
    """Open leads owed a contact today, referrals first, then newest."""

    dealer_id: str
    day: date = Field(description="The dealer-local day.")
    items: list[WorkItemOut]
    next_cursor: str | None

    @classmethod
    def of(cls, worklist: Worklist) -> WorklistOut:
        return cls(
            dealer_id=worklist.dealer_id,
            day=worklist.day,
            items=[WorkItemOut(state=i.state, lead=LeadSummary.of(i.lead)) for i in worklist.items],
            next_cursor=worklist.next_cursor,
        )


class BoardCellOut(_From):
    consultant_id: str | None = Field(description="null: not assigned.")
    grade: str
    leads: int


class BreachCountOut(_From):
    consultant_id: str | None = Field(description="Who the lead was with when it breached.")
    leads: int = Field(description="Open leads whose first contact was missed.")
    breaches: int = Field(description="Breaches reported (a lead can breach twice).")


class BoardOut(BaseModel):
    """The dealer's leads counted by consultant and grade, and by grade alone, and the open
    leads whose first-contact SLA was breached, by consultant."""

    dealer_id: str
    by_grade: dict[str, int]
    cells: list[BoardCellOut]
    first_contact_breaches: list[BreachCountOut]

    @classmethod
    def of(cls, dealer_id: str, board: Board) -> BoardOut:
        by_grade: dict[str, int] = {}
        for cell in board.cells:
            by_grade[cell.grade] = by_grade.get(cell.grade, 0) + cell.leads
        return cls(
            dealer_id=dealer_id,
            by_grade=by_grade,
            cells=[BoardCellOut.model_validate(c) for c in board.cells],
            first_contact_breaches=[BreachCountOut.model_validate(b) for b in board.breaches],
        )


class FunnelRowOut(_From):
    """Of one channel's new leads: how many reached each stage."""

    channel: str
    new: int
    contacted: int
    appointment: int
    visit: int = Field(description="Came to an appointment (attended).")
    test_drive: int = Field(description="Came to a test-drive appointment.")
    contract: int
    delivered: int


class FunnelOut(BaseModel):
    """The funnel of the leads created in a period (dealer-local days, inclusive)."""

    dealer_id: str
    start: date
    end: date
    channels: list[FunnelRowOut]
    total: FunnelRowOut = Field(description="All channels together (channel 'all').")

    @classmethod
    def of(cls, dealer_id: str, start: date, end: date, rows: list[FunnelRow]) -> FunnelOut:
        total = {stage: sum(getattr(r, stage) for r in rows) for stage in FUNNEL_STAGES}
        return cls(
            dealer_id=dealer_id,
            start=start,
            end=end,
            channels=[FunnelRowOut.model_validate(r) for r in rows],
            total=FunnelRowOut(channel="all", **total),
        )
