"""Every dealerflow event, grouped per context, and one discriminated union per topic.

The unions discriminate on the `type` field (the event name). They parse a payload whose
topic is known but whose ce_type is not at hand; the envelope decoder does not need them,
it picks the class from ce_type via `dealerflow.contracts.registry`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from dealerflow.contracts.events.base import CONTEXTS, DomainEvent, EventDoc, Planned
from dealerflow.contracts.events.complaints import (
    COMPLAINTS_EVENTS,
    ComplaintAcknowledged,
    ComplaintAssigned,
    ComplaintClosed,
    ComplaintEscalated,
    ComplaintOpened,
    ComplaintReopened,
    ComplaintResolved,
    ComplaintSlaBreached,
)
from dealerflow.contracts.events.dealers import DEALERS_EVENTS, DealerConfigured
from dealerflow.contracts.events.leads import (
    LEADS_EVENTS,
    AppointmentAttended,
    AppointmentCancelled,
    AppointmentNoShow,
    AppointmentRescheduled,
    AppointmentScheduled,
    CustomerErasureRequested,
    InvitationDeclined,
    LeadAssigned,
    LeadContacted,
    LeadConverted,
    LeadCreated,
    LeadGraded,
    LeadLost,
    LeadLostReviewed,
    LeadMerged,
    LeadUpdated,
)
from dealerflow.contracts.events.notifier import (
    NOTIFIER_EVENTS,
    ConsentChanged,
    CustomerTierChanged,
    NotificationFailed,
    NotificationSent,
    NotificationSuppressed,
    ReminderScheduled,
    SurveyResponded,
    TaskCancelled,
    TaskCompleted,
    TaskDue,
    TaskScheduled,
)
from dealerflow.contracts.events.sales import (
    SALES_EVENTS,
    ContractAmended,
    ContractCancelled,
    ContractSigned,
    DeliveryScheduled,
    DiscountApprovalDecided,
    DiscountApprovalRequested,
    InvoiceIssued,
    LoanDecided,
    PaymentConfirmed,
    PaymentReceived,
    QuoteIssued,
    RefundIssued,
    ShowroomVisitRecorded,
    TestDriveCancelled,
    TestDriveCompleted,
    TestDriveScheduled,
    VehicleDelivered,
)
from dealerflow.contracts.events.service import (
    SERVICE_EVENTS,
    CustomerAtRisk,
    DiagnosisCompleted,
    MaintenanceDue,
    PartsReserved,
    PartStockLow,
    PartStockReplenished,
    QualityCheckFailed,
    QualityCheckPassed,
    RepairApproved,
    RepairCompleted,
    RepairItemDeclined,
    RepairOrderOpened,
    RepairQuoted,
    ServiceAppointmentBooked,
    ServiceAppointmentCancelled,
    ServiceTierChanged,
    VehicleHandedOver,
)

LeadsEvent = Annotated[
    LeadCreated
    | LeadUpdated
    | LeadGraded
    | LeadAssigned
    | LeadContacted
    | AppointmentScheduled
    | AppointmentRescheduled
    | AppointmentCancelled
    | AppointmentAttended
    | AppointmentNoShow
    | InvitationDeclined
    | LeadLost
    | LeadConverted
    | LeadMerged
    | LeadLostReviewed
    | CustomerErasureRequested,
    Field(discriminator="type"),
]
"""Any event of the leads topic, discriminated on `type`."""

SalesEvent = Annotated[
    ShowroomVisitRecorded
    | TestDriveScheduled
    | TestDriveCompleted
    | TestDriveCancelled
    | QuoteIssued
    | DiscountApprovalRequested
    | DiscountApprovalDecided
    | ContractSigned
    | ContractAmended
    | ContractCancelled
    | PaymentReceived
    | PaymentConfirmed
    | LoanDecided
    | RefundIssued
    | InvoiceIssued
    | DeliveryScheduled
    | VehicleDelivered,
    Field(discriminator="type"),
]
"""Any event of the sales topic, discriminated on `type`."""

ServiceEvent = Annotated[
    ServiceAppointmentBooked
    | ServiceAppointmentCancelled
    | RepairOrderOpened
    | DiagnosisCompleted
    | RepairQuoted
    | RepairApproved
    | RepairItemDeclined
    | PartsReserved
    | PartStockLow
    | PartStockReplenished
    | RepairCompleted
    | QualityCheckPassed
    | QualityCheckFailed
    | VehicleHandedOver
    | MaintenanceDue
    | CustomerAtRisk
    | ServiceTierChanged,
    Field(discriminator="type"),
]
"""Any event of the service topic, discriminated on `type`."""

ComplaintsEvent = Annotated[
    ComplaintOpened
    | ComplaintAcknowledged
    | ComplaintAssigned
    | ComplaintEscalated
    | ComplaintSlaBreached
    | ComplaintResolved
    | ComplaintReopened
    | ComplaintClosed,
    Field(discriminator="type"),
]
"""Any event of the complaints topic, discriminated on `type`."""

NotifierEvent = Annotated[
    TaskScheduled
    | TaskDue
    | TaskCompleted
    | TaskCancelled
    | ReminderScheduled
    | NotificationSent
    | NotificationFailed
    | NotificationSuppressed
    | SurveyResponded
    | ConsentChanged
    | CustomerTierChanged,
    Field(discriminator="type"),
]
"""Any event of the notifier topic, discriminated on `type`."""

EVENTS_BY_CONTEXT: Mapping[str, tuple[type[DomainEvent], ...]] = MappingProxyType(
    {
        "leads": LEADS_EVENTS,
        "sales": SALES_EVENTS,
        "service": SERVICE_EVENTS,
        "complaints": COMPLAINTS_EVENTS,
        "notifier": NOTIFIER_EVENTS,
        "dealers": DEALERS_EVENTS,
    }
)
"""Event classes per context, in catalogue order."""

ALL_EVENTS: tuple[type[DomainEvent], ...] = tuple(
    cls for context in CONTEXTS for cls in EVENTS_BY_CONTEXT[context]
)
"""Every event class, in catalogue order."""

TOPIC_ADAPTERS: Mapping[str, TypeAdapter[Any]] = MappingProxyType(
    {
        "leads": TypeAdapter(LeadsEvent),
        "sales": TypeAdapter(SalesEvent),
        "service": TypeAdapter(ServiceEvent),
        "complaints": TypeAdapter(ComplaintsEvent),
        "notifier": TypeAdapter(NotifierEvent),
        "dealers": TypeAdapter(DealerConfigured),
    }
)
"""Validators of the per-topic unions, keyed by context."""

__all__ = [
    "ALL_EVENTS",
    "COMPLAINTS_EVENTS",
    "CONTEXTS",
    "DEALERS_EVENTS",
    "EVENTS_BY_CONTEXT",
    "LEADS_EVENTS",
    "NOTIFIER_EVENTS",
    "SALES_EVENTS",
    "SERVICE_EVENTS",
    "TOPIC_ADAPTERS",
    "AppointmentAttended",
    "AppointmentCancelled",
    "AppointmentNoShow",
    "AppointmentRescheduled",
    "AppointmentScheduled",
    "ComplaintAcknowledged",
    "ComplaintAssigned",
    "ComplaintClosed",
    "ComplaintEscalated",
    "ComplaintOpened",
    "ComplaintReopened",
    "ComplaintResolved",
    "ComplaintSlaBreached",
    "ComplaintsEvent",
    "ConsentChanged",
    "ContractAmended",
    "ContractCancelled",
    "ContractSigned",
    "CustomerAtRisk",
    "CustomerErasureRequested",
    "CustomerTierChanged",
    "DealerConfigured",
    "DeliveryScheduled",
    "DiagnosisCompleted",
    "DiscountApprovalDecided",
    "DiscountApprovalRequested",
    "DomainEvent",
    "EventDoc",
    "InvitationDeclined",
    "InvoiceIssued",
    "LeadAssigned",
    "LeadContacted",
    "LeadConverted",
    "LeadCreated",
    "LeadGraded",
    "LeadLost",
    "LeadLostReviewed",
    "LeadMerged",
    "LeadUpdated",
    "LeadsEvent",
    "LoanDecided",
    "MaintenanceDue",
    "NotificationFailed",
    "NotificationSent",
    "NotificationSuppressed",
    "NotifierEvent",
    "PartStockLow",
    "PartStockReplenished",
    "PartsReserved",
    "PaymentConfirmed",
    "PaymentReceived",
    "Planned",
    "QualityCheckFailed",
    "QualityCheckPassed",
    "QuoteIssued",
    "RefundIssued",
    "ReminderScheduled",
    "RepairApproved",
    "RepairCompleted",
    "RepairItemDeclined",
    "RepairOrderOpened",
    "RepairQuoted",
    "SalesEvent",
    "ServiceAppointmentBooked",
    "ServiceAppointmentCancelled",
    "ServiceEvent",
    "ServiceTierChanged",
    "ShowroomVisitRecorded",
    "SurveyResponded",
    "TaskCancelled",
    "TaskCompleted",
    "TaskDue",
    "TaskScheduled",
    "TestDriveCancelled",
    "TestDriveCompleted",
    "TestDriveScheduled",
    "VehicleDelivered",
    "VehicleHandedOver",
]
