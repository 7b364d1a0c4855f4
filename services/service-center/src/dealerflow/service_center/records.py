"""What the service-center stores, as typed rows (what repository.py reads and writes)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import ServiceWorkType
from dealerflow.service_center.domain import (
    QualityCheckRecord,
    QuoteLine,
    RepairOrderStatus,
    RepairQuote,
    price_repair_quote,
)
from dealerflow.service_center.repository_parts import ReservationRecord


@dataclass(frozen=True)
class Diagnosis:
    """The technician's findings."""

    technician_id: str
    findings: tuple[str, ...]
    completed_at: datetime


@dataclass(frozen=True)
class StoredQuote:
    """The repair order's current quote: its lines and the labour rate they are priced at."""

    quote_id: str
    currency: str
    labour_rate: Decimal
    lines: tuple[QuoteLine, ...]

    def priced(self) -> RepairQuote:
        """The quote priced again (deterministic: same lines and rate, same amounts)."""
        return price_repair_quote(self.lines, self.labour_rate)


@dataclass(frozen=True)
class RepairOrderRecord:
    """One repair order row, from check-in to handover."""

    dealer_id: str
    id: uuid.UUID
    customer_id: uuid.UUID
    service_appointment_id: str | None
    vin: str
    model: str | None
    advisor_id: str
    work_type: ServiceWorkType
    under_warranty: bool
    mileage_km: int  # at check-in
    concerns: tuple[str, ...]
    concern_codes: tuple[str, ...]
    walk_around_findings: tuple[str, ...]
    contact: ContactSnapshot
    status: RepairOrderStatus
    opened_at: datetime
    updated_at: datetime
    diagnosis: Diagnosis | None = None
    quote: StoredQuote | None = None
    approved_item_ids: tuple[str, ...] = ()
    approved_total: Decimal | None = None
    completed_item_ids: tuple[str, ...] = ()
    technician_ids: tuple[str, ...] = ()
    work_summary: str | None = None
    labour_hours: Decimal | None = None
    completed_at: datetime | None = None
    handed_over_at: datetime | None = None
    handover_mileage_km: int | None = None
    amount_paid: Decimal | None = None
    currency: str | None = None
    invoice_number: str | None = None
    next_maintenance_due_on: date | None = None
    next_maintenance_due_km: int | None = None


@dataclass(frozen=True)
class RecordedQualityCheck:
    """One quality check of a repair order: the domain's record, who checked, and whether
    the customer found the defect after handover."""

    check: QualityCheckRecord
    inspector_id: str
    reached_customer: bool


@dataclass(frozen=True)
class DeclinedItemRecord:
    """A quoted line the customer declined, kept for its follow-up."""

    repair_order_id: uuid.UUID
    item_id: str
    vin: str
    description: str
    amount: Decimal
    currency: str
    declined_at: datetime
    follow_up_on: date


@dataclass(frozen=True)
class RepairOrderDetails:
    """A repair order with its quality checks (in order), declined items and, for
    detailing work, what the customer authorised."""

    order: RepairOrderRecord
    quality_checks: tuple[RecordedQualityCheck, ...]
    declined_items: tuple[DeclinedItemRecord, ...]
    detailing: DetailingRecord | None = None
    #: the vehicle's declined work from earlier visits, still open: offered again
    offered_again: tuple[DeclinedItemRecord, ...] = ()
    #: approved part lines waiting for stock (recorded back-ordered at the approval)
    back_ordered: tuple[ReservationRecord, ...] = ()


@dataclass(frozen=True)
class DetailingRecord:
    """A row of ``detailing_authorisations``: the job shown to the customer and what they
    authorised (the rules are ``domain_repair.detailing_work_problems``)."""

    dealer_id: str
    repair_order_id: uuid.UUID
    kind: str
    standard_hours: Decimal | None
    fee: Decimal | None
    currency: str | None
    affects: tuple[str, ...]
    service_contract_id: str | None
    risks_explained: bool
    customer_authorised: bool
    recorded_by: str | None
    recorded_at: datetime
