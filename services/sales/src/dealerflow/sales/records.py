"""What the sales service stores, as typed rows (what the repositories read and write).

Records speak the contracts' value types (contact snapshot, payment plan) and convert
themselves to the domain's view (:meth:`ContractRecord.terms`, :meth:`ContractRecord.ledger`)
so use cases never pick fields out of a row by name.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.events.sales import ContractVehicle, PaymentPlan
from dealerflow.sales import domain, domain_finance
from dealerflow.sales.domain_delivery import TestDriveBooking
from dealerflow.sales.domain_pdi import PdiRecord

# --- contracts --------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractRecord:
    """A contract as it stands now (its current version's terms and its status)."""

    dealer_id: str
    id: uuid.UUID
    customer_id: uuid.UUID
    version: int
    status: domain.ContractStatus
    quote_id: uuid.UUID | None
    lead_id: str | None
    consultant_id: str
    contact: ContactSnapshot
    address: str
    identity_verified: bool
    model: str
    configuration: str
    colour: str
    vin: str | None
    price: Decimal
    currency: str
    payment: PaymentPlan
    planned_delivery_on: date
    signed_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    delivered_at: datetime | None = None

    @property
    def vehicle(self) -> ContractVehicle:
        return ContractVehicle(
            model=self.model, configuration=self.configuration, colour=self.colour, vin=self.vin
        )

    @property
    def terms(self) -> domain.ContractTerms:
        """The domain's view of the current terms."""
        return domain.ContractTerms(
            model=self.model,
            configuration=self.configuration,
            colour=self.colour,
            customer_name=self.contact.name,
            id_document_verified=self.identity_verified,
            phone=self.contact.phone or "",
            address=self.address,
            price=self.price,
            payment_plan=domain.PaymentPlan(self.payment.method),
            delivery_date=self.planned_delivery_on,
            vin=self.vin,
            payment_terms=domain.payment_terms(self.payment),
        )

    @property
    def current_version(self) -> domain.ContractVersion:
        return domain.ContractVersion(
            contract_id=self.id,
            version=self.version,
            terms=self.terms,
            status=self.status,
            effective_at=self.updated_at,
        )

    def ledger(self, payments: Sequence[PaymentRecord]) -> domain.PaymentLedger:
        """The payment ledger of this contract with ``payments`` (its ledger rows)."""
        return domain.PaymentLedger(
            contract_price=self.price, entries=tuple(p.entry for p in payments)
        )


@dataclass(frozen=True)
class ContractVersionRecord:
    """One version on record: signed, amended or cancelled."""

    version: int
    status: domain.ContractStatus
    changed_fields: tuple[str, ...]
    reason: str | None
    effective_at: datetime


@dataclass(frozen=True)
class PaymentRecord:
    """A ledger row: money in (deposit, balance, ...) or a refund."""

    dealer_id: str
    id: uuid.UUID
    contract_id: uuid.UUID
    kind: domain.PaymentKind
    method: str | None  # None for a refund
    amount: Decimal
    currency: str
    confirmed: bool
    reason: str | None
    recorded_at: datetime
    confirmed_by: str | None = None  # finance's confirmation after recording, if any
    confirmed_at: datetime | None = None

    @property
    def entry(self) -> domain.LedgerEntry:
        return domain.LedgerEntry(
            kind=self.kind,
            amount=self.amount,
            at=self.recorded_at,
            confirmed=self.confirmed,
            reference=str(self.id),
        )


@dataclass(frozen=True)
class InvoiceRecord:
    """The vehicle invoice of a contract (at most one)."""

    dealer_id: str
    id: uuid.UUID
    contract_id: uuid.UUID
    invoice_number: str
    invoice_title: str
    tax_number: str | None
    amount: Decimal
    tax_amount: Decimal
    currency: str
    issued_at: datetime


@dataclass(frozen=True)
class DeliveryRecord:
    """The handover of a contract's vehicle: scheduled, then delivered."""

    id: uuid.UUID
    contract_id: uuid.UUID
    status: str  # "scheduled" | "delivered"
    scheduled_for: datetime | None
    location: str | None
    delivered_at: datetime | None
    odometer_km: int | None
    #: documents handed over (None until delivered)
    documents: tuple[str, ...] | None


@dataclass(frozen=True)
class ContractFile:
    """Everything on file for one contract: the contract, its ledger rows, invoice,
    delivery and every version (what the contract endpoints answer with)."""

    contract: ContractRecord
    payments: tuple[PaymentRecord, ...]
    versions: tuple[ContractVersionRecord, ...]
    invoice: InvoiceRecord | None
    delivery: DeliveryRecord | None
    loan_decision: domain_finance.LoanDecision | None = None
    pdi: PdiRecord | None = None

    @property
    def ledger(self) -> domain.PaymentLedger:
        return self.contract.ledger(self.payments)


# --- showroom ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QuoteLoanRecord:
    """The loan plan of a quote, as quoted (rate in percent, as the customer was told)."""

    principal: Decimal
    down_payment: Decimal
    term_months: int
    annual_rate_percent: Decimal
    monthly_instalment: Decimal
    final_instalment: Decimal
    total_repayment: Decimal
    total_interest: Decimal


@dataclass(frozen=True)
class QuoteRecord:
    """A transparent quote as issued: every line, the total and the loan plan."""

    dealer_id: str
    id: uuid.UUID
    customer_id: uuid.UUID
    lead_id: str | None
    consultant_id: str
    currency: str
    vehicle: ContractVehicle
    new_energy: bool
    vehicle_price: Decimal
    discount: Decimal
    transaction_price: Decimal
    purchase_tax: Decimal
    insurance: Decimal
    registration_fee: Decimal
    accessories_total: Decimal
    extended_warranty: Decimal
    total: Decimal
    due_upfront: Decimal
    payment: PaymentPlan
    loan: QuoteLoanRecord | None
    needs_approval: bool
    approval_id: uuid.UUID | None
    valid_until: date
    issued_at: datetime


@dataclass(frozen=True)
class TestDriveRecord:
    """A booked test drive (the licence number stored masked)."""

    __test__ = False  # not a pytest test class

    dealer_id: str
    id: uuid.UUID
    customer_id: uuid.UUID
    lead_id: str | None
    vehicle_id: str
    model: str
    consultant_id: str
    starts_at: datetime
    ends_at: datetime
    route: str | None
    licence_number: str
    licence_expires: date
    contact: ContactSnapshot
    created_at: datetime
    cancelled: bool = False
    blocked_until: datetime | None = None  # ends_at + the dealer's turnaround; None: ends_at
    started_at: datetime | None = None
    licence_checked_at: datetime | None = None
    consent_signed_by: str | None = None
    consent_signed_at: datetime | None = None
    consent_version: str | None = None
    completed_at: datetime | None = None
    rating_overall: int | None = None
    rating_vehicle: int | None = None
    rating_consultant: int | None = None
    feedback_notes: str | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None

    @property
    def status(self) -> str:
        """booked, started, completed or cancelled."""
        if self.cancelled:
            return "cancelled"
        if self.completed_at is not None:
            return "completed"
        return "started" if self.started_at is not None else "booked"

    @property
    def booking(self) -> TestDriveBooking:
        return TestDriveBooking(
            str(self.id), self.vehicle_id, self.starts_at, self.ends_at, self.cancelled
        )


@dataclass(frozen=True)
class FleetVehicleRecord:
    """A vehicle of the dealer's test-drive fleet."""

    dealer_id: str
    vehicle_id: str
    model: str
    vin: str | None
    plate: str | None
    in_service: bool
    created_at: datetime
    updated_at: datetime
