"""Events of the leads context (topic dealerflow.leads): potential customers and invitations."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import (
    AppointmentPurpose,
    AssignmentReason,
    CancelledBy,
    ContactChannel,
    ContactOutcome,
    LeadChannel,
    LeadGrade,
    LeadSource,
    LeadUpdateReason,
    LostReason,
    PurchaseHorizon,
    VehicleType,
    VehicleUse,
)
from dealerflow.contracts.events.base import DomainEvent, EventDoc
from dealerflow.contracts.types import (
    CustomerId,
    EntityId,
    LocalDate,
    Money,
    StaffId,
    Trimmed,
    UtcDatetime,
)

Note = Annotated[str, StringConstraints(max_length=2000)]
ModelName = Annotated[str, Trimmed(max_length=100)]


class LeadInterest(BaseModel):
    """What the prospect wants, from the needs conversation or the submission."""

    model_config = ConfigDict(frozen=True)

    models: list[ModelName] = Field(
        default_factory=list, description="Vehicle models of interest, e.g. ['Seal', 'Han EV']."
    )
    vehicle_type: VehicleType | None = Field(default=None, description="Body/powertrain type.")
    budget_min: Money | None = Field(default=None, description="Lower end of the budget.")
    budget_max: Money | None = Field(default=None, description="Upper end of the budget.")
    use: VehicleUse | None = Field(default=None, description="Main intended use.")
    current_vehicle: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Vehicle the prospect drives now (make, model, year)."
    )
    purchase_horizon: PurchaseHorizon = Field(
        default=PurchaseHorizon.UNKNOWN, description="When the prospect expects to buy."
    )
    notes: Note | None = Field(default=None, description="Free-text notes on the needs.")


class _LeadsBase(DomainEvent):
    context: ClassVar[str] = "leads"


class LeadCreated(_LeadsBase):
    """A new lead: a person not yet open at this dealer showed purchase interest."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="A person with no open lead at the dealer is recorded (walk-in register, inbound "
        "call, online/OEM/ADF submission, referral, event); a repeat submission for an open "
        "lead is a LeadUpdated touch instead.",
        emitted_by=("leads",),
        reacted_by=(
            "notifier: first-contact SLA task for the consultant (online 15 min of business "
            "hours; walk-in/phone thank-you message within 2 h and first call within 24 h), "
            "warning at 80 % of the SLA",
            "notifier: remembers referrer_customer_id; the referral counts for the "
            "referrer's tier once the lead converts",
        ),
    )
    type: Literal["LeadCreated"] = Field(default="LeadCreated", description="Event name.")
    lead_id: EntityId = Field(description="Identifier of the new lead.")
    channel: LeadChannel = Field(description="How the lead reached the dealer.")
    source: LeadSource = Field(description="Marketing source of the lead.")
    source_detail: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Finer source, e.g. the portal name or campaign code."
    )
    referrer_customer_id: CustomerId | None = Field(
        default=None, description="Existing customer who referred this one (highest priority)."
    )
    consultant_id: StaffId | None = Field(
        default=None, description="Consultant assigned at creation, if already assigned."
    )
    created_at: UtcDatetime = Field(description="When the lead was recorded, UTC.")
    interest: LeadInterest = Field(description="Models, budget, use and horizon of interest.")
    contact: ContactSnapshot = Field(description="How to reach the prospect.")
    submission_id: EntityId | None = Field(
        default=None, description="Id of the inbound submission the lead came from, if any."
    )


class LeadUpdated(_LeadsBase):
    """A lead's details changed, or a new submission/visit touched an open lead."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="Lead data is edited, a new submission or visit arrives for the open lead "
        "(a touch, never a second lead), or the customer re-engages after declining.",
        emitted_by=("leads",),
        reacted_by=(
            "notifier: refreshes the contact snapshot; a re-engagement lifts the "
            "invitation-declined suppression (the follow-ups resume from it)",
        ),
    )
    type: Literal["LeadUpdated"] = Field(default="LeadUpdated", description="Event name.")
    lead_id: EntityId = Field(description="Identifier of the lead.")
    reason: LeadUpdateReason = Field(description="Why the lead changed.")
    changed_fields: list[str] = Field(
        default_factory=list, description="Names of the lead fields that changed."
    )
    touch_channel: LeadChannel | None = Field(
        default=None, description="Channel of the new touch (reason new_touch)."
    )
    touch_source: LeadSource | None = Field(
        default=None, description="Source of the new touch (reason new_touch)."
    )
    interest: LeadInterest | None = Field(
        default=None, description="Interest after the change, when it changed."
    )
    contact: ContactSnapshot | None = Field(
        default=None, description="Contact snapshot after the change, when it changed."
    )
    updated_at: UtcDatetime = Field(description="When the lead was updated, UTC.")


class LeadGraded(_LeadsBase):
    """The consultant (or the system) set the lead's intent grade."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="A grade is set or changed (contact log, contract signed -> O, delivered -> D, "
        "lost -> F).",
        emitted_by=("leads",),
        reacted_by=(
            "notifier: reschedules the follow-up cadence (H 2 d, A 3 d, B 7 d, C 14 d) and "
            "the re-grade prompt when H outlives its 7-day horizon; O, D and F stop it, and a "
            "live grade after F (reopened) cancels the open lost-review task",
        ),
    )
    type: Literal["LeadGraded"] = Field(default="LeadGraded", description="Event name.")
    lead_id: EntityId = Field(description="Identifier of the lead.")
    grade: LeadGrade = Field(description="New intent grade.")
    previous_grade: LeadGrade | None = Field(default=None, description="Grade before.")
    consultant_id: StaffId | None = Field(default=None, description="Consultant of the lead.")
    graded_at: UtcDatetime = Field(description="When the grade was set, UTC.")
    note: Note | None = Field(default=None, description="Why the grade was chosen.")


class LeadAssigned(_LeadsBase):
    """A lead was assigned or reassigned to a consultant."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="Initial assignment (round robin or by open load), manual reassignment, or "
        "automatic reassignment after a second first-contact SLA breach.",
        emitted_by=("leads",),
        reacted_by=(
            "notifier: moves the lead's open tasks to the new consultant; after a missed "
            "first contact (reason sla_breach) tells the previous and the new consultant",
        ),
    )
    type: Literal["LeadAssigned"] = Field(default="LeadAssigned", description="Event name.")
    lead_id: EntityId = Field(description="Identifier of the lead.")
    consultant_id: StaffId = Field(description="Consultant now responsible.")
    previous_consultant_id: StaffId | None = Field(
        default=None, description="Consultant responsible before, if any."
    )
    reason: AssignmentReason = Field(description="Why the lead was (re)assigned.")
    assigned_by: StaffId | None = Field(
        default=None, description="Staff member who assigned it; absent when automatic."
    )
    assigned_at: UtcDatetime = Field(description="When the assignment took effect, UTC.")


class LeadContacted(_LeadsBase):
    """A contact attempt was logged (one line of the consultant's daily visit report)."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The consultant logs a call, message or meeting with the prospect.",
        emitted_by=("leads",),
        reacted_by=(
            "notifier: stops the first-contact SLA clock when reached",
            "notifier: re-plans the next follow-up task: on next_contact_on, else one "
            "cadence interval of the grade after the contact",
        ),
    )
    type: Literal["LeadContacted"] = Field(default="LeadContacted", description="Event name.")
    lead_id: EntityId = Field(description="Identifier of the lead.")
    consultant_id: StaffId = Field(description="Consultant who made the contact.")
    contacted_at: UtcDatetime = Field(description="When the contact happened, UTC.")
    channel: ContactChannel = Field(description="How the prospect was contacted.")
    outcome: ContactOutcome = Field(description="Result of the attempt.")
    grade_after: LeadGrade | None = Field(default=None, description="Grade after the contact.")
    next_contact_on: LocalDate | None = Field(
        default=None, description="Agreed date of the next contact (dealer-local date)."
    )
    notes: Note | None = Field(default=None, description="What was discussed.")


class AppointmentScheduled(_LeadsBase):
    """An invitation succeeded: a concrete date and time for a store visit or test drive."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The consultant books a visit/test-drive appointment with the prospect.",
        emitted_by=("leads",),
        reacted_by=("notifier: customer reminders 24 h and 2 h before",),
    )
    type: Literal["AppointmentScheduled"] = Field(
        default="AppointmentScheduled", description="Event name."
    )
    appointment_id: EntityId = Field(description="Identifier of the appointment.")
    lead_id: EntityId = Field(description="Lead the appointment belongs to.")
    purpose: AppointmentPurpose = Field(description="What the appointment is for.")
    scheduled_for: UtcDatetime = Field(description="Agreed start time, UTC.")
    consultant_id: StaffId = Field(description="Consultant who will receive the customer.")
    location: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Where to meet, if not the showroom."
    )
    contact: ContactSnapshot = Field(description="How to reach the customer for reminders.")


class AppointmentRescheduled(_LeadsBase):
    """An appointment moved to another time."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="Customer or consultant moves an appointment.",
        emitted_by=("leads",),
        reacted_by=("notifier: replaces the pending reminders with ones for the new time",),
    )
    type: Literal["AppointmentRescheduled"] = Field(
        default="AppointmentRescheduled", description="Event name."
    )
    appointment_id: EntityId = Field(description="Identifier of the appointment.")
    lead_id: EntityId = Field(description="Lead the appointment belongs to.")
    previous_scheduled_for: UtcDatetime = Field(description="Start time before the change.")
    scheduled_for: UtcDatetime = Field(description="New start time, UTC.")
    reason: Note | None = Field(default=None, description="Why it moved.")
    purpose: AppointmentPurpose | None = Field(
        default=None, description="What the appointment is for (unchanged by the move)."
    )
    location: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Where to meet after the move, if not the showroom."
    )


class AppointmentCancelled(_LeadsBase):
    """An appointment was called off."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="Customer or dealer cancels an appointment.",
        emitted_by=("leads",),
        reacted_by=("notifier: cancels the appointment's pending reminders",),
    )
    type: Literal["AppointmentCancelled"] = Field(
        default="AppointmentCancelled", description="Event name."
    )
    appointment_id: EntityId = Field(description="Identifier of the appointment.")
    lead_id: EntityId = Field(description="Lead the appointment belongs to.")
    cancelled_by: CancelledBy = Field(description="Whether the customer or the dealer cancelled.")
    reason: Note | None = Field(default=None, description="Why it was cancelled.")
    cancelled_at: UtcDatetime = Field(description="When it was cancelled, UTC.")


class AppointmentAttended(_LeadsBase):
    """The customer came to the appointment."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The consultant marks the customer as arrived for the appointment.",
        emitted_by=("leads",),
        reacted_by=("notifier: cancels reminders still pending",),
    )
    type: Literal["AppointmentAttended"] = Field(
        default="AppointmentAttended", description="Event name."
    )
    appointment_id: EntityId = Field(description="Identifier of the appointment.")
    lead_id: EntityId = Field(description="Lead the appointment belongs to.")
    consultant_id: StaffId = Field(description="Consultant who received the customer.")
    attended_at: UtcDatetime = Field(description="Arrival time, UTC.")


class AppointmentNoShow(_LeadsBase):
    """The customer did not come to the appointment."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The appointment time passed without the customer arriving.",
        emitted_by=("leads",),
        reacted_by=(
            "notifier: follow-up call for the consultant (due as a phoned-in lead's first "
            "call) and cancels reminders still pending",
        ),
    )
    type: Literal["AppointmentNoShow"] = Field(
        default="AppointmentNoShow", description="Event name."
    )
    appointment_id: EntityId = Field(description="Identifier of the appointment.")
    lead_id: EntityId = Field(description="Lead the appointment belongs to.")
    consultant_id: StaffId = Field(description="Consultant who waited.")
    scheduled_for: UtcDatetime = Field(description="The missed start time, UTC.")
    recorded_at: UtcDatetime = Field(description="When the no-show was recorded, UTC.")


class InvitationDeclined(_LeadsBase):
    """The prospect declined the invitation; no new-car pitching until they re-engage."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The prospect declines to come to the store or test drive.",
        emitted_by=("leads",),
        reacted_by=(
            "notifier: cancels the lead's sales follow-up tasks and plans none, and "
            "suppresses marketing messages to the customer (NotificationSuppressed, policy "
            "invitation_declined), until a LeadUpdated re_engaged",
        ),
    )
    type: Literal["InvitationDeclined"] = Field(
        default="InvitationDeclined", description="Event name."
    )
    lead_id: EntityId = Field(description="Identifier of the lead.")
    consultant_id: StaffId = Field(description="Consultant who made the invitation.")
    declined_at: UtcDatetime = Field(description="When the prospect declined, UTC.")
    reason: Note | None = Field(default=None, description="What the prospect said.")


class LeadLost(_LeadsBase):
    """The lead was lost (grade F) with a reason, for manager review."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The consultant closes the lead as lost.",
        emitted_by=("leads",),
        reacted_by=(
            "notifier: cancels the lead's follow-up tasks",
            "notifier: creates the sales manager's review task, due at once",
        ),
    )
    type: Literal["LeadLost"] = Field(default="LeadLost", description="Event name.")
    lead_id: EntityId = Field(description="Identifier of the lead.")
    reason: LostReason = Field(description="Why the lead was lost.")
    reason_note: Note | None = Field(
        default=None, description="Details, e.g. the brand bought elsewhere."
    )
    consultant_id: StaffId | None = Field(default=None, description="Consultant of the lead.")
    lost_at: UtcDatetime = Field(description="When the lead was closed as lost, UTC.")


class LeadConverted(_LeadsBase):
    """The lead became a customer: a contract was signed (grade O)."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="leads sees the ContractSigned for the lead's customer.",
        emitted_by=("leads",),
        reacted_by=(
            "notifier: cancels the sales follow-up cadence",
            "notifier: a referred lead's referral counts for the referrer's tier "
            "(CustomerTierChanged when the tier changes)",
        ),
    )
    type: Literal["LeadConverted"] = Field(default="LeadConverted", description="Event name.")
    lead_id: EntityId = Field(description="Identifier of the lead.")
    contract_id: EntityId = Field(description="Contract that converted the lead.")
    consultant_id: StaffId | None = Field(default=None, description="Consultant of the lead.")
    converted_at: UtcDatetime = Field(description="When the contract was signed, UTC.")


class LeadMerged(_LeadsBase):
    """Duplicate leads were merged into one surviving lead."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="A sales manager merges duplicates of one person (e.g. a second phone number: "
        "POST /v1/leads/{lead_id}/merge); customer_id is the surviving identity.",
        emitted_by=("leads",),
        reacted_by=(
            "notifier: cancels the merged leads' first contact and sales cadence (the "
            "survivor's own governs) and moves their other open tasks and scheduled "
            "reminders, and those of the merged customer ids, to the survivor",
        ),
    )
    type: Literal["LeadMerged"] = Field(default="LeadMerged", description="Event name.")
    lead_id: EntityId = Field(description="Surviving lead.")
    merged_lead_ids: list[EntityId] = Field(
        min_length=1, description="Leads merged into the survivor (now closed)."
    )
    merged_customer_ids: list[CustomerId] = Field(
        default_factory=list,
        description="Customer ids that now denote the surviving customer_id.",
    )
    merged_at: UtcDatetime = Field(description="When the merge happened, UTC.")


class LeadLostReviewed(_LeadsBase):
    """The sales manager reviewed a lost lead: the loss approved, or the lead reopened."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="A sales manager or gm records the review of a lead's loss "
        "(POST /v1/leads/{lead_id}/review on leads); a reopened lead also gets a LeadGraded.",
        emitted_by=("leads",),
        reacted_by=(
            "notifier: the lead's open lost-review task is done (cancelled as no longer needed)",
        ),
    )
    type: Literal["LeadLostReviewed"] = Field(default="LeadLostReviewed", description="Event name.")
    lead_id: EntityId = Field(description="Identifier of the lead.")
    decision: Literal["approve", "reopen"] = Field(
        description="approve: the loss stands (grade F); reopen: back to a live grade."
    )
    grade_after: LeadGrade | None = Field(
        default=None, description="The live grade a reopened lead went back to."
    )
    lost_at: UtcDatetime = Field(description="When the reviewed loss was recorded, UTC.")
    reviewed_by: StaffId = Field(description="Who reviewed it.")
    reviewed_at: UtcDatetime = Field(description="When it was reviewed, UTC.")


ErasureBasis = Literal["pipl-art-47", "gdpr-art-17", "customer-request"]


class CustomerErasureRequested(_LeadsBase):
    """A customer's personal information is to be erased at one store (PIPL Art. 47,
    GDPR Art. 17): every service anonymises what it holds about the customer there."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="A manager records an erasure request (POST /v1/customers/{customer_id}/"
        "erasure on leads, the owner of the customer's first record). It carries no "
        "personal data: only the customer id, the store and who asked.",
        emitted_by=("leads",),
        reacted_by=(
            "leads: anonymises the customer's leads (contact, phone, lost note, contact "
            "log notes, the submitted documents) and keeps their grades, interest, dates "
            "and history",
            "sales: anonymises the customer's contracts (contact, address, cancellation "
            "and amendment reasons), refund reasons, invoices (title, tax number), delivery "
            "locations and test drives (contact, licence number, route); keeps prices, "
            "versions, VINs, ids and dates (quotes hold nothing personal)",
            "service-center: anonymises the customer's repair orders (contact, concerns and "
            "the concern codes taken from them, walk-around and diagnosis findings, work "
            "summary) and their quality-check reasons; keeps the VIN, quote and work items, "
            "statuses, mileages, amounts, ids and dates",
            "complaints: anonymises the customer's complaints (contact; summary, details, "
            "pause reason and resolution text), the notes and reasons in their history, the "
            "stored contact and the events of triggers waiting for it; keeps ids, statuses, "
            "clocks, escalations, dates and every history entry",
            "notifier: cancels the customer's reminders and messages not sent yet, "
            "anonymises the contact snapshots, reminder parameters, message addresses and "
            "texts, and the notes of tasks (and a name or address copied into their titles "
            "or scripts); keeps ids, statuses, outcomes, assignees and dates",
        ),
    )
    type: Literal["CustomerErasureRequested"] = Field(
        default="CustomerErasureRequested", description="Event name."
    )
    erasure_id: EntityId = Field(description="Identifier of the erasure request at leads.")
    basis: ErasureBasis = Field(
        default="customer-request",
        description="Why: the data subject's request under PIPL Art. 47 or GDPR Art. 17, "
        "or the customer's request without a named law.",
    )
    requested_by: StaffId = Field(description="Staff id of the manager who recorded it.")
    requested_at: UtcDatetime = Field(description="When the request was recorded, UTC.")


LEADS_EVENTS: tuple[type[DomainEvent], ...] = (
    LeadCreated,
    LeadUpdated,
    LeadGraded,
    LeadAssigned,
    LeadContacted,
    AppointmentScheduled,
    AppointmentRescheduled,
    AppointmentCancelled,
    AppointmentAttended,
    AppointmentNoShow,
    InvitationDeclined,
    LeadLost,
    LeadConverted,
    LeadMerged,
    LeadLostReviewed,
    CustomerErasureRequested,
)
