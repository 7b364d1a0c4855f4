"""Request and response bodies of the leads HTTP API (the POST /v1/leads body is the
contracts' LeadSubmission, or ADF XML); each response view's ``of`` maps a record or use
case result onto it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import (
    AppointmentPurpose,
    AssignmentReason,
    ContactChannel,
    ContactOutcome,
    LeadGrade,
    LeadSource,
    LostReason,
    PurchaseHorizon,
    VehicleType,
    VehicleUse,
)
from dealerflow.contracts.events.leads import ErasureBasis, LeadInterest, ModelName
from dealerflow.contracts.inbound import LeadSubmission
from dealerflow.contracts.types import DEALER_ID_PATTERN, EntityId, StaffId
from dealerflow.leads.domain import AssignmentStrategy
from dealerflow.leads.records import LeadRecord
from dealerflow.leads.usecases import LeadDossier, LeadPage
from dealerflow.leads.usecases_lifecycle import ContactLogged
from dealerflow.runtime.pagination import Page
from dealerflow.runtime.request_models import HappenedAt, MoneyIn, PlannedAt, RequestBody

Note = Annotated[str, StringConstraints(max_length=2000)]


class _View(BaseModel):
    """A response body read off a record or result with the same attribute names."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, source: object) -> Self:
        return cls.model_validate(source)


class SubmissionResponse(_View):
    """Outcome of POST /v1/leads: 201 = a new lead, 200 = a touch on the open lead."""

    dealer_id: str
    lead_id: uuid.UUID
    customer_id: uuid.UUID
    created: bool = Field(description="A new lead was created.")
    deduplicated: bool = Field(
        description="The person already had an open lead: this submission touched it."
    )
    replayed: bool = Field(
        description="The same submission id (or Idempotency-Key) was seen before: no change."
    )
    consultant_id: str | None = Field(description="Consultant assigned to the lead.")


class SubmitRequest(BaseModel):
    """What a retry of POST /v1/leads with the same Idempotency-Key must repeat."""

    submission: LeadSubmission
    consultant_id: str | None
    dealer_group: str | None


class ConsultantOut(_View):
    """A consultant of the dealer's people and the open leads they hold."""

    consultant_id: str
    name: str
    on_duty: bool
    away_from: date | None = Field(description="First day away (dealer-local).")
    away_until: date | None = Field(description="Last day away (dealer-local).")
    replaced_by: str | None
    available: bool = Field(description="Gets new leads today: on duty and not away.")
    open_leads: int = Field(description="Open leads (grades N, H, A, B, C) held now.")


class ConsultantsOut(_View):
    """The dealer's consultants as lead assignment sees them; read-only: the dealer's
    people are changed in the dealers service (``PUT /v1/dealers/{dealer_id}/people``)."""

    dealer_id: str
    on: date = Field(description="The dealer-local date availability is for (today).")
    assignment_strategy: AssignmentStrategy = Field(description="The dealer's policy.")
    last_assigned_id: str | None = Field(description="Who got the last lead assigned in turn.")
    consultants: list[ConsultantOut]


class LeadSummary(BaseModel):
    """A lead as listed."""

    lead_id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    name: str
    phone: str | None = Field(description="E.164 phone; null once the customer was erased.")
    grade: LeadGrade
    status: str = Field(description="open, converted, delivered or lost.")
    channel: str
    source: str
    source_detail: str | None
    consultant_id: str | None
    created_at: datetime
    last_touch_at: datetime
    touch_count: int
    last_contacted_at: datetime | None
    next_contact_at: datetime | None

    @classmethod
    def of(cls, lead: LeadRecord) -> LeadSummary:
        return cls(
            lead_id=lead.lead_id,
            dealer_id=lead.dealer_id,
            customer_id=lead.customer_id,
            name=lead.contact.name,
            phone=None if lead.contact.erased else lead.phone_e164,
            grade=lead.grade,
            status=lead.status,
            channel=lead.channel,
            source=lead.source,
            source_detail=lead.source_detail,
            consultant_id=lead.consultant_id,
            created_at=lead.created_at,
            last_touch_at=lead.last_touch_at,
            touch_count=lead.touch_count,
            last_contacted_at=lead.last_contacted_at,
            next_contact_at=lead.next_contact_at,
        )


class LeadPageOut(Page[LeadSummary]):
    """A page of leads."""

    @classmethod
    def of(cls, page: LeadPage) -> LeadPageOut:
        return cls(
            items=[LeadSummary.of(lead) for lead in page.items], next_cursor=page.next_cursor
        )


class ContactEntryView(_View):
    """A line of the lead's contact log."""

    entry_id: uuid.UUID
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


class AppointmentView(_View):
    """A booked visit, test drive or delivery of the lead, and how it went."""

    appointment_id: str
    purpose: str
    scheduled_for: datetime
    consultant_id: str
    location: str | None
    status: str = Field(description="scheduled, cancelled, attended or no_show.")
    created_at: datetime
    rescheduled_count: int = Field(default=0, description="How often it was moved.")
    ended_at: datetime | None = Field(
        default=None,
        description="When it was cancelled, the customer arrived, or the no-show was recorded.",
    )
    cancelled_by: str | None = Field(default=None, description="customer or dealer.")
    reason: str | None = Field(
        default=None, description="Why it was last moved, or why it was cancelled."
    )
    updated_at: datetime | None = Field(
        default=None, description="The last step on it; null: unchanged since booked."
    )


class AssignmentView(_View):
    """A (re)assignment of the lead."""

    consultant_id: str
    previous_consultant_id: str | None
    reason: str
    assigned_by: str | None
    assigned_at: datetime


class SubmissionView(_View):
    """A submission that created or touched the lead."""

    submission_id: uuid.UUID
    outcome: str
    external_id: str | None
    format: str
    channel: str
    source: str
    received_at: datetime


class LeadDetail(LeadSummary):
    """A lead with its contact snapshot, interest and history."""

    contact: ContactSnapshot
    interest: LeadInterest
    referrer_customer_id: uuid.UUID | None
    graded_at: datetime | None
    invitation_declined_at: datetime | None
    reengaged_at: datetime | None
    sales_follow_up_allowed: bool
    lost_reason: str | None
    lost_note: str | None
    contract_id: str | None
    closed_at: datetime | None
    merged_into: uuid.UUID | None = Field(
        description="The lead this one was merged into (status merged), else null."
    )
    expected_order_by: datetime | None = Field(
        description="When the prospect said they would order: the grading plus the dealer's "
        "purchase horizon of the grade (H, A, B, C); null for other grades."
    )
    oem_lead_id: str | None = Field(
        description="The OEM's id of an OEM-distributed lead (the submission id the OEM "
        "sent, source oem): what the OEM report-back quotes; null for other leads."
    )
    contacts: list[ContactEntryView]
    appointments: list[AppointmentView]
    assignments: list[AssignmentView]
    submissions: list[SubmissionView]

    @classmethod
    def of(cls, dossier: LeadDossier) -> LeadDetail:  # type: ignore[override]
        lead, history = dossier.lead, dossier.history
        return cls(
            **LeadSummary.of(lead).model_dump(),
            contact=lead.contact,
            interest=lead.interest,
            referrer_customer_id=lead.referrer_customer_id,
            graded_at=lead.graded_at,
            invitation_declined_at=lead.invitation_declined_at,
            reengaged_at=lead.reengaged_at,
            sales_follow_up_allowed=dossier.sales_follow_up_allowed,
            lost_reason=lead.lost_reason,
            lost_note=lead.lost_note,
            contract_id=lead.contract_id,
            closed_at=lead.closed_at,
            merged_into=lead.merged_into,
            expected_order_by=dossier.expected_order_by,
            oem_lead_id=next(
                (
                    sub.external_id
                    for sub in history.submissions
                    if sub.source == LeadSource.OEM and sub.external_id
                ),
                None,
            ),
            contacts=[ContactEntryView.of(c) for c in history.contacts],
            appointments=[AppointmentView.of(a) for a in history.appointments],
            assignments=[AssignmentView.of(a) for a in history.assignments],
            submissions=[SubmissionView.of(s) for s in history.submissions],
        )


class ContactIn(RequestBody):
    """One line of the contact log (daily visit report)."""

    channel: ContactChannel
    outcome: ContactOutcome
    consultant_id: StaffId | None = Field(default=None, description="Default: the lead's.")
    contacted_at: HappenedAt | None = Field(default=None, description="Default: now.")
    grade_after: LeadGrade | None = Field(default=None, description="Default: unchanged.")
    next_contact_at: PlannedAt | None = None
    notes: Note | None = None
    customer_initiated: bool = False
    invitation_declined: bool = False
    lost_reason: LostReason | None = Field(default=None, description="With grade_after F.")
    lost_note: Note | None = None


class ContactOut(BaseModel):
    entry_id: uuid.UUID
    lead: LeadSummary

    @classmethod
    def of(cls, logged: ContactLogged) -> ContactOut:
        return cls(entry_id=logged.entry_id, lead=LeadSummary.of(logged.lead))


class AssignIn(RequestBody):
    consultant_id: StaffId | None = Field(
        default=None,
        description="Default: the next available consultant (the dealer's assignment strategy).",
    )
    reason: AssignmentReason = AssignmentReason.MANUAL


class MergeIn(RequestBody):
    """Duplicate leads of the same person to merge into this one."""

    merged_lead_ids: list[uuid.UUID] = Field(
        min_length=1, max_length=20, description="Leads to merge into this one (they close)."
    )


class LostIn(RequestBody):
    reason: LostReason
    reason_note: Note | None = None


class AppointmentIn(RequestBody):
    purpose: AppointmentPurpose
    scheduled_for: PlannedAt
    consultant_id: StaffId | None = Field(default=None, description="Default: the lead's.")
    location: Annotated[str, StringConstraints(max_length=200)] | None = None
    appointment_id: EntityId | None = Field(
        default=None, description="Client-chosen id: a retry books nothing twice."
    )


class AppointmentOut(_View):
    appointment_id: str
    lead_id: uuid.UUID
    created: bool


class DeclineIn(RequestBody):
    consultant_id: StaffId | None = None
    reason: Note | None = None


class ConvertIn(RequestBody):
    contract_id: EntityId
    converted_at: HappenedAt | None = None


class ErasureIn(RequestBody):
    """An erasure request of a customer at a store (PIPL Art. 47 / GDPR Art. 17)."""

    dealer_id: str = Field(pattern=DEALER_ID_PATTERN, description="Store whose data is erased.")
    basis: ErasureBasis = Field(
        default="customer-request", description="The law the customer invoked, if any."
    )


class ErasureOut(_View):
    """An erasure request: recorded, published to every service, and when leads itself
    has anonymised what it holds (``carried_out_at``; the other services do it on the
    event within seconds)."""

    erasure_id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    basis: ErasureBasis
    requested_by: str = Field(description="Staff id of the manager who recorded it.")
    requested_at: datetime
    carried_out_at: datetime | None = Field(
        description="When leads anonymised the customer's leads; null until then."
    )


class ErasuresOut(BaseModel):
    """A customer's erasure requests at a store, newest first."""

    items: list[ErasureOut]


class LeadEditIn(RequestBody):
    """A JSON merge patch of the lead's interest: the fields given change, null clears one
    (models to none, purchase horizon to unknown), the others stay."""

    models: list[ModelName] | None = None
    vehicle_type: VehicleType | None = None
    budget_min: MoneyIn | None = None
    budget_max: MoneyIn | None = None
    use: VehicleUse | None = None
    current_vehicle: Annotated[str, StringConstraints(max_length=200)] | None = None
    purchase_horizon: PurchaseHorizon | None = None
    notes: Note | None = None
