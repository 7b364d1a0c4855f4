"""Events of the after-sales context (topic dealerflow.service), emitted by service-center."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import (
    ApprovalMethod,
    CancelledBy,
    IntakeChannel,
    MaintenanceReason,
    PartCategory,
    RepairItemKind,
    RetentionLevel,
    ServiceTier,
    ServiceWorkType,
)
from dealerflow.contracts.events.base import DomainEvent, EventDoc
from dealerflow.contracts.types import (
    DecimalString,
    EntityId,
    Kilometres,
    LocalDate,
    Money,
    StaffId,
    Trimmed,
    UtcDatetime,
    Vin,
)

Text = Annotated[str, StringConstraints(max_length=2000)]
Line = Annotated[str, Trimmed(max_length=500)]
PartNumber = Annotated[str, Trimmed(max_length=64)]


class RepairItem(BaseModel):
    """One line of a repair quote: labour (standard hours x rate) or a part."""

    model_config = ConfigDict(frozen=True)

    item_id: EntityId = Field(description="Identifier of the line within the repair order.")
    kind: RepairItemKind = Field(description="Labour or part.")
    description: Line = Field(description="What the line is, e.g. 'Replace front brake pads'.")
    labour_hours: DecimalString | None = Field(
        default=None, description='Standard labour hours for labour lines, e.g. "1.5".'
    )
    part_number: PartNumber | None = Field(default=None, description="Part number for parts.")
    quantity: int = Field(default=1, ge=1, description="Quantity (parts) or 1 (labour).")
    amount: Money = Field(description="Line total.")


class PartLine(BaseModel):
    """A quantity of one part."""

    model_config = ConfigDict(frozen=True)

    part_number: PartNumber = Field(description="Part number.")
    description: Line = Field(description="Part name.")
    quantity: int = Field(ge=1, description="Quantity reserved.")
    category: PartCategory = Field(description="Stock category of the part.")


class _ServiceBase(DomainEvent):
    context: ClassVar[str] = "service"


class ServiceAppointmentBooked(_ServiceBase):
    """A service visit was booked into a slot with bay/technician capacity."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="An appointment is booked by phone, online or on site, and again (same "
        "appointment id, the new slot) each time it is rescheduled.",
        emitted_by=("service-center",),
        reacted_by=(
            "notifier: plans the customer's reminder the dealer's "
            "service.appointment_reminder_before ahead of the slot (24 h by default); a "
            "reschedule replaces the pending one",
        ),
    )
    type: Literal["ServiceAppointmentBooked"] = Field(
        default="ServiceAppointmentBooked", description="Event name."
    )
    service_appointment_id: EntityId = Field(description="Identifier of the appointment.")
    vin: Vin = Field(description="Vehicle to be serviced.")
    work_type: ServiceWorkType = Field(description="Classification of the work.")
    intake_channel: IntakeChannel = Field(description="How the booking was made.")
    slot_start: UtcDatetime = Field(description="Slot start, UTC.")
    slot_end: UtcDatetime = Field(description="Slot end, UTC.")
    advisor_id: StaffId | None = Field(default=None, description="Service advisor, if chosen.")
    pickup_requested: bool = Field(default=False, description="Customer wants pick-up.")
    dropoff_requested: bool = Field(default=False, description="Customer wants drop-off.")
    concerns: list[Line] = Field(default_factory=list, description="Customer's concerns.")
    contact: ContactSnapshot = Field(description="How to reach the customer.")


class ServiceAppointmentCancelled(_ServiceBase):
    """A service appointment was called off."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="Customer or dealer cancels a service appointment.",
        emitted_by=("service-center",),
        reacted_by=("notifier: withdraws the appointment's pending reminder",),
    )
    type: Literal["ServiceAppointmentCancelled"] = Field(
        default="ServiceAppointmentCancelled", description="Event name."
    )
    service_appointment_id: EntityId = Field(description="Identifier of the appointment.")
    vin: Vin = Field(description="Vehicle of the appointment.")
    cancelled_by: CancelledBy = Field(description="Whether the customer or the dealer cancelled.")
    reason: Text | None = Field(default=None, description="Why it was cancelled.")
    cancelled_at: UtcDatetime = Field(description="When it was cancelled, UTC.")


class RepairOrderOpened(_ServiceBase):
    """Check-in opened a repair order (RO) with mileage, concerns and walk-around."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The advisor checks the vehicle in.",
        emitted_by=("service-center", "outside DMS"),
        reacted_by=(
            "complaints: detects a repeat repair (same vehicle, same concern within 30 days) "
            "and opens a complaint",
            "notifier: cancels the vehicle's pending (not yet sent) maintenance-due reminders",
        ),
    )
    type: Literal["RepairOrderOpened"] = Field(
        default="RepairOrderOpened", description="Event name."
    )
    repair_order_id: EntityId = Field(description="Identifier of the repair order.")
    service_appointment_id: EntityId | None = Field(
        default=None, description="Appointment the visit was booked under, if any."
    )
    vin: Vin = Field(description="Vehicle checked in.")
    model: Line | None = Field(default=None, description="Vehicle model.")
    advisor_id: StaffId = Field(description="Service advisor in charge.")
    work_type: ServiceWorkType = Field(description="Classification of the work.")
    mileage_km: Kilometres = Field(description="Odometer at check-in, km.")
    concerns: list[Line] = Field(default_factory=list, description="Customer's concerns.")
    concern_codes: list[Line] = Field(
        default_factory=list,
        description="Normalised concern codes (used to detect repeat repairs).",
    )
    walk_around_findings: list[Line] = Field(
        default_factory=list, description="Findings of the walk-around inspection."
    )
    opened_at: UtcDatetime = Field(description="Check-in time, UTC.")
    contact: ContactSnapshot = Field(description="How to reach the customer.")


class DiagnosisCompleted(_ServiceBase):
    """A technician finished diagnosing the vehicle."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The technician records the diagnosis.",
        emitted_by=("service-center",),
        reacted_by=("none outside service-center (the advisor prepares a quote)",),
    )
    type: Literal["DiagnosisCompleted"] = Field(
        default="DiagnosisCompleted", description="Event name."
    )
    repair_order_id: EntityId = Field(description="Repair order diagnosed.")
    technician_id: StaffId = Field(description="Technician who diagnosed.")
    findings: list[Line] = Field(min_length=1, description="What was found.")
    completed_at: UtcDatetime = Field(description="When the diagnosis was finished, UTC.")


class RepairQuoted(_ServiceBase):
    """The customer was quoted parts plus labour; work waits for approval."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The advisor presents the repair quote.",
        emitted_by=("service-center",),
        reacted_by=("none outside service-center",),
    )
    type: Literal["RepairQuoted"] = Field(default="RepairQuoted", description="Event name.")
    repair_order_id: EntityId = Field(description="Repair order quoted.")
    quote_id: EntityId = Field(description="Identifier of the repair quote.")
    items: list[RepairItem] = Field(min_length=1, description="Quoted lines.")
    total: Money = Field(description="Sum of all lines.")
    quoted_at: UtcDatetime = Field(description="When the quote was presented, UTC.")


class RepairApproved(_ServiceBase):
    """The customer authorised (some of) the quoted work; work may start."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The customer approves quoted lines.",
        emitted_by=("service-center",),
        reacted_by=("none outside service-center",),
    )
    type: Literal["RepairApproved"] = Field(default="RepairApproved", description="Event name.")
    repair_order_id: EntityId = Field(description="Repair order approved.")
    quote_id: EntityId = Field(description="Quote approved.")
    approved_item_ids: list[EntityId] = Field(min_length=1, description="Lines approved.")
    approved_total: Money = Field(description="Total of the approved lines.")
    method: ApprovalMethod = Field(description="How the customer authorised the work.")
    approved_at: UtcDatetime = Field(description="When the approval was given, UTC.")


class RepairItemDeclined(_ServiceBase):
    """The customer declined a quoted line; it is kept and followed up later."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The customer declines a quoted line.",
        emitted_by=("service-center",),
        reacted_by=("notifier: follow-up task for the advisor on follow_up_on (default 30 d)",),
    )
    type: Literal["RepairItemDeclined"] = Field(
        default="RepairItemDeclined", description="Event name."
    )
    repair_order_id: EntityId = Field(description="Repair order of the quote.")
    quote_id: EntityId = Field(description="Quote the line belongs to.")
    item: RepairItem = Field(description="The declined line.")
    vin: Vin = Field(description="Vehicle concerned.")
    advisor_id: StaffId = Field(description="Advisor who follows up.")
    follow_up_on: LocalDate = Field(description="Dealer-local date to follow up.")
    declined_at: UtcDatetime = Field(description="When the customer declined, UTC.")


class PartsReserved(_ServiceBase):
    """Parts were reserved from stock against a repair order."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The customer approves repair lines that name a part and the stock covers them "
        "(a line short of stock is recorded back-ordered, not reserved).",
        emitted_by=("service-center",),
        reacted_by=("none outside service-center",),
    )
    type: Literal["PartsReserved"] = Field(default="PartsReserved", description="Event name.")
    repair_order_id: EntityId = Field(description="Repair order the parts are for.")
    parts: list[PartLine] = Field(min_length=1, description="Parts reserved.")
    reserved_at: UtcDatetime = Field(description="When the parts were reserved, UTC.")


class PartStockLow(_ServiceBase):
    """Stock of a part fell to or below its reorder point.

    customer_id is the customer of the repair order whose reservation triggered the alert,
    or `identity.house_customer_id(dealer_id)` when no customer is involved (stock count)."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="A reservation or stock count leaves the available quantity (on hand - "
        "reserved) at/below the reorder point; once per crossing.",
        emitted_by=("service-center",),
        reacted_by=("notifier: reorder task for the parts manager (replaces the part's open one)",),
    )
    type: Literal["PartStockLow"] = Field(default="PartStockLow", description="Event name.")
    part_number: PartNumber = Field(description="Part number.")
    description: Line = Field(description="Part name.")
    category: PartCategory = Field(description="Stock category.")
    on_hand: int = Field(ge=0, description="Quantity on hand after the change.")
    reorder_point: int = Field(ge=0, description="Quantity at which to reorder.")
    repair_order_id: EntityId | None = Field(
        default=None, description="Repair order whose reservation triggered the alert."
    )
    detected_at: UtcDatetime = Field(description="When the low stock was detected, UTC.")
    subject_key: ClassVar[str | None] = "part_number"


class PartStockReplenished(_ServiceBase):
    """A receipt lifted a low part's available stock above its reorder point again.

    customer_id is `identity.house_customer_id(dealer_id)` (no customer is involved)."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="A purchase order's receipt leaves the available quantity (on hand - reserved) "
        "of a part that was at/below its reorder point above it; once per crossing.",
        emitted_by=("service-center",),
        reacted_by=(
            "notifier: cancels the part's open reorder task (no_longer_needed; the stock is back)",
        ),
    )
    type: Literal["PartStockReplenished"] = Field(
        default="PartStockReplenished", description="Event name."
    )
    part_number: PartNumber = Field(description="Part number.")
    description: Line = Field(description="Part name.")
    on_hand: int = Field(ge=0, description="Quantity on hand after the receipt.")
    available: int = Field(ge=0, description="On hand - reserved after the receipt.")
    reorder_point: int = Field(ge=0, description="Quantity at which to reorder.")
    purchase_order_id: EntityId | None = Field(
        default=None, description="Purchase order whose receipt restocked the part."
    )
    replenished_at: UtcDatetime = Field(description="When the receipt was recorded, UTC.")
    subject_key: ClassVar[str | None] = "part_number"


class RepairCompleted(_ServiceBase):
    """The approved work on a repair order is finished (quality check follows)."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The technician reports the work done.",
        emitted_by=("service-center",),
        reacted_by=("none outside service-center",),
    )
    type: Literal["RepairCompleted"] = Field(default="RepairCompleted", description="Event name.")
    repair_order_id: EntityId = Field(description="Repair order completed.")
    technician_ids: list[StaffId] = Field(min_length=1, description="Technicians who worked.")
    work_summary: Text = Field(description="What was done.")
    labour_hours: DecimalString = Field(description='Labour hours booked, e.g. "2.5".')
    completed_at: UtcDatetime = Field(description="When the work finished, UTC.")


class QualityCheckPassed(_ServiceBase):
    """The post-repair quality check passed."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The inspector passes the vehicle.",
        emitted_by=("service-center",),
        reacted_by=("none outside service-center (handover follows)",),
    )
    type: Literal["QualityCheckPassed"] = Field(
        default="QualityCheckPassed", description="Event name."
    )
    repair_order_id: EntityId = Field(description="Repair order checked.")
    inspector_id: StaffId = Field(description="Inspector.")
    attempt: int = Field(ge=1, description="1 for the first check, 2+ after rework.")
    checked_at: UtcDatetime = Field(description="When the check was done, UTC.")


class QualityCheckFailed(_ServiceBase):
    """The quality check failed: rework; a repeat failure is recorded."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The inspector sends the vehicle back for rework.",
        emitted_by=("service-center",),
        reacted_by=("complaints: opens a complaint when the failure reached the customer",),
    )
    type: Literal["QualityCheckFailed"] = Field(
        default="QualityCheckFailed", description="Event name."
    )
    repair_order_id: EntityId = Field(description="Repair order checked.")
    inspector_id: StaffId = Field(description="Inspector.")
    attempt: int = Field(ge=1, description="Which check failed (1 = first).")
    reasons: list[Line] = Field(min_length=1, description="What failed.")
    repeat_failure: bool = Field(description="An earlier check of this RO failed too.")
    reached_customer: bool = Field(
        default=False, description="The defect was found by the customer after handover."
    )
    checked_at: UtcDatetime = Field(description="When the check was done, UTC.")


class VehicleHandedOver(_ServiceBase):
    """The serviced vehicle was returned: work explained, settled, invoiced."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The customer collects the vehicle after service. service-center sets the next "
        "maintenance (by date or mileage, whichever first: next_maintenance_due_on/km) and "
        "plans its reminder day; it publishes MaintenanceDue then, and the notifier reminds "
        "the owner on that event, not on this one.",
        emitted_by=("service-center", "outside DMS"),
        reacted_by=(
            "notifier: advisor callback 3 days after handover (message fallback after 5 "
            "unreachable days)",
            "complaints: keeps the RO for repeat-repair detection",
            "notifier: counts amount_paid as service spend for the customer's tier over the "
            "dealer's window (CustomerTierChanged when the tier changes)",
        ),
    )
    type: Literal["VehicleHandedOver"] = Field(
        default="VehicleHandedOver", description="Event name."
    )
    repair_order_id: EntityId = Field(description="Repair order closed by the handover.")
    vin: Vin = Field(description="Vehicle handed over.")
    model: Line | None = Field(default=None, description="Vehicle model.")
    advisor_id: StaffId = Field(description="Advisor; assignee of the 3-day callback.")
    handed_over_at: UtcDatetime = Field(description="Handover time, UTC.")
    mileage_km: Kilometres = Field(description="Odometer at handover, km.")
    work_type: ServiceWorkType = Field(description="Classification of the work done.")
    work_summary: Text | None = Field(default=None, description="What was done.")
    amount_paid: Money | None = Field(default=None, description="Settled amount, if any.")
    next_maintenance_due_on: LocalDate | None = Field(
        default=None, description="Next maintenance due date (dealer-local), if set."
    )
    next_maintenance_due_km: Kilometres | None = Field(
        default=None, description="Odometer reading at which maintenance is next due, km."
    )
    contact: ContactSnapshot = Field(description="How to reach the customer.")


class MaintenanceDue(_ServiceBase):
    """Maintenance falls due soon (by date or mileage, whichever first)."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="service-center's durable timer reaches the reminder day of the maintenance a "
        "delivery (first maintenance) or a handover set (the dealer's "
        "first_maintenance_remind_before ahead, default 14 days); once per due, moved by a "
        "later handover, dropped by a check-in before it.",
        emitted_by=("service-center",),
        reacted_by=(
            "notifier: maintenance reminder message to the owner (service purpose, contact "
            "policy), once per due",
        ),
    )
    type: Literal["MaintenanceDue"] = Field(default="MaintenanceDue", description="Event name.")
    vin: Vin = Field(description="Vehicle due for maintenance.")
    model: Line | None = Field(default=None, description="Vehicle model.")
    reason: MaintenanceReason = Field(description="Why maintenance is due.")
    due_on: LocalDate | None = Field(default=None, description="Due date (dealer-local).")
    due_km: Kilometres | None = Field(default=None, description="Due odometer reading, km.")
    last_service_at: UtcDatetime | None = Field(
        default=None, description="Previous service handover, UTC, if any."
    )
    contact: ContactSnapshot = Field(description="How to reach the owner.")
    declined_items_open: int | None = Field(
        default=None,
        ge=0,
        description="Declined repair lines of the vehicle still open (offered again at the "
        "visit), if the producer tracks them.",
    )
    subject_key: ClassVar[str | None] = "vin"


class CustomerAtRisk(_ServiceBase):
    """A service customer has not visited for 12 months (at risk) or 24 (lost)."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="service-center's daily retention scan (per dealer, 03:00 local) finds a "
        "vehicle with no visit or delivery for the dealer's at_risk_after_months (default "
        "12) or lost_after_months (24); each level once until the next visit.",
        emitted_by=("service-center",),
        reacted_by=(
            "notifier: a retention_call task for the last repair order's advisor (the "
            "advisor role's holder or placeholder when none), once per VIN, level and spell",
        ),
    )
    type: Literal["CustomerAtRisk"] = Field(default="CustomerAtRisk", description="Event name.")
    level: RetentionLevel = Field(description="at_risk (12 months) or lost (24 months).")
    vin: Vin | None = Field(default=None, description="Vehicle last serviced, if known.")
    last_visit_at: UtcDatetime | None = Field(
        default=None, description="Last service visit, UTC; absent if never serviced."
    )
    months_since_last_visit: int = Field(ge=0, description="Whole months since the last visit.")
    tier: ServiceTier = Field(description="After-sales tier by visits a year.")
    advisor_id: StaffId | None = Field(default=None, description="Advisor to call, if known.")
    detected_at: UtcDatetime = Field(description="When the risk was detected, UTC.")
    contact: ContactSnapshot = Field(description="How to reach the customer.")
    subject_key: ClassVar[str | None] = "vin"


class ServiceTierChanged(_ServiceBase):
    """A customer's after-sales tier (A/B/C/D by visits a year) changed."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="service-center recomputes the customer's after-sales tier (visit days in the "
        "last 12 months over all their vehicles at the dealer, against "
        "service.tier_min_visits_per_year; default A >= 4, B 2-3, C 1, D none) at each "
        "handover and at the dealer's daily retention scan, and it differs from the tier "
        "published before (a customer's first tier, from their first repair order, too).",
        emitted_by=("service-center",),
        reacted_by=(
            "notifier: keeps the after-sales tier beside the customer tier (newest change "
            "wins), shown by GET /v1/customers/{id}/tier",
        ),
    )
    type: Literal["ServiceTierChanged"] = Field(
        default="ServiceTierChanged", description="Event name."
    )
    tier: ServiceTier = Field(description="The customer's after-sales tier from now on.")
    previous_tier: ServiceTier | None = Field(
        default=None, description="The tier published before; absent for the first one."
    )
    visits_last_12_months: int = Field(
        ge=0, description="Visit days in the last 12 months, the tier's basis."
    )
    changed_at: UtcDatetime = Field(description="When the change was found, UTC.")


SERVICE_EVENTS: tuple[type[DomainEvent], ...] = (
    ServiceAppointmentBooked,
    ServiceAppointmentCancelled,
    RepairOrderOpened,
    DiagnosisCompleted,
    RepairQuoted,
    RepairApproved,
    RepairItemDeclined,
    PartsReserved,
    PartStockLow,
    PartStockReplenished,
    RepairCompleted,
    QualityCheckPassed,
    QualityCheckFailed,
    VehicleHandedOver,
    MaintenanceDue,
    CustomerAtRisk,
    ServiceTierChanged,
)
