"""HTTP bodies of the showroom API: quotes and test drives (conventions: :mod:`schemas`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, StringConstraints, model_validator

from dealerflow.contracts.events.sales import ContractVehicle, PaymentPlan
from dealerflow.contracts.money import money
from dealerflow.contracts.types import DecimalString, EntityId, Money, StaffId
from dealerflow.runtime.idempotency import request_of
from dealerflow.runtime.request_models import AmountIn, PlannedAt, RawPhone, RequestBody
from dealerflow.sales.domain_delivery import DriverLicence
from dealerflow.sales.domain_quote import AccessoryLine
from dealerflow.sales.records import QuoteLoanRecord, QuoteRecord, TestDriveRecord
from dealerflow.sales.schemas import (
    ZERO,
    CustomerIdentityIn,
    CustomerIn,
    ShortText,
)
from dealerflow.sales.usecases_showroom import BookTestDrive, IssueQuote, LoanTerms

# --- quotes -----------------------------------------------------------------------------


class AccessoryIn(RequestBody):
    name: ShortText
    unit_price: AmountIn
    quantity: int = Field(default=1, ge=1, le=1000)


class QuotePaymentIn(RequestBody):
    method: Literal["full_payment", "loan"] = "full_payment"
    down_payment: AmountIn | None = None
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

    def loan(self) -> LoanTerms | None:
        """The loan asked for (None: full payment)."""
        if self.method != "loan":
            return None
        # _loan_terms guarantees the loan terms are present.
        assert self.down_payment is not None
        assert self.term_months is not None
        assert self.annual_rate_percent is not None
        return LoanTerms(self.down_payment, self.term_months, self.annual_rate_percent)


class QuoteIn(CustomerIdentityIn):
    """Ask for a transparent quote; customer by id or by phone."""

    quote_id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id: a retry with the same id creates nothing."
    )
    customer_phone: RawPhone | None = Field(
        default=None, description="Used to derive customer_id when it is not given."
    )
    lead_id: EntityId | None = None
    consultant_id: StaffId | None = Field(
        default=None, description="The consultant; default: the caller (the token's subject)."
    )
    vehicle: ContractVehicle
    new_energy: bool = False
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    vehicle_price: AmountIn = Field(description="List price including VAT.")
    discount: AmountIn = ZERO
    insurance: AmountIn = ZERO
    registration_fee: AmountIn = ZERO
    accessories: list[AccessoryIn] = Field(default_factory=list, max_length=100)
    extended_warranty: AmountIn = ZERO
    payment: QuotePaymentIn = Field(default_factory=QuotePaymentIn)

    @model_validator(mode="after")
    def _someone(self) -> Self:
        if self.customer_id is None and self.customer_phone is None:
            raise ValueError("give customer_id or customer_phone")
        return self

    def command(self, idempotency_key: str | None, *, caller: str) -> IssueQuote:
        return IssueQuote(
            dealer_id=self.dealer_id,
            consultant_id=self.consultant_id or caller,
            vehicle=self.vehicle,
            vehicle_price=self.vehicle_price,
            customer_id=self.customer_id,
            customer_phone=self.customer_phone,
            dealer_group=self.dealer_group,
            lead_id=self.lead_id,
            quote_id=self.quote_id,
            new_energy=self.new_energy,
            currency=self.currency,
            discount=self.discount,
            insurance=self.insurance,
            registration_fee=self.registration_fee,
            accessories=tuple(
                AccessoryLine(a.name, a.unit_price, a.quantity) for a in self.accessories
            ),
            extended_warranty=self.extended_warranty,
            loan=self.payment.loan(),
            request=request_of(idempotency_key, self, self.quote_id),
        )


class LoanPlanOut(BaseModel):
    principal: Money
    down_payment: Money
    term_months: int
    annual_rate_percent: DecimalString
    monthly_instalment: Money
    final_instalment: Money
    total_repayment: Money
    total_interest: Money

    @classmethod
    def of(cls, loan: QuoteLoanRecord, currency: str) -> LoanPlanOut:
        def m(amount: Decimal) -> Money:
            return money(amount, currency)

        return cls(
            principal=m(loan.principal),
            down_payment=m(loan.down_payment),
            term_months=loan.term_months,
            annual_rate_percent=loan.annual_rate_percent,
            monthly_instalment=m(loan.monthly_instalment),
            final_instalment=m(loan.final_instalment),
            total_repayment=m(loan.total_repayment),
            total_interest=m(loan.total_interest),
        )


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

    @classmethod
    def of(cls, q: QuoteRecord) -> QuoteOut:
        def m(amount: Decimal) -> Money:
            return money(amount, q.currency)

        return cls(
            quote_id=q.id,
            dealer_id=q.dealer_id,
            customer_id=q.customer_id,
            lead_id=q.lead_id,
            consultant_id=q.consultant_id,
            vehicle=q.vehicle,
            new_energy=q.new_energy,
            vehicle_price=m(q.vehicle_price),
            discount=m(q.discount),
            transaction_price=m(q.transaction_price),
            purchase_tax=m(q.purchase_tax),
            insurance=m(q.insurance),
            registration_fee=m(q.registration_fee),
            accessories=m(q.accessories_total),
            extended_warranty=m(q.extended_warranty),
            total=m(q.total),
            due_upfront=m(q.due_upfront),
            payment=q.payment,
            loan=None if q.loan is None else LoanPlanOut.of(q.loan, q.currency),
            discount_needs_approval=q.needs_approval,
            approval_id=q.approval_id,
            valid_until=q.valid_until,
            issued_at=q.issued_at,
        )


# --- test drives ------------------------------------------------------------------------


class LicenceIn(RequestBody):
    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=32)]
    expires_on: date


class TestDriveIn(CustomerIdentityIn):
    __test__ = False  # not a pytest test class

    test_drive_id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id: a retry with the same id books nothing."
    )
    customer: CustomerIn
    lead_id: EntityId | None = None
    vehicle_id: EntityId = Field(description="The test-drive vehicle.")
    model: ShortText
    consultant_id: StaffId | None = Field(
        default=None, description="The consultant; default: the caller (the token's subject)."
    )
    starts_at: PlannedAt
    ends_at: PlannedAt
    route: ShortText | None = None
    licence: LicenceIn

    def command(self, idempotency_key: str | None, *, caller: str) -> BookTestDrive:
        return BookTestDrive(
            dealer_id=self.dealer_id,
            customer=self.customer.customer(),
            vehicle_id=self.vehicle_id,
            model=self.model,
            consultant_id=self.consultant_id or caller,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            licence=DriverLicence(self.licence.number, self.licence.expires_on),
            route=self.route,
            lead_id=self.lead_id,
            customer_id=self.customer_id,
            dealer_group=self.dealer_group,
            test_drive_id=self.test_drive_id,
            request=request_of(idempotency_key, self, self.test_drive_id),
        )


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

    @classmethod
    def of(cls, td: TestDriveRecord) -> TestDriveOut:
        return cls(
            test_drive_id=td.id,
            dealer_id=td.dealer_id,
            customer_id=td.customer_id,
            vehicle_id=td.vehicle_id,
            model=td.model,
            consultant_id=td.consultant_id,
            starts_at=td.starts_at,
            ends_at=td.ends_at,
            route=td.route,
            licence_number_masked=td.licence_number,
        )
