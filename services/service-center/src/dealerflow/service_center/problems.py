"""The service-center's domain exceptions as RFC 9457 problems (installed by the runtime)."""

from __future__ import annotations

from dealerflow.runtime.problems import ProblemMap, ProblemSpec
from dealerflow.service_center.domain import (
    BrokenRule,
    DecisionError,
    DecisionIncomplete,
    HandoverNotReady,
    IllegalStep,
    NoQuotedLines,
    OdometerWentBack,
    QualityCheckError,
    RepairQuoteError,
    UnapprovedWork,
    WrongCurrency,
)
from dealerflow.service_center.domain_appointments import (
    AppointmentClosed,
    CheckInMismatch,
    SlotNotOffered,
)
from dealerflow.service_center.domain_parts import PartsNotMovable, ReceiptRefused
from dealerflow.service_center.usecases import (
    InvalidPhone,
    RepairOrderIdTaken,
    RepairOrderNotFound,
)
from dealerflow.service_center.usecases_appointments import (
    AppointmentIdTaken,
    AppointmentNotFound,
    SlotFull,
)
from dealerflow.service_center.usecases_detailing import (
    DetailingNotAuthorised,
    DetailingRefused,
    NotDetailingWork,
)
from dealerflow.service_center.usecases_parts import (
    PartNotFound,
    PurchaseOrderIdTaken,
    PurchaseOrderNotFound,
)

PROBLEMS: ProblemMap = {
    RepairOrderNotFound: ProblemSpec(404, "not-found", "Repair order not found"),
    PartNotFound: ProblemSpec(404, "not-found", "Part not found"),
    PartsNotMovable: ProblemSpec(409, "parts-not-movable", "Parts cannot be moved"),
    PurchaseOrderNotFound: ProblemSpec(404, "not-found", "Purchase order not found"),
    PurchaseOrderIdTaken: ProblemSpec(409, "purchase-order-id-taken", "Purchase order id taken"),
    ReceiptRefused: ProblemSpec(409, "already-received", "Purchase order received already"),
    IllegalStep: ProblemSpec(409, "illegal-transition", "Illegal repair order transition"),
    RepairOrderIdTaken: ProblemSpec(409, "repair-order-id-taken", "Repair order id taken"),
    UnapprovedWork: ProblemSpec(409, "unapproved-work", "Work without approval"),
    HandoverNotReady: ProblemSpec(409, "handover-not-ready", "Vehicle not ready for handover"),
    BrokenRule: ProblemSpec(422, "validation-error", "Request refused"),
    InvalidPhone: ProblemSpec(422, "invalid-phone", "Invalid phone number"),
    RepairQuoteError: ProblemSpec(422, "invalid-repair-quote", "Quote refused"),
    DecisionError: ProblemSpec(422, "invalid-decision", "Decision refused"),
    DecisionIncomplete: ProblemSpec(422, "invalid-decision", "Decision incomplete"),
    NoQuotedLines: ProblemSpec(422, "validation-error", "No quote"),
    QualityCheckError: ProblemSpec(422, "invalid-quality-check", "Quality check refused"),
    WrongCurrency: ProblemSpec(422, "validation-error", "Wrong currency"),
    OdometerWentBack: ProblemSpec(422, "validation-error", "Odometer went back"),
    DetailingRefused: ProblemSpec(422, "detailing-refused", "Detailing work refused"),
    NotDetailingWork: ProblemSpec(409, "not-detailing-work", "Not detailing work"),
    DetailingNotAuthorised: ProblemSpec(
        409, "detailing-not-authorised", "Detailing work not authorised"
    ),
    AppointmentNotFound: ProblemSpec(404, "not-found", "Service appointment not found"),
    SlotFull: ProblemSpec(409, "slot-full", "Slot fully booked"),
    AppointmentClosed: ProblemSpec(409, "appointment-closed", "Appointment closed"),
    AppointmentIdTaken: ProblemSpec(409, "appointment-id-taken", "Appointment id taken"),
    SlotNotOffered: ProblemSpec(422, "slot-not-offered", "Not a bookable slot"),
    CheckInMismatch: ProblemSpec(422, "validation-error", "Not the booked vehicle"),
}
