"""HTTP request and response bodies of the service-center API, and the one place where
stored records become responses (the ``XOut.of(record)`` classmethods).

Value types (Money, VIN, contact snapshot, repair items) are the contracts' models, so
the API and the events describe a vehicle, a customer or a quote line the same way.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import BaseModel, Field, StringConstraints, model_validator

from dealerflow.contracts.contact import ConsentSnapshot, ContactSnapshot
from dealerflow.contracts.enums import (
    ApprovalMethod,
    ContactChannel,
    Locale,
    RepairItemKind,
    ServiceTier,
    ServiceWorkType,
)
from dealerflow.contracts.events.service import RepairItem
from dealerflow.contracts.money import money
from dealerflow.contracts.types import (
    DealerId,
    DecimalString,
    EmailAddress,
    EntityId,
    Kilometres,
    Money,
    StaffId,
    Vin,
)
from dealerflow.runtime.request_models import (
    AmountIn,
    DealerGroup,
    MoneyIn,
    PersonName,
    RawPhone,
    RequestBody,
)
from dealerflow.service_center.domain import (
    DetailingKind,
    RetentionStatus,
    VehicleSystem,
    repair_items,
)
from dealerflow.service_center.records import (
    DeclinedItemRecord,
    DetailingRecord,
    Diagnosis,
    RecordedQualityCheck,
    RepairOrderDetails,
    RepairOrderRecord,
    StoredQuote,
)
from dealerflow.service_center.usecases_detailing import detailing_problems
from dealerflow.service_center.usecases_vehicles import VehicleHistory

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class CustomerIn(RequestBody):
    """How to reach the customer; the phone is normalised to E.164."""

    name: PersonName
    phone: RawPhone | None = Field(
        default=None, description="Phone in any common format; +86 is assumed if absent."
    )
    email: EmailAddress | None = None
    wechat_openid: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    preferred_channel: ContactChannel = ContactChannel.PHONE
    consent: ConsentSnapshot
    locale: Locale = Locale.ZH_CN

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if self.phone is None and self.email is None:
            raise ValueError("give the customer's phone or e-mail")
        return self


class OpenRepairOrderIn(RequestBody):
    """Check-in: the vehicle, its mileage, the customer's concerns."""

    dealer_id: DealerId
    repair_order_id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id: a retry with the same id opens nothing."
    )
    customer_id: uuid.UUID | None = Field(
        default=None,
        description="Known customer id; otherwise derived from the phone (or e-mail) by "
        "the dealerflow.contracts.identity rule.",
    )
    dealer_group: DealerGroup | None = None
    customer: CustomerIn | None = Field(
        default=None, description="Default: the contact of the booked appointment."
    )
    service_appointment_id: EntityId | None = Field(
        default=None,
        description="The appointment the visit was booked under: one of this dealer's "
        "(POST /v1/service-appointments) gives the VIN, concerns, work type and contact "
        "and is marked checked in; another system's is kept as a reference.",
    )
    vin: Vin | None = Field(default=None, description="Default: the booked appointment's.")
    model: Line | None = None
    advisor_id: StaffId | None = Field(
        default=None, description="Default: the caller (the token's subject)."
    )
    mileage_km: Kilometres
    concerns: list[Line] = Field(default_factory=list, max_length=50)
    concern_codes: list[Line] | None = Field(
        default=None, description="Normalised codes; default: derived from the concerns."
    )
    walk_around_findings: list[Line] = Field(default_factory=list, max_length=50)
    work_type: ServiceWorkType | None = Field(
        default=None, description="The advisor's classification; default: from the concerns."
    )
    warranty_start_on: date | None = Field(
        default=None,
        description="Warranty start (delivery date); faults are warranty work "
        "while within the warranty period and mileage.",
    )


class DiagnosisIn(RequestBody):
    dealer_id: DealerId
    technician_id: StaffId | None = Field(
        default=None, description="Default: the caller (the token's subject)."
    )
    findings: list[Line] = Field(min_length=1, max_length=50)


class QuoteLineIn(RequestBody):
    item_id: EntityId
    kind: RepairItemKind
    description: Line
    labour_hours: DecimalString | None = None
    part_number: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    quantity: int = Field(default=1, ge=1, le=10_000)
    unit_price: AmountIn | None = Field(default=None, description="Part price per unit.")


class RepairQuoteIn(RequestBody):
    dealer_id: DealerId
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=200)
    labour_rate: AmountIn | None = Field(
        default=None, description="Price per standard hour; default: the dealer's rate."
    )
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None


class DecisionIn(RequestBody):
    """The customer's answer to the quote: every line approved or declined."""

    dealer_id: DealerId
    approved_item_ids: list[EntityId] = Field(default_factory=list)
    declined_item_ids: list[EntityId] = Field(default_factory=list)
    method: ApprovalMethod


class CompleteIn(RequestBody):
    dealer_id: DealerId
    technician_ids: list[StaffId] = Field(min_length=1, max_length=20)
    work_summary: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
    ]
    labour_hours: DecimalString
    completed_item_ids: list[EntityId] | None = Field(
        default=None, description="Quoted lines done; default: every approved line."
    )


class QualityCheckIn(RequestBody):
    dealer_id: DealerId
    inspector_id: StaffId | None = Field(
        default=None, description="Default: the caller (the token's subject)."
    )
    passed: bool
    reasons: list[Line] = Field(default_factory=list, max_length=50)
    reached_customer: bool = Field(
        default=False, description="The defect was found by the customer after handover."
    )


class HandoverIn(RequestBody):
    """The customer collects the vehicle: settled and invoiced as needed."""

    dealer_id: DealerId
    mileage_km: Kilometres | None = Field(default=None, description="Default: check-in mileage.")
    amount_paid: MoneyIn | None = Field(default=None, description="Settled at handover.")
    invoice_number: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None
    ) = None


class DiagnosisOut(BaseModel):
    technician_id: str
    findings: list[str]
    completed_at: datetime

    @classmethod
    def of(cls, diagnosis: Diagnosis) -> DiagnosisOut:
        return cls(
            technician_id=diagnosis.technician_id,
            findings=list(diagnosis.findings),
            completed_at=diagnosis.completed_at,
        )


class QuoteOut(BaseModel):
    quote_id: uuid.UUID
    items: list[RepairItem]
    labour_rate: Money
    parts_total: Money
    labour_total: Money
    total: Money

    @classmethod
    def of(cls, stored: StoredQuote) -> QuoteOut:
        quote, currency = stored.priced(), stored.currency
        return cls(
            quote_id=uuid.UUID(stored.quote_id),
            items=repair_items(quote, currency),
            labour_rate=money(quote.labour_rate, currency),
            parts_total=money(quote.parts_total, currency),
            labour_total=money(quote.labour_total, currency),
            total=money(quote.total, currency),
        )


class QualityCheckOut(BaseModel):
    attempt: int
    passed: bool
    reasons: list[str]
    repeat_failure: bool
    reached_customer: bool
    inspector_id: str
    checked_at: datetime

    @classmethod
    def of(cls, recorded: RecordedQualityCheck) -> QualityCheckOut:
        check = recorded.check
        return cls(
            attempt=check.attempt,
            passed=check.passed,
            reasons=list(check.reasons),
            repeat_failure=check.repeat_failure,
            reached_customer=recorded.reached_customer,
            inspector_id=recorded.inspector_id,
            checked_at=check.checked_at,
        )


class DetailingIn(RequestBody):
    """What the customer was shown and authorised for detailing or accessory work."""

    dealer_id: DealerId
    kind: DetailingKind
    standard_hours: DecimalString | None = Field(
        default=None, description="Standard hours shown to the customer."
    )
    fee: MoneyIn | None = Field(default=None, description="Fee shown to the customer.")
    affects: list[VehicleSystem] = Field(
        default_factory=list,
        description="Vehicle systems the work touches; safety, power or braking is refused.",
    )
    service_contract_id: EntityId | None = Field(
        default=None,
        description="The signed service contract (needed beyond a wash or simple install).",
    )
    risks_explained: bool = Field(description="Functions and possible adverse effects explained.")
    customer_authorised: bool = Field(description="The customer's authorisation is recorded.")


class DetailingOut(BaseModel):
    """The detailing job as shown and authorised, and whether the work may start."""

    kind: str
    standard_hours: DecimalString | None
    fee: Money | None
    affects: list[str]
    service_contract_id: str | None
    risks_explained: bool
    customer_authorised: bool
    recorded_by: str | None
    recorded_at: datetime
    may_start: bool
    problems: list[str] = Field(description="What still keeps the work from starting.")

    @classmethod
    def of(cls, record: DetailingRecord, problems: tuple[str, ...]) -> DetailingOut:
        fee = None
        if record.fee is not None and record.currency is not None:
            fee = money(record.fee, record.currency)
        return cls(
            kind=record.kind,
            standard_hours=record.standard_hours,
            fee=fee,
            affects=list(record.affects),
            service_contract_id=record.service_contract_id,
            risks_explained=record.risks_explained,
            customer_authorised=record.customer_authorised,
            recorded_by=record.recorded_by,
            recorded_at=record.recorded_at,
            may_start=not problems,
            problems=list(problems),
        )


class BackOrderedPartOut(BaseModel):
    """An approved part line waiting for stock."""

    item_id: str = Field(description="The quote line.")
    part_number: str
    quantity: int = Field(description="Quantity approved and not reserved.")
    recorded_at: datetime = Field(description="When the approval back-ordered it, UTC.")


class DeclinedItemOut(BaseModel):
    repair_order_id: uuid.UUID = Field(description="The repair order it was declined on.")
    item_id: str
    description: str
    amount: Money
    declined_at: datetime
    follow_up_on: date

    @classmethod
    def of(cls, item: DeclinedItemRecord) -> DeclinedItemOut:
        return cls(
            repair_order_id=item.repair_order_id,
            item_id=item.item_id,
            description=item.description,
            amount=money(item.amount, item.currency),
            declined_at=item.declined_at,
            follow_up_on=item.follow_up_on,
        )


class RepairOrderSummary(BaseModel):
    repair_order_id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    vin: str
    model: str | None
    advisor_id: str
    work_type: ServiceWorkType
    status: str
    mileage_km: int
    opened_at: datetime
    updated_at: datetime
    handed_over_at: datetime | None

    @classmethod
    def of(cls, ro: RepairOrderRecord) -> RepairOrderSummary:
        return cls(**_summary_fields(ro))


def _summary_fields(ro: RepairOrderRecord) -> dict[str, Any]:
    return {
        "repair_order_id": ro.id,
        "dealer_id": ro.dealer_id,
        "customer_id": ro.customer_id,
        "vin": ro.vin,
        "model": ro.model,
        "advisor_id": ro.advisor_id,
        "work_type": ro.work_type,
        "status": ro.status.value,
        "mileage_km": ro.mileage_km,
        "opened_at": ro.opened_at,
        "updated_at": ro.updated_at,
        "handed_over_at": ro.handed_over_at,
    }


class RepairOrderDetail(RepairOrderSummary):
    service_appointment_id: str | None
    under_warranty: bool
    concerns: list[str]
    concern_codes: list[str]
    walk_around_findings: list[str]
    contact: ContactSnapshot
    diagnosis: DiagnosisOut | None
    quote: QuoteOut | None
    approved_item_ids: list[str]
    approved_total: Money | None
    completed_item_ids: list[str]
    technician_ids: list[str]
    work_summary: str | None
    labour_hours: DecimalString | None
    completed_at: datetime | None
    quality_checks: list[QualityCheckOut]
    declined_items: list[DeclinedItemOut]
    handover_mileage_km: int | None
    amount_paid: Money | None
    invoice_number: str | None
    next_maintenance_due_on: date | None
    next_maintenance_due_km: int | None
    detailing: DetailingOut | None = Field(
        default=None, description="Detailing work: what the customer was shown and authorised."
    )
    offered_again: list[DeclinedItemOut] = Field(
        default_factory=list,
        description="Work the customer declined on earlier visits of this vehicle, still "
        "open: the advisor offers it again.",
    )
    back_ordered_parts: list[BackOrderedPartOut] = Field(
        default_factory=list,
        description="Approved part lines waiting for stock (back-ordered at the approval; "
        "GET /v1/repair-orders/{id}/parts has every reservation).",
    )

    @classmethod
    def of(cls, details: RepairOrderDetails) -> RepairOrderDetail:  # type: ignore[override]
        ro = details.order
        currency = ro.currency or (ro.quote.currency if ro.quote is not None else None)

        def amount(value: Decimal | None) -> Money | None:
            return None if value is None or currency is None else money(value, currency)

        return cls(
            **_summary_fields(ro),
            service_appointment_id=ro.service_appointment_id,
            under_warranty=ro.under_warranty,
            concerns=list(ro.concerns),
            concern_codes=list(ro.concern_codes),
            walk_around_findings=list(ro.walk_around_findings),
            contact=ro.contact,
            diagnosis=DiagnosisOut.of(ro.diagnosis) if ro.diagnosis is not None else None,
            quote=QuoteOut.of(ro.quote) if ro.quote is not None else None,
            approved_item_ids=list(ro.approved_item_ids),
            approved_total=amount(ro.approved_total),
            completed_item_ids=list(ro.completed_item_ids),
            technician_ids=list(ro.technician_ids),
            work_summary=ro.work_summary,
            labour_hours=ro.labour_hours,
            completed_at=ro.completed_at,
            quality_checks=[QualityCheckOut.of(c) for c in details.quality_checks],
            declined_items=[DeclinedItemOut.of(d) for d in details.declined_items],
            handover_mileage_km=ro.handover_mileage_km,
            amount_paid=amount(ro.amount_paid),
            invoice_number=ro.invoice_number,
            next_maintenance_due_on=ro.next_maintenance_due_on,
            offered_again=[DeclinedItemOut.of(d) for d in details.offered_again],
            back_ordered_parts=[
                BackOrderedPartOut(
                    item_id=r.item_id,
                    part_number=r.part_number,
                    quantity=r.quantity,
                    recorded_at=r.recorded_at,
                )
                for r in details.back_ordered
            ],
            detailing=(
                DetailingOut.of(details.detailing, detailing_problems(details.detailing))
                if details.detailing is not None
                else None
            ),
            next_maintenance_due_km=ro.next_maintenance_due_km,
        )


class NextMaintenanceOut(BaseModel):
    due_on: date | None
    due_km: int | None
    after_repair_order_id: str | None = Field(
        description="The handover that set it; null for the first maintenance after the "
        "sale (planned from the delivery)."
    )


class VehicleHistoryOut(BaseModel):
    """A vehicle's service history at the dealer."""

    dealer_id: str
    vin: str
    repair_orders: list[RepairOrderSummary] = Field(description="Newest first (up to 200).")
    declined_open: list[DeclinedItemOut] = Field(
        description="Declined work not done or closed since, oldest first."
    )
    next_maintenance: NextMaintenanceOut | None
    tier: ServiceTier = Field(
        description="After-sales tier by visits (days with a repair order) in the last 12 "
        "months: A >= 4, B 2-3, C 1, D none (the dealer's tier_min_visits_per_year)."
    )
    retention: RetentionStatus | None = Field(
        description="active, at_risk (12 months without a visit) or lost (24; the dealer's "
        "at_risk_after_months / lost_after_months); null when it never came here."
    )

    @classmethod
    def of(cls, dealer_id: str, history: VehicleHistory) -> VehicleHistoryOut:
        due = history.next_maintenance
        return cls(
            dealer_id=dealer_id,
            vin=history.vin,
            repair_orders=[RepairOrderSummary.of(o) for o in history.repair_orders],
            declined_open=[DeclinedItemOut.of(d) for d in history.declined_open],
            next_maintenance=(
                NextMaintenanceOut(
                    due_on=due.due_on,
                    due_km=due.due_km,
                    after_repair_order_id=due.after_repair_order_id,
                )
                if due is not None
                else None
            ),
            tier=history.tier,
            retention=history.retention,
        )
