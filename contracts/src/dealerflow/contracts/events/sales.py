"""Events of the sales context (topic dealerflow.sales): showroom to delivery."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import (
    DeliveryDocument,
    PaymentKind,
    PaymentMethod,
    PurchaseHorizon,
    VehicleType,
    VehicleUse,
    VisitKind,
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
ShortText = Annotated[str, Trimmed(max_length=200)]


class PaymentPlan(BaseModel):
    """How the customer pays: in full, or by loan with down payment, term and rate."""

    model_config = ConfigDict(frozen=True)

    method: Literal["full_payment", "loan"] = Field(description="Full payment or loan.")
    down_payment: Money | None = Field(default=None, description="Loan down payment.")
    loan_amount: Money | None = Field(default=None, description="Amount financed.")
    term_months: int | None = Field(default=None, ge=1, le=120, description="Loan term, months.")
    annual_rate_percent: DecimalString | None = Field(
        default=None, description='Nominal annual interest rate in percent, e.g. "3.85".'
    )


class ContractVehicle(BaseModel):
    """The vehicle a contract is for."""

    model_config = ConfigDict(frozen=True)

    model: ShortText = Field(description="Model name.")
    configuration: ShortText | None = Field(default=None, description="Trim/configuration.")
    colour: ShortText | None = Field(default=None, description="Exterior colour.")
    vin: Vin | None = Field(default=None, description="VIN once a vehicle is allocated.")


Priority = Literal["power", "space", "economy", "technology", "brand"]


class VisitNeeds(BaseModel):
    """The needs analysis of a showroom visit: what the customer wants the car for."""

    model_config = ConfigDict(frozen=True)

    use: VehicleUse | None = Field(default=None, description="Main intended use.")
    budget: Money | None = Field(default=None, description="Most the customer means to spend.")
    body_type: VehicleType | None = Field(default=None, description="Body type (NEV too).")
    priorities: tuple[Priority, ...] = Field(
        default=(), max_length=5, description="What matters most, first (no repeats)."
    )
    urgency: PurchaseHorizon | None = Field(
        default=None, description="When the customer means to buy."
    )
    expected_yearly_km: Kilometres | None = Field(
        default=None,
        description="How far the customer expects to drive a year, km; the latest one "
        "becomes VehicleDelivered.expected_yearly_km.",
    )


class _SalesBase(DomainEvent):
    context: ClassVar[str] = "sales"


class ShowroomVisitRecorded(_SalesBase):
    """A visitor was registered at reception (the showroom visit register)."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="Reception registers a showroom visit (arrival, party size, consultant); "
        "departure may be recorded later with duration.",
        emitted_by=("sales",),
        reacted_by=(
            "leads: creates a walk-in lead or adds a touch to the open lead",
            "notifier: thank-you message within 2 h of a first visit",
        ),
    )
    type: Literal["ShowroomVisitRecorded"] = Field(
        default="ShowroomVisitRecorded", description="Event name."
    )
    visit_id: EntityId = Field(description="Identifier of the visit.")
    lead_id: EntityId | None = Field(default=None, description="Open lead, if already known.")
    consultant_id: StaffId = Field(description="Consultant who received the visitor.")
    arrived_at: UtcDatetime = Field(description="Arrival time, UTC.")
    party_size: int = Field(ge=1, le=50, description="Number of people in the party.")
    visit_kind: VisitKind = Field(description="First or return visit.")
    duration_minutes: int | None = Field(
        default=None, ge=0, description="Time spent in the showroom, minutes, once known."
    )
    contact: ContactSnapshot = Field(description="How to reach the visitor.")
    needs: VisitNeeds | None = Field(
        default=None, description="The needs analysis, once taken (it feeds the lead's interest)."
    )


class TestDriveScheduled(_SalesBase):
    """A test drive was booked on a test-drive vehicle (no double booking)."""

    __test__: ClassVar[bool] = False  # not a pytest test class despite its name

    doc: ClassVar[EventDoc] = EventDoc(
        when="The consultant books a test-drive vehicle slot.",
        emitted_by=("sales",),
        reacted_by=("notifier: customer reminder before the slot",),
    )
    type: Literal["TestDriveScheduled"] = Field(
        default="TestDriveScheduled", description="Event name."
    )
    test_drive_id: EntityId = Field(description="Identifier of the test drive booking.")
    lead_id: EntityId | None = Field(default=None, description="Lead of the customer, if any.")
    vehicle_id: EntityId = Field(description="Test-drive vehicle booked.")
    model: ShortText = Field(description="Model of the test-drive vehicle.")
    scheduled_start: UtcDatetime = Field(description="Slot start, UTC.")
    scheduled_end: UtcDatetime = Field(description="Slot end, UTC.")
    consultant_id: StaffId = Field(description="Accompanying consultant.")
    route: ShortText | None = Field(default=None, description="Planned route name.")
    contact: ContactSnapshot = Field(description="How to reach the driver for reminders.")


class TestDriveCompleted(_SalesBase):
    """A test drive took place: licence checked, consent signed, feedback taken."""

    __test__: ClassVar[bool] = False

    doc: ClassVar[EventDoc] = EventDoc(
        when="The consultant closes the test drive with the customer's feedback.",
        emitted_by=("sales",),
        reacted_by=(
            "leads: records a touch and prompts a re-grade",
            "notifier: plans the driving-licence renewal reminder (驾驶证换证) "
            "owner_care.licence_remind_before (90 days) before licence_valid_until, when given",
        ),
    )
    type: Literal["TestDriveCompleted"] = Field(
        default="TestDriveCompleted", description="Event name."
    )
    test_drive_id: EntityId = Field(description="Identifier of the test drive booking.")
    lead_id: EntityId | None = Field(default=None, description="Lead of the customer, if any.")
    vehicle_id: EntityId = Field(description="Test-drive vehicle used.")
    model: ShortText = Field(description="Model driven.")
    consultant_id: StaffId = Field(description="Accompanying consultant.")
    started_at: UtcDatetime = Field(description="Start of the drive, UTC.")
    ended_at: UtcDatetime = Field(description="End of the drive, UTC.")
    licence_checked: bool = Field(description="Driver's licence number and expiry verified.")
    consent_signed: bool = Field(description="Test-drive consent form signed.")
    feedback_rating: int | None = Field(
        default=None, ge=1, le=5, description="Customer's rating of the drive, 1-5."
    )
    feedback: Text | None = Field(default=None, description="Customer's feedback.")
    licence_valid_until: LocalDate | None = Field(
        default=None,
        description="Expiry of the driver's licence checked on the day (last valid day); "
        "null when not checked or from an older producer.",
    )


class TestDriveCancelled(_SalesBase):
    """A booked test drive was called off before it started (its slot is free again)."""

    __test__: ClassVar[bool] = False

    doc: ClassVar[EventDoc] = EventDoc(
        when="The consultant cancels a test drive that has not started.",
        emitted_by=("sales",),
        reacted_by=("notifier: cancels the customer's reminder before the slot",),
    )
    type: Literal["TestDriveCancelled"] = Field(
        default="TestDriveCancelled", description="Event name."
    )
    test_drive_id: EntityId = Field(description="Identifier of the test drive booking.")
    lead_id: EntityId | None = Field(default=None, description="Lead of the customer, if any.")
    vehicle_id: EntityId = Field(description="Test-drive vehicle that was booked.")
    scheduled_start: UtcDatetime = Field(description="Start of the cancelled slot, UTC.")
    cancelled_at: UtcDatetime = Field(description="When it was cancelled, UTC.")


class QuoteIssued(_SalesBase):
    """A transparent quote: price, discount, purchase tax, fees and payment plan."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The consultant hands the customer a quote.",
        emitted_by=("sales",),
        reacted_by=("leads: records a touch on the lead",),
    )
    type: Literal["QuoteIssued"] = Field(default="QuoteIssued", description="Event name.")
    quote_id: EntityId = Field(description="Identifier of the quote.")
    lead_id: EntityId | None = Field(default=None, description="Lead of the customer, if any.")
    consultant_id: StaffId = Field(description="Consultant issuing the quote.")
    vehicle: ContractVehicle = Field(description="Vehicle quoted.")
    new_energy: bool = Field(description="New-energy vehicle (purchase-tax policy applies).")
    vehicle_price: Money = Field(description="List price including 13 % VAT.")
    discount: Money = Field(description="Discount granted on the vehicle price.")
    purchase_tax: Money = Field(
        description="Purchase tax: (price - discount) / 1.13 x 10 %, or per NEV policy."
    )
    insurance: Money = Field(description="First-year insurance premium.")
    registration_fee: Money = Field(description="Plate registration fee.")
    accessories: Money = Field(description="Accessories total.")
    extended_warranty: Money = Field(description="Extended warranty price.")
    total: Money = Field(description="Amount the customer pays in total.")
    payment: PaymentPlan = Field(description="Full payment or loan terms.")
    discount_needs_approval: bool = Field(
        description="The discount exceeds the policy threshold and awaits manager approval."
    )
    valid_until: LocalDate = Field(description="Last day the quote holds (dealer-local date).")
    issued_at: UtcDatetime = Field(description="When the quote was issued, UTC.")


class DiscountApprovalRequested(_SalesBase):
    """A discount above the policy threshold needs a manager's approval."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="A quote's discount exceeds the dealer's threshold.",
        emitted_by=("sales",),
        reacted_by=("notifier: approval task for the sales manager",),
    )
    type: Literal["DiscountApprovalRequested"] = Field(
        default="DiscountApprovalRequested", description="Event name."
    )
    approval_id: EntityId = Field(description="Identifier of the approval request.")
    quote_id: EntityId = Field(description="Quote whose discount needs approval.")
    consultant_id: StaffId = Field(description="Consultant asking for approval.")
    approver_id: StaffId | None = Field(default=None, description="Manager asked, if chosen.")
    requested_discount: Money = Field(description="Discount requested.")
    policy_threshold: Money = Field(description="Largest discount allowed without approval.")
    requested_at: UtcDatetime = Field(description="When approval was requested, UTC.")


class DiscountApprovalDecided(_SalesBase):
    """A manager approved or rejected a quote's discount beyond the threshold."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="A sales manager (or the GM) decides a discount approval request.",
        emitted_by=("sales",),
        reacted_by=("notifier: closes the manager's approval task",),
    )
    type: Literal["DiscountApprovalDecided"] = Field(
        default="DiscountApprovalDecided", description="Event name."
    )
    approval_id: EntityId = Field(description="The approval request decided.")
    quote_id: EntityId = Field(description="Quote whose discount was decided.")
    decision: Literal["approved", "rejected"] = Field(description="The manager's decision.")
    decided_by: StaffId = Field(description="Manager who decided.")
    decided_at: UtcDatetime = Field(description="When the decision was made, UTC.")


class ContractSigned(_SalesBase):
    """A purchase contract was signed: the lead becomes a customer (grade O)."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="Customer and dealer sign the purchase contract (identity document verified).",
        emitted_by=("sales",),
        reacted_by=(
            "leads: grade O and LeadConverted",
            "notifier: cancels the sales follow-up cadence",
            "complaints: records the sale (vehicle, price, consultant) for later investigation",
        ),
    )
    type: Literal["ContractSigned"] = Field(default="ContractSigned", description="Event name.")
    contract_id: EntityId = Field(description="Identifier of the contract.")
    contract_version: int = Field(default=1, ge=1, description="Contract version (1 when signed).")
    quote_id: EntityId | None = Field(default=None, description="Quote the contract follows.")
    lead_id: EntityId | None = Field(default=None, description="Lead of the customer, if any.")
    consultant_id: StaffId = Field(description="Consultant who closed the deal.")
    vehicle: ContractVehicle = Field(description="Vehicle sold.")
    price: Money = Field(description="Contract price of the vehicle.")
    payment: PaymentPlan = Field(description="Payment method and loan terms.")
    planned_delivery_on: LocalDate | None = Field(
        default=None, description="Agreed delivery date (dealer-local date)."
    )
    identity_verified: bool = Field(description="Customer ID document was checked.")
    signed_at: UtcDatetime = Field(description="When the contract was signed, UTC.")
    contact: ContactSnapshot = Field(description="How to reach the customer.")


class ContractAmended(_SalesBase):
    """The contract was changed by mutual agreement; a new version supersedes the old."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="Both parties agree to change vehicle, price, payment or delivery date.",
        emitted_by=("sales",),
        reacted_by=(
            "notifier: withdraws the pending delivery reminders when the delivery date moved "
            "(the next DeliveryScheduled plans new ones)",
        ),
    )
    type: Literal["ContractAmended"] = Field(default="ContractAmended", description="Event name.")
    contract_id: EntityId = Field(description="Identifier of the contract.")
    contract_version: int = Field(ge=2, description="New contract version.")
    changed_fields: list[str] = Field(min_length=1, description="What changed.")
    vehicle: ContractVehicle = Field(description="Vehicle after the amendment.")
    price: Money = Field(description="Price after the amendment.")
    payment: PaymentPlan = Field(description="Payment after the amendment.")
    planned_delivery_on: LocalDate | None = Field(default=None, description="Delivery date after.")
    reason: Text | None = Field(default=None, description="Why the contract was amended.")
    amended_at: UtcDatetime = Field(description="When the amendment was signed, UTC.")


class ContractCancelled(_SalesBase):
    """The contract was cancelled per policy; what was paid is refunded."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The contract is cancelled before delivery.",
        emitted_by=("sales",),
        reacted_by=(
            "leads: takes the lead the contract converted from O back to its last live grade "
            "(else A) for follow-up (LeadGraded)",
            "notifier: withdraws the pending delivery reminders and cancels an open "
            "plate-registration task of the contract; cancelled after the delivery (an "
            "outside DMS), withdraws the insurance-renewal and inspection reminders not "
            "sent yet",
            "complaints: marks the sale cancelled for later investigation",
        ),
    )
    type: Literal["ContractCancelled"] = Field(
        default="ContractCancelled", description="Event name."
    )
    contract_id: EntityId = Field(description="Identifier of the contract.")
    reason: Text = Field(description="Why the contract was cancelled.")
    refund_due: Money = Field(description="Amount to refund to the customer.")
    cancelled_at: UtcDatetime = Field(description="When it was cancelled, UTC.")


class PaymentReceived(_SalesBase):
    """Money was received against a contract (deposit, balance, loan disbursement)."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="Cashier or finance records a payment.",
        emitted_by=("sales",),
        reacted_by=("none in dealerflow (accounting/DMS consumers)",),
    )
    type: Literal["PaymentReceived"] = Field(default="PaymentReceived", description="Event name.")
    payment_id: EntityId = Field(description="Identifier of the payment.")
    contract_id: EntityId = Field(description="Contract paid against.")
    kind: PaymentKind = Field(description="What the payment settles.")
    method: PaymentMethod = Field(description="How it was paid.")
    amount: Money = Field(description="Amount received.")
    confirmed_by_finance: bool = Field(description="Finance confirmed receipt.")
    received_at: UtcDatetime = Field(description="When it was received, UTC.")


class PaymentConfirmed(_SalesBase):
    """Finance confirmed that the money of an entered payment arrived: it now counts."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="Finance confirms a payment that was recorded unconfirmed.",
        emitted_by=("sales",),
        reacted_by=("none in dealerflow (accounting/DMS consumers)",),
    )
    type: Literal["PaymentConfirmed"] = Field(default="PaymentConfirmed", description="Event name.")
    payment_id: EntityId = Field(description="Identifier of the payment confirmed.")
    contract_id: EntityId = Field(description="Contract paid against.")
    amount: Money = Field(description="Amount confirmed.")
    confirmed_by: EntityId = Field(description="Finance user who confirmed it.")
    confirmed_at: UtcDatetime = Field(description="When it was confirmed, UTC.")


class LoanDecided(_SalesBase):
    """Finance recorded the lender's decision on a contract's loan (a later decision
    replaces the earlier one)."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="Finance records the lender's approval or decline of the loan.",
        emitted_by=("sales",),
        reacted_by=("none in dealerflow (accounting/DMS consumers)",),
    )
    type: Literal["LoanDecided"] = Field(default="LoanDecided", description="Event name.")
    contract_id: EntityId = Field(description="Contract the loan finances.")
    lender: Text = Field(description="Bank or finance company.")
    decision: Literal["approved", "declined"] = Field(description="The lender's decision.")
    reference: Text = Field(description="The lender's approval or case number.")
    approved_amount: Money | None = Field(default=None, description="Only for an approval.")
    decided_at: UtcDatetime = Field(description="When the lender decided, UTC.")


class RefundIssued(_SalesBase):
    """Money was paid back to the customer."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="Finance pays a refund (cancellation, overpayment).",
        emitted_by=("sales",),
        reacted_by=("none in dealerflow (accounting/DMS consumers)",),
    )
    type: Literal["RefundIssued"] = Field(default="RefundIssued", description="Event name.")
    refund_id: EntityId = Field(description="Identifier of the refund.")
    contract_id: EntityId = Field(description="Contract refunded against.")
    payment_id: EntityId | None = Field(default=None, description="Payment refunded, if one.")
    amount: Money = Field(description="Amount refunded.")
    reason: Text = Field(description="Why the refund was made.")
    refunded_at: UtcDatetime = Field(description="When the refund was paid, UTC.")


class InvoiceIssued(_SalesBase):
    """The vehicle invoice was issued with the customer's invoice title and tax number."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="Finance issues the vehicle sales invoice.",
        emitted_by=("sales",),
        reacted_by=("none in dealerflow (accounting/DMS consumers)",),
    )
    type: Literal["InvoiceIssued"] = Field(default="InvoiceIssued", description="Event name.")
    invoice_id: EntityId = Field(description="Identifier of the invoice.")
    contract_id: EntityId = Field(description="Contract invoiced.")
    invoice_number: ShortText = Field(description="Official invoice number.")
    invoice_title: ShortText = Field(description="Buyer name printed on the invoice.")
    tax_number: ShortText | None = Field(
        default=None, description="Buyer's taxpayer id (companies)."
    )
    amount: Money = Field(description="Invoice total including VAT.")
    tax_amount: Money = Field(description="VAT included in the total.")
    issued_at: UtcDatetime = Field(description="When the invoice was issued, UTC.")


class DeliveryScheduled(_SalesBase):
    """Date, time and place of the vehicle handover were agreed."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The consultant agrees the delivery appointment with the customer.",
        emitted_by=("sales",),
        reacted_by=(
            "notifier: customer reminders before the delivery (24 h and 2 h by default); "
            "a delivery agreed again for another time replaces the pending ones",
        ),
    )
    type: Literal["DeliveryScheduled"] = Field(
        default="DeliveryScheduled", description="Event name."
    )
    delivery_id: EntityId = Field(description="Identifier of the delivery.")
    contract_id: EntityId = Field(description="Contract delivered.")
    vin: Vin = Field(description="VIN of the vehicle to deliver.")
    model: ShortText = Field(description="Model delivered.")
    scheduled_for: UtcDatetime = Field(description="Agreed handover time, UTC.")
    location: ShortText | None = Field(default=None, description="Handover place.")
    consultant_id: StaffId = Field(description="Consultant who hands over the vehicle.")
    contact: ContactSnapshot = Field(description="How to reach the customer.")


class VehicleDelivered(_SalesBase):
    """The vehicle was handed to the customer: owner care starts.

    Outside DMSs may publish it too; reactors treat both sources alike."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The handover is completed (PDI passed, documents and keys handed over).",
        emitted_by=("sales", "outside DMS"),
        reacted_by=(
            "notifier: consultant callback within 24 h (task for consultant_id), 7-day "
            "satisfaction callback/survey, insurance renewal 30 days before each anniversary "
            "(each year's planned when the one before falls due)",
            "notifier: plate-registration task for consultant_id when the dealer offers the "
            "assistance (sales.plate_registration_assistance; due 3 days after by default)",
            "leads: grade D",
            "notifier: counts the purchase for the buyer's tier (CustomerTierChanged when "
            "the tier changes)",
            "service-center: registers the owner's vehicle and plans its first maintenance "
            "(the 5,000 km reading or 6 months, whichever first; the mileage projected from "
            "expected_yearly_km): MaintenanceDue 14 days ahead, which the notifier reminds",
            "complaints: keeps the contact snapshot for complaints it opens later",
            "complaints: records the delivery of the sale for later investigation",
        ),
    )
    type: Literal["VehicleDelivered"] = Field(default="VehicleDelivered", description="Event name.")
    delivery_id: EntityId = Field(description="Identifier of the delivery.")
    contract_id: EntityId = Field(description="Contract delivered.")
    vin: Vin = Field(description="VIN of the delivered vehicle.")
    model: ShortText = Field(description="Model delivered.")
    delivered_at: UtcDatetime = Field(description="Handover time, UTC.")
    consultant_id: StaffId = Field(
        description="Consultant who delivered; assignee of the 24 h callback."
    )
    odometer_km: Kilometres = Field(description="Odometer at handover, km.")
    pdi_passed: bool = Field(
        default=True,
        description="Pre-delivery inspection passed (sales: its recorded PDI has no failed item).",
    )
    documents: list[DeliveryDocument] = Field(
        default_factory=list, description="Documents handed over."
    )
    contact: ContactSnapshot = Field(description="How to reach the new owner.")
    expected_yearly_km: Kilometres | None = Field(
        default=None,
        description="The customer's expected yearly mileage, km, if known (needs analysis); "
        "service-center's first-maintenance estimate uses it (yearly / 365 a day).",
    )
    pdi_inspector_id: StaffId | None = Field(
        default=None,
        description="Who did the recorded pre-delivery inspection (sales' PDI record).",
    )
    pdi_inspected_at: UtcDatetime | None = Field(
        default=None, description="When the recorded pre-delivery inspection was done, UTC."
    )


SALES_EVENTS: tuple[type[DomainEvent], ...] = (
    ShowroomVisitRecorded,
    TestDriveScheduled,
    TestDriveCompleted,
    TestDriveCancelled,
    QuoteIssued,
    DiscountApprovalRequested,
    DiscountApprovalDecided,
    ContractSigned,
    ContractAmended,
    ContractCancelled,
    PaymentReceived,
    PaymentConfirmed,
    LoanDecided,
    RefundIssued,
    InvoiceIssued,
    DeliveryScheduled,
    VehicleDelivered,
)
