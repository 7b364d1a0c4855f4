"""HTTP request and response bodies of the sales contract API (payment and delivery
requests: :mod:`schemas_delivery`; quotes and test drives: :mod:`schemas_showroom`).

This is where HTTP meets the use cases: a request's ``command()`` builds the use case's
command, a response's ``of()`` maps the records it returns.

Value types (Money, VIN, contact snapshot, payment plan, vehicle) are the contracts'
own models, so the API and the events describe a customer or a price the same way.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from dealerflow.contracts.contact import ConsentSnapshot, ContactSnapshot
from dealerflow.contracts.enums import (
    ContactChannel,
    Locale,
)
from dealerflow.contracts.events.sales import ContractVehicle, PaymentPlan
from dealerflow.contracts.money import money
from dealerflow.contracts.types import (
    DealerId,
    DecimalString,
    EmailAddress,
    EntityId,
    Money,
    StaffId,
)
from dealerflow.runtime.idempotency import request_of
from dealerflow.runtime.request_models import (
    AmountIn,
    DealerGroup,
    MoneyIn,
    PersonName,
    PlannedOn,
    RawPhone,
    RequestBody,
    money_of,
)
from dealerflow.sales.domain import CancelledBy, PaymentLedger
from dealerflow.sales.records import (
    ContractFile,
    ContractRecord,
    ContractVersionRecord,
    DeliveryRecord,
    InvoiceRecord,
    PaymentRecord,
)
from dealerflow.sales.schemas_finance import LoanApprovalOut
from dealerflow.sales.schemas_pdi import PdiOut
from dealerflow.sales.usecases import Customer
from dealerflow.sales.usecases_contracts import AmendContract, CancelContract, SignContract

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]

ZERO = Decimal("0.00")


class CustomerIn(RequestBody):
    """The customer as staff typed them in; the phone is normalised to E.164."""

    name: PersonName
    phone: RawPhone = Field(description="Phone in any common format; +86 is assumed if absent.")
    email: EmailAddress | None = None
    wechat_openid: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    preferred_channel: ContactChannel = ContactChannel.PHONE
    consent: ConsentSnapshot = Field(description="Consent per purpose as given by the customer.")
    locale: Locale = Locale.ZH_CN

    def customer(self) -> Customer:
        return Customer(
            name=self.name,
            phone=self.phone,
            consent=self.consent,
            email=self.email,
            wechat_openid=self.wechat_openid,
            preferred_channel=self.preferred_channel,
            locale=self.locale,
        )


class ContractCustomerIn(CustomerIn):
    """The buyer: contact plus address and the identity check the contract needs."""

    address: ShortText
    id_document_verified: bool = Field(description="Staff checked the customer's ID document.")


class CustomerIdentityIn(RequestBody):
    dealer_id: DealerId
    customer_id: uuid.UUID | None = Field(
        default=None,
        description="Known customer id; otherwise derived from the phone "
        "(dealerflow.contracts.identity.customer_id_for).",
    )
    dealer_group: DealerGroup | None = Field(
        default=None, description="Dealer group for the customer id rule (default: settings)."
    )


# --- contracts: requests ----------------------------------------------------------------


class PaymentPlanIn(RequestBody):
    """How the customer pays (the contracts' :class:`PaymentPlan`, its amounts as
    request money)."""

    method: Literal["full_payment", "loan"] = Field(description="Full payment or loan.")
    down_payment: MoneyIn | None = Field(default=None, description="Loan down payment.")
    loan_amount: MoneyIn | None = Field(default=None, description="Amount financed.")
    term_months: int | None = Field(default=None, ge=1, le=120, description="Loan term, months.")
    annual_rate_percent: DecimalString | None = Field(
        default=None, description='Nominal annual interest rate in percent, e.g. "3.85".'
    )

    def plan(self) -> PaymentPlan:
        return PaymentPlan.model_validate(self.model_dump())


class SignContractIn(CustomerIdentityIn):
    """Sign a purchase contract (version 1)."""

    contract_id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id: a retry with the same id creates nothing."
    )
    customer: ContractCustomerIn
    consultant_id: StaffId | None = Field(
        default=None, description="The consultant; default: the caller (the token's subject)."
    )
    lead_id: EntityId | None = None
    quote_id: uuid.UUID | None = None
    vehicle: ContractVehicle
    price: MoneyIn
    payment: PaymentPlanIn
    planned_delivery_on: PlannedOn = Field(description="Agreed delivery date (dealer-local).")

    def command(self, idempotency_key: str | None, *, caller: str) -> SignContract:
        return SignContract(
            dealer_id=self.dealer_id,
            customer=self.customer.customer(),
            address=self.customer.address,
            id_document_verified=self.customer.id_document_verified,
            consultant_id=self.consultant_id or caller,
            vehicle=self.vehicle,
            price=self.price.money(),
            payment=self.payment.plan(),
            planned_delivery_on=self.planned_delivery_on,
            contract_id=self.contract_id,
            customer_id=self.customer_id,
            dealer_group=self.dealer_group,
            lead_id=self.lead_id,
            quote_id=self.quote_id,
            request=request_of(idempotency_key, self, self.contract_id),
        )


class AmendContractIn(RequestBody):
    """Change agreed by both sides; only the fields given change."""

    dealer_id: DealerId
    vehicle: ContractVehicle | None = None
    price: MoneyIn | None = None
    payment: PaymentPlanIn | None = None
    planned_delivery_on: PlannedOn | None = None
    address: ShortText | None = None
    reason: Text | None = None
    customer_agreed: bool
    dealer_agreed: bool

    def command(self, contract_id: uuid.UUID, idempotency_key: str | None) -> AmendContract:
        return AmendContract(
            dealer_id=self.dealer_id,
            contract_id=contract_id,
            customer_agreed=self.customer_agreed,
            dealer_agreed=self.dealer_agreed,
            vehicle=self.vehicle,
            price=money_of(self.price),
            payment=None if self.payment is None else self.payment.plan(),
            planned_delivery_on=self.planned_delivery_on,
            address=self.address,
            reason=self.reason,
            request=request_of(idempotency_key, self),
        )


class CancelContractIn(RequestBody):
    dealer_id: DealerId
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    cancelled_by: Literal["customer", "dealer", "mutual"]
    non_refundable_costs: AmountIn | None = Field(
        default=None,
        description="Costs spent on the customer's behalf and agreed non-refundable "
        "(kept unless the dealer cancels).",
    )

    def command(self, contract_id: uuid.UUID, idempotency_key: str | None) -> CancelContract:
        return CancelContract(
            dealer_id=self.dealer_id,
            contract_id=contract_id,
            reason=self.reason,
            cancelled_by=CancelledBy(self.cancelled_by),
            non_refundable_costs=self.non_refundable_costs,
            request=request_of(idempotency_key, self),
        )


# --- contracts: responses ---------------------------------------------------------------


class LedgerOut(BaseModel):
    paid: Money
    refunded: Money
    awaiting_confirmation: Money
    balance_due: Money

    @classmethod
    def of(cls, ledger: PaymentLedger, currency: str) -> LedgerOut:
        return cls(
            paid=money(ledger.paid, currency),
            refunded=money(ledger.refunded, currency),
            awaiting_confirmation=money(ledger.awaiting_confirmation, currency),
            balance_due=money(ledger.balance_due, currency),
        )


class PaymentOut(BaseModel):
    payment_id: uuid.UUID
    contract_id: uuid.UUID
    kind: str
    method: str | None
    amount: Money
    confirmed: bool
    reason: str | None
    recorded_at: datetime
    confirmed_by: str | None = Field(
        default=None, description="Finance user who confirmed it after it was entered."
    )
    confirmed_at: datetime | None = None

    @classmethod
    def of(cls, p: PaymentRecord) -> PaymentOut:
        return cls(
            payment_id=p.id,
            contract_id=p.contract_id,
            kind=p.kind,
            method=p.method,
            amount=money(p.amount, p.currency),
            confirmed=p.confirmed,
            reason=p.reason,
            recorded_at=p.recorded_at,
            confirmed_by=p.confirmed_by,
            confirmed_at=p.confirmed_at,
        )


class InvoiceOut(BaseModel):
    invoice_id: uuid.UUID
    invoice_number: str
    invoice_title: str
    tax_number: str | None
    amount: Money
    tax_amount: Money
    issued_at: datetime

    @classmethod
    def of(cls, invoice: InvoiceRecord) -> InvoiceOut:
        return cls(
            invoice_id=invoice.id,
            invoice_number=invoice.invoice_number,
            invoice_title=invoice.invoice_title,
            tax_number=invoice.tax_number,
            amount=money(invoice.amount, invoice.currency),
            tax_amount=money(invoice.tax_amount, invoice.currency),
            issued_at=invoice.issued_at,
        )


class DeliveryOut(BaseModel):
    delivery_id: uuid.UUID
    status: str
    scheduled_for: datetime | None
    location: str | None
    delivered_at: datetime | None
    odometer_km: int | None
    documents: list[str] | None

    @classmethod
    def of(cls, delivery: DeliveryRecord) -> DeliveryOut:
        return cls(
            delivery_id=delivery.id,
            status=delivery.status,
            scheduled_for=delivery.scheduled_for,
            location=delivery.location,
            delivered_at=delivery.delivered_at,
            odometer_km=delivery.odometer_km,
            documents=None if delivery.documents is None else list(delivery.documents),
        )


class ContractVersionOut(BaseModel):
    version: int
    status: str
    changed_fields: list[str]
    reason: str | None
    effective_at: datetime

    @classmethod
    def of(cls, v: ContractVersionRecord) -> ContractVersionOut:
        return cls(
            version=v.version,
            status=v.status,
            changed_fields=list(v.changed_fields),
            reason=v.reason,
            effective_at=v.effective_at,
        )


class _ContractOut(BaseModel):
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


class ContractSummary(_ContractOut):
    @classmethod
    def of(cls, c: ContractRecord) -> ContractSummary:
        return cls(
            contract_id=c.id,
            dealer_id=c.dealer_id,
            customer_id=c.customer_id,
            version=c.version,
            status=c.status,
            consultant_id=c.consultant_id,
            lead_id=c.lead_id,
            quote_id=c.quote_id,
            vehicle=c.vehicle,
            price=money(c.price, c.currency),
            payment=c.payment,
            planned_delivery_on=c.planned_delivery_on,
            contact=c.contact,
            signed_at=c.signed_at,
            updated_at=c.updated_at,
            cancelled_at=c.cancelled_at,
            delivered_at=c.delivered_at,
        )


class ContractDetail(_ContractOut):
    address: str
    identity_verified: bool
    ledger: LedgerOut
    payments: list[PaymentOut]
    invoice: InvoiceOut | None
    delivery: DeliveryOut | None
    versions: list[ContractVersionOut]
    loan_approval: LoanApprovalOut | None = Field(
        default=None, description="The lender's decision on the loan, once recorded."
    )
    pdi: PdiOut | None = Field(
        default=None, description="The pre-delivery inspection, once recorded."
    )

    @classmethod
    def of(cls, file: ContractFile) -> ContractDetail:
        c = file.contract
        return cls(
            **dict(ContractSummary.of(c)),
            address=c.address,
            identity_verified=c.identity_verified,
            ledger=LedgerOut.of(file.ledger, c.currency),
            payments=[PaymentOut.of(p) for p in file.payments],
            invoice=None if file.invoice is None else InvoiceOut.of(file.invoice),
            delivery=None if file.delivery is None else DeliveryOut.of(file.delivery),
            loan_approval=None
            if file.loan_decision is None
            else LoanApprovalOut.of(file.loan_decision),
            versions=[ContractVersionOut.of(v) for v in file.versions],
            pdi=None if file.pdi is None else PdiOut.of(file.pdi),
        )
