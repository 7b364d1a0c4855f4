"""Value types of the notifier rules: planned tasks, reminders and alerts, and the facts
the consumers map from events before calling a planner (so the rules do not depend on
every optional field of every event version)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from dealerflow.contracts.care_enums import RecordKind, ReminderKind, TaskKind
from dealerflow.contracts.enums import ConsentPurpose, ContactOutcome
from dealerflow.notifier.domain_task_texts import TaskText


class StaffRole(StrEnum):
    """Who a task or alert is for when no person is named (or in addition to one)."""

    CONSULTANT = "consultant"
    SALES_MANAGER = "sales_manager"
    ADVISOR = "advisor"
    SERVICE_MANAGER = "service_manager"
    CUSTOMER_RELATIONS = "customer_relations"
    COMPLAINT_HANDLER = "complaint_handler"
    DEPARTMENT_MANAGER = "department_manager"
    GM = "gm"
    OEM_REGION = "oem_region"
    PARTS_MANAGER = "parts_manager"


class AlertKind(StrEnum):
    """What a watch timer does when it fires and the watched task is still open."""

    WARNING = "warning"  # tell the assignee the deadline is near
    ESCALATION = "escalation"  # tell the manager the deadline was missed
    REASSIGN = "reassign"  # missed again: the lead goes to another consultant


@dataclass(frozen=True, slots=True)
class RecordRef:
    """The business record an item is about (lead, delivery, repair order, ...)."""

    kind: RecordKind
    id: str


@dataclass(frozen=True, slots=True)
class PlannedTask:
    """A staff task (callback) due at `due_at`; done only when an outcome is recorded."""

    key: str
    kind: TaskKind
    dealer_id: str
    customer_id: UUID
    due_at: datetime
    assignee_role: StaffRole
    assignee_id: str | None
    related: RecordRef
    script: str  # what to say or do, shown to the assignee (English; see ``text``)
    #: the catalogue script (`domain_task_texts`): written in the dealer's staff language
    #: when the task is scheduled; None: ``script`` as it is (a manual task's own text)
    text: TaskText | None = None


@dataclass(frozen=True, slots=True)
class PlannedReminder:
    """A customer message to send at `send_at`; `decide_send` is asked again at that time."""

    key: str
    kind: ReminderKind
    dealer_id: str
    customer_id: UUID
    send_at: datetime
    purpose: ConsentPurpose
    related: RecordRef
    params: Mapping[str, str] = field(default_factory=dict)  # template params known now


@dataclass(frozen=True, slots=True)
class PlannedAlert:
    """A watch timer: fires at `fire_at` unless the task keyed `watches` is done by then."""

    key: str
    kind: AlertKind
    dealer_id: str
    customer_id: UUID
    fire_at: datetime
    recipient_role: StaffRole
    recipient_id: str | None
    watches: str
    related: RecordRef


PlannedItem = PlannedTask | PlannedReminder | PlannedAlert


@dataclass(frozen=True, slots=True)
class LeadFacts:
    """From LeadCreated (or a first ShowroomVisitRecorded)."""

    dealer_id: str
    customer_id: UUID
    lead_id: str
    channel: str  # LeadChannel value (online, walk_in, phone) or a source name
    created_at: datetime
    consultant_id: str | None = None
    #: False for a lead created from a showroom visit: the visit's thank-you stands for it
    thank_you: bool = True


@dataclass(frozen=True, slots=True)
class LeadContactFacts:
    """From LeadContacted."""

    dealer_id: str
    lead_id: str
    consultant_id: str
    outcome: ContactOutcome | str
    contacted_at: datetime
    customer_id: UUID
    grade_after: str | None = None  # LeadGrade value, when the event says
    next_contact_on: date | None = None  # dealer-local date agreed for the next contact


@dataclass(frozen=True, slots=True)
class LeadAssignmentFacts:
    """From LeadAssigned (a first assignment or a reassignment)."""

    dealer_id: str
    lead_id: str
    consultant_id: str


@dataclass(frozen=True, slots=True)
class LeadClosedFacts:
    """From LeadLost or LeadConverted."""

    dealer_id: str
    lead_id: str


@dataclass(frozen=True, slots=True)
class LeadMergeFacts:
    """From LeadMerged: the surviving lead and customer, the leads and customer ids merged
    into them."""

    dealer_id: str
    customer_id: UUID
    lead_id: str
    merged_lead_ids: tuple[str, ...]
    merged_customer_ids: tuple[UUID, ...]


@dataclass(frozen=True, slots=True)
class LeadGradeFacts:
    """From LeadGraded."""

    dealer_id: str
    customer_id: UUID
    lead_id: str
    grade: str  # LeadGrade value
    graded_at: datetime
    consultant_id: str | None = None


@dataclass(frozen=True, slots=True)
class InvitationDeclinedFacts:
    """From InvitationDeclined."""

    dealer_id: str
    customer_id: UUID
    lead_id: str
    declined_at: datetime


@dataclass(frozen=True, slots=True)
class LeadUpdateFacts:
    """From LeadUpdated."""

    dealer_id: str
    customer_id: UUID
    lead_id: str
    reason: str  # LeadUpdateReason value (edited, new_touch, re_engaged)
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LeadLostFacts:
    """From LeadLost."""

    dealer_id: str
    customer_id: UUID
    lead_id: str
    reason: str  # LostReason value
    lost_at: datetime
    consultant_id: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryFacts:
    """From VehicleDelivered (ours or an outside DMS's)."""

    dealer_id: str
    customer_id: UUID
    delivery_id: str
    delivered_at: datetime
    consultant_id: str | None = None
    odometer_km: int = 0
    insurance_start: date | None = None  # defaults to the dealer-local delivery date
    contract_id: str | None = None  # the contract delivered (sales' VehicleDelivered names it)


@dataclass(frozen=True, slots=True)
class HandoverFacts:
    """From VehicleHandedOver (service)."""

    dealer_id: str
    customer_id: UUID
    repair_order_id: str
    handed_over_at: datetime
    advisor_id: str | None = None


@dataclass(frozen=True, slots=True)
class DeclinedItemFacts:
    """From RepairItemDeclined."""

    dealer_id: str
    customer_id: UUID
    repair_order_id: str
    item_id: str
    item_description: str
    declined_at: datetime
    advisor_id: str | None = None
    follow_up_on: date | None = None  # dealer-local date; default declined + policy delay


@dataclass(frozen=True, slots=True)
class AppointmentFacts:
    """From AppointmentScheduled/Rescheduled, TestDriveScheduled, ServiceAppointmentBooked."""

    dealer_id: str
    customer_id: UUID
    record: RecordRef
    starts_at: datetime
    reminder_kind: ReminderKind = ReminderKind.APPOINTMENT
    location: str | None = None


@dataclass(frozen=True, slots=True)
class ComplaintEscalationFacts:
    """From ComplaintEscalated."""

    dealer_id: str
    customer_id: UUID
    complaint_id: str
    level: int  # 1 department manager, 2 GM, 3 OEM/region
    role: str  # EscalationRole value
    clock: str  # SlaClock value of the breached clock
    escalated_at: datetime
    to_staff_id: str | None = None
    due_at: datetime | None = None  # the deadline that was missed


@dataclass(frozen=True, slots=True)
class ComplaintFinishedFacts:
    """From ComplaintResolved or ComplaintClosed."""

    dealer_id: str
    complaint_id: str
