"""What the leads service stores, as plain typed data (the rows its repositories return)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.events.leads import LeadInterest
from dealerflow.leads.domain import Grade, LeadSnapshot, LeadSource


@dataclass(frozen=True)
class LeadRecord:
    """One row of ``leads``."""

    dealer_id: str
    lead_id: uuid.UUID
    customer_id: uuid.UUID
    phone_e164: str
    grade: Grade
    status: str
    priority_rank: int
    channel: str
    source: str
    source_detail: str | None
    referrer_customer_id: uuid.UUID | None
    consultant_id: str | None
    contact: ContactSnapshot
    interest: LeadInterest
    created_at: datetime
    updated_at: datetime
    last_touch_at: datetime
    touch_count: int = 1
    graded_at: datetime | None = None
    last_contacted_at: datetime | None = None
    next_contact_at: datetime | None = None
    invitation_declined_at: datetime | None = None
    reengaged_at: datetime | None = None
    lost_reason: str | None = None
    lost_note: str | None = None
    contract_id: str | None = None
    closed_at: datetime | None = None
    #: the surviving lead this one was merged into (status "merged")
    merged_into: uuid.UUID | None = None

    def snapshot(self) -> LeadSnapshot:
        """What the pure rules need to know about this lead."""
        return LeadSnapshot(
            lead_id=self.lead_id,
            dealer_id=self.dealer_id,
            phone_e164=self.phone_e164,
            grade=self.grade,
            source=LeadSource(self.source),
            created_at=self.created_at,
            models_of_interest=tuple(self.interest.models),
            referred_by_customer_id=self.referrer_customer_id,
            invitation_declined_at=self.invitation_declined_at,
            reengaged_at=self.reengaged_at,
        )


@dataclass(frozen=True)
class SubmissionRecord:
    """One accepted submission (``lead_submissions``): the creation or a touch."""

    dealer_id: str
    submission_id: uuid.UUID
    lead_id: uuid.UUID
    outcome: str  # created | touched
    external_id: str | None
    format: str
    channel: str
    source: str
    received_at: datetime
    payload: str  # JSON of the normalised submission


@dataclass(frozen=True)
class ReviewRecord:
    """A manager's review of one loss of a lead (``lead_reviews``)."""

    dealer_id: str
    review_id: uuid.UUID
    lead_id: uuid.UUID
    #: the loss reviewed (the lead's ``closed_at`` at grade F)
    lost_at: datetime
    decision: str  # approve | reopen
    grade_after: str | None  # the live grade of a reopened lead
    note: str | None
    reviewed_by: str | None
    reviewed_at: datetime


@dataclass(frozen=True)
class ReopeningRecord:
    """A lead taken back to a live grade by its review or a cancelled contract
    (``lead_reopenings``)."""

    dealer_id: str
    reopening_id: uuid.UUID
    lead_id: uuid.UUID
    cause: str  # review | contract_cancelled
    contract_id: str | None
    grade_before: str
    grade_after: str
    reopened_at: datetime


@dataclass(frozen=True)
class AssignmentRecord:
    """One (re)assignment of a lead (``lead_assignments``)."""

    dealer_id: str
    lead_id: uuid.UUID
    consultant_id: str
    previous_consultant_id: str | None
    reason: str
    assigned_by: str | None
    assigned_at: datetime
    assignment_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class ContactEntryRecord:
    """One line of the contact log (``contact_log``)."""

    dealer_id: str
    entry_id: uuid.UUID
    lead_id: uuid.UUID
    consultant_id: str
    contacted_at: datetime
    channel: str
    outcome: str
    grade_before: str
    grade_after: str
    next_contact_at: datetime | None
    notes: str | None
    customer_initiated: bool
    invitation_declined: bool
    recorded_at: datetime


@dataclass(frozen=True)
class AppointmentRecord:
    """A booked store visit, test drive or delivery (``appointments``); its steps are in
    ``domain_appointments``."""

    dealer_id: str
    appointment_id: str
    lead_id: uuid.UUID
    purpose: str
    scheduled_for: datetime
    consultant_id: str
    location: str | None
    created_at: datetime
    status: str = "scheduled"  # an AppointmentStatus value
    rescheduled_count: int = 0
    #: when it was cancelled, the customer arrived, or the no-show was recorded
    ended_at: datetime | None = None
    cancelled_by: str | None = None  # customer | dealer
    #: why it was last moved, or why it was cancelled
    reason: str | None = None
    updated_at: datetime | None = None  # None: unchanged since booked


@dataclass(frozen=True)
class LeadHistory:
    """What happened to one lead, each list oldest first."""

    contacts: list[ContactEntryRecord]
    appointments: list[AppointmentRecord]
    assignments: list[AssignmentRecord]
    submissions: list[SubmissionRecord]


@dataclass(frozen=True)
class ErasureRecord:
    """One erasure request of a customer at a store (``erasure_requests``)."""

    dealer_id: str
    erasure_id: uuid.UUID
    customer_id: uuid.UUID
    basis: str
    requested_by: str
    requested_at: datetime
    carried_out_at: datetime | None = None
