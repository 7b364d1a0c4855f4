"""HTTP request and response bodies of the sales API.

Value types (Money, VIN, contact snapshot, payment plan, vehicle) are the contracts'
own models, so the API and the events describe a customer or a price the same way.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from dealerflow.contracts.contact import ConsentSnapshot, ContactSnapshot
from dealerflow.contracts.enums import (
    ContactChannel,
    DeliveryDocument,
    Locale,
    PaymentKind,
    PaymentMethod,
)
from dealerflow.contracts.events.sales import ContractVehicle, PaymentPlan
from dealerflow.contracts.types import (
    DealerId,
    DecimalString,
    EmailAddress,
    EntityId,
    Kilometres,
    Money,
    StaffId,
    UtcDatetime,
)

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
RawPhone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=32)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
DealerGroup = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^:]+$")
]

ZERO = Decimal("0.00")


class _Body(BaseModel):
    # A misspelt field must fail loudly, not be dropped: these are commands.
    model_config = ConfigDict(extra="forbid")


class CustomerIn(_Body):
    """The customer as staff typed them in; the phone is normalised to E.164."""

    name: Name
    phone: RawPhone = Field(description="Phone in any common format; +86 is assumed if absent.")
    email: EmailAddress | None = None
    wechat_openid: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    preferred_channel: ContactChannel = ContactChannel.PHONE
    consent: ConsentSnapshot = Field(description="Consent per purpose as given by the customer.")
    locale: Locale = Locale.ZH_CN


class ContractCustomerIn(CustomerIn):
    """The buyer: contact plus address and the identity check the contract needs."""

    address: ShortText
    id_document_verified: bool = Field(description="Staff checked the customer's ID document.")


class _CustomerIdentity(_Body):
    dealer_id: DealerId
    customer_id: uuid.UUID | None = Field(
        default=None,
        description="Known customer id; otherwise derived from the phone "
        "(dealerflow.contracts.identity.customer_id_for).",
    )
    dealer_group: DealerGroup | None = Field(
        default=None, description="Dealer group for the customer id rule (default: settings)."
    )


# --- quotes -------------------------------------------------------------------------


class AccessoryIn(_Body):
    name: ShortText
    unit_price: DecimalString
    quantity: int = Field(default=1, ge=1, le=1000)


class QuotePaymentIn(_Body):
    method: Literal["full_payment", "loan"] = "full_payment"
    down_payment: DecimalString | None = None
    term_months: int | None = Field(default=None, ge=1, le=120)
    annual_rate_percent: DecimalString | None = Field(
        default=None, description='Nominal annual rate in percent, e.g. "3.85".'
    )

    @model_validator(mode="after")
    def _loan_terms(self) -> Self:
        loan_fields = (self.down_payment, self.term_months, self.annual_rate_percent)
        if self.method == "loan" and any(v is None for v in loan_fields):
            raise ValueError("a loan needs down_payment, term_months and annual_rate_percent")
        return self


class QuoteIn(_CustomerIdentity):
    """Ask for a transparent quote; customer by id or by phone."""

    quote_id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id: a retry with the same id creates nothing."
    )
    customer_phone: RawPhone | None = Field(
        default=None, description="Used to derive customer_id when it is not given."
    )
    lead_id: EntityId | None = None
    consultant_id: StaffId
    vehicle: ContractVehicle
    new_energy: bool = False
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    vehicle_price: DecimalString = Field(description="List price including VAT.")
    discount: DecimalString = ZERO
    insurance: DecimalString = ZERO
    registration_fee: DecimalString = ZERO
    accessories: list[AccessoryIn] = Field(default_factory=list, max_length=100)
    extended_warranty: DecimalString = ZERO
    payment: QuotePaymentIn = Field(default_factory=QuotePaymentIn)

    @model_validator(mode="after")
    def _someone(self) -> Self:
        if self.customer_id is None and self.customer_phone is None:
            raise ValueError("give customer_id or customer_phone")
        return self


class LoanPlanOut(BaseModel):
    principal: Money
    down_payment: Money
    term_months: int
    annual_rate_percent: DecimalString
    monthly_instalment: Money
    final_instalment: Money
    total_repayment: Money
    total_interest: Money


class QuoteOut(BaseModel):
    quote_id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    lead_id: str | None
    consultant_id: str
    vehicle: ContractVehicle
    new_energy: bool
    vehicle_price: Money
    discount: Money
    transaction_price: Money
    purchase_tax: Money
    insurance: Money
    registration_fee: Money
    accessories: Money
    extended_warranty: Money
    total: Money
    due_upfront: Money
    payment: PaymentPlan
    loan: LoanPlanOut | None
    discount_needs_approval: bool
    approval_id: uuid.UUID | None
    valid_until: date
    issued_at: datetime


# --- contracts ----------------------------------------------------------------------


class SignContractIn(_CustomerIdentity):
    """Sign a purchase contract (version 1)."""

    contract_id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id: a retry with the same id creates nothing."
    )
    customer: ContractCustomerIn
    consultant_id: StaffId
    lead_id: EntityId | None = None
    quote_id: uuid.UUID | None = None
    vehicle: ContractVehicle
    price: Money
    payment: PaymentPlan
    planned_delivery_on: date = Field(description="Agreed delivery date (dealer-local).")


class AmendContractIn(_Body):
    """Change agreed by both sides; only the fields given change."""

    dealer_id: DealerId
    vehicle: ContractVehicle | None = None
    price: Money | None = None
    payment: PaymentPlan | None = None
    planned_delivery_on: date | None = None
    address: ShortText | None = None
    reason: Text | None = None
    customer_agreed: bool
    dealer_agreed: bool


class CancelContractIn(_Body):
    dealer_id: DealerId
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    cancelled_by: Literal["customer", "dealer", "mutual"]
    non_refundable_costs: DecimalString | None = Field(
        default=None,
        description="Costs spent on the customer's behalf and agreed non-refundable "
        "(kept unless the dealer cancels).",
    )


class PaymentIn(_Body):
    dealer_id: DealerId
    payment_id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id: a retry with the same id records nothing."
    )
    kind: PaymentKind
    method: PaymentMethod
    amount: Money
    confirmed_by_finance: bool = True


class InvoiceIn(_Body):
    dealer_id: DealerId
    invoice_number: ShortText
    invoice_title: ShortText
    tax_number: ShortText | None = None
    amount: Money | None = Field(default=None, description="Default: the contract price.")


class ScheduleDeliveryIn(_Body):
    dealer_id: DealerId
    scheduled_for: UtcDatetime
    location: ShortText | None = None


class DeliveryChecklistIn(_Body):
    pdi_passed: bool = False
    documents: list[DeliveryDocument] = Field(
        default_factory=list, description="Documents (and keys) prepared for the customer."
    )


class DeliverIn(_Body):
    dealer_id: DealerId
    checklist: DeliveryChecklistIn
    odometer_km: Kilometres


class LedgerOut(BaseModel):
    paid: Money
    refunded: Money
    awaiting_confirmation: Money
    balance_due: Money


class PaymentOut(BaseModel):
    payment_id: uuid.UUID
    contract_id: uuid.UUID
    kind: str
    method: str | None
    amount: Money
    confirmed: bool
    reason: str | None
    recorded_at: datetime


class InvoiceOut(BaseModel):
    invoice_id: uuid.UUID
    invoice_number: str
    invoice_title: str
    tax_number: str | None
    amount: Money
    tax_amount: Money
    issued_at: datetime


class DeliveryOut(BaseModel):
    delivery_id: uuid.UUID
    status: str
    scheduled_for: datetime | None
    location: str | None
    delivered_at: datetime | None
    odometer_km: int | None
    documents: list[str] | None


class ContractVersionOut(BaseModel):
    version: int
    status: str
    changed_fields: list[str]
    reason: str | None
    effective_at: datetime


class ContractSummary(BaseModel):
    contract_id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    version: int
    status: str
    consultant_id: str
    lead_id: str | None
    quote_id: uuid.UUID | None
    vehicle: ContractVehicle
    price: Money
    payment: PaymentPlan
    planned_delivery_on: date
    contact: ContactSnapshot
    signed_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    delivered_at: datetime | None


class ContractDetail(ContractSummary):
    address: str
    identity_verified: bool
    ledger: LedgerOut
    payments: list[PaymentOut]
    invoice: InvoiceOut | None
    delivery: DeliveryOut | None
    versions: list[ContractVersionOut]


# --- test drives --------------------------------------------------------------------


class LicenceIn(_Body):
    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=32)]
    expires_on: date


class TestDriveIn(_CustomerIdentity):
    __test__ = False  # not a pytest test class

    test_drive_id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id: a retry with the same id books nothing."
    )
    customer: CustomerIn
    lead_id: EntityId | None = None
    vehicle_id: EntityId = Field(description="The test-drive vehicle.")
    model: ShortText
    consultant_id: StaffId
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    route: ShortText | None = None
    licence: LicenceIn


class TestDriveOut(BaseModel):
    __test__ = False

    test_drive_id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    vehicle_id: str
    model: str
    consultant_id: str
    starts_at: datetime
    ends_at: datetime
    route: str | None
    licence_number_masked: str
