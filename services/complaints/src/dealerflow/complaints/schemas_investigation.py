"""Request and response bodies of a complaint's investigation (api_investigation)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from dealerflow.complaints.domain import ComplaintStatus
from dealerflow.complaints.records import (
    ConfirmationRecord,
    Investigation,
    RepairVisit,
    SaleRecord,
)
from dealerflow.complaints.schemas import ActionIn, Doer, Text
from dealerflow.contracts.enums import ContactChannel
from dealerflow.contracts.types import Money


class ConfirmationIn(ActionIn):
    confirmed: bool = Field(description="The customer accepts the resolution (or not).")
    channel: ContactChannel | None = Field(default=None, description="How the customer answered.")
    note: Text | None = Field(default=None, description="What the customer said.")
    by: Doer = None


class SaleView(BaseModel):
    """One sale of the customer at the dealer (from the sales topic)."""

    contract_id: str
    model: str | None
    vin: str | None
    price: Money | None = Field(description="Contract price (absent: contract not seen here).")
    consultant_id: str | None = Field(description="Consultant who closed (else delivered) it.")
    signed_at: datetime | None
    delivery_id: str | None
    delivered_at: datetime | None
    cancelled_at: datetime | None

    @classmethod
    def of(cls, s: SaleRecord) -> SaleView:
        price = (
            Money(amount=s.price_amount, currency=s.price_currency)
            if s.price_amount is not None and s.price_currency is not None
            else None
        )
        return cls(
            contract_id=s.contract_id,
            model=s.model,
            vin=s.vin,
            price=price,
            consultant_id=s.consultant_id,
            signed_at=s.signed_at,
            delivery_id=s.delivery_id,
            delivered_at=s.delivered_at,
            cancelled_at=s.cancelled_at,
        )


class RepairOrderView(BaseModel):
    """One repair order of the customer or their vehicle (from the service topic)."""

    repair_order_id: str
    vin: str
    concerns: list[str] = Field(description="Concern codes and concerns as told.")
    advisor_id: str | None
    work_type: str | None
    opened_at: datetime | None
    handed_over_at: datetime | None

    @classmethod
    def of(cls, r: RepairVisit) -> RepairOrderView:
        return cls(
            repair_order_id=r.repair_order_id,
            vin=r.vin,
            concerns=list(r.concerns),
            advisor_id=r.advisor_id,
            work_type=r.work_type,
            opened_at=r.opened_at,
            handed_over_at=r.completed_at,
        )


class ResponsibilityView(BaseModel):
    """Who was responsible, as the resolution recorded it."""

    responsibility: str = Field(description="dealer, customer, manufacturer, ...")
    responsible_department: str | None
    responsible_staff_id: str | None = Field(description="The responsible person's staff id.")
    cause: str | None

    @classmethod
    def of(cls, resolution: dict[str, Any]) -> ResponsibilityView:
        return cls(
            responsibility=resolution["responsibility"],
            responsible_department=resolution.get("responsible_department"),
            responsible_staff_id=resolution.get("responsible_staff_id"),
            cause=resolution.get("cause"),
        )


class ConfirmationView(BaseModel):
    """One answer of the customer to the resolution."""

    reopen_count: int = Field(description="Which resolution it answers (0: the first).")
    confirmed: bool
    channel: str | None
    note: str | None
    recorded_by: str | None
    at: datetime

    @classmethod
    def of(cls, c: ConfirmationRecord) -> ConfirmationView:
        return cls(
            reopen_count=c.reopen_count,
            confirmed=c.confirmed,
            channel=c.channel,
            note=c.note,
            recorded_by=c.recorded_by,
            at=c.at,
        )


class InvestigationView(BaseModel):
    """A complaint's investigation: the customer's history at the dealer, the
    responsibility, the measures agreed and the customer's confirmations."""

    complaint_id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    status: ComplaintStatus
    vin: str | None
    department: str | None = Field(description="The department handling the complaint.")
    handler_id: str
    sales: list[SaleView] = Field(description="The customer's sales at the dealer, oldest first.")
    repair_orders: list[RepairOrderView] = Field(
        description="Repair orders of the customer or of the complaint's or sold vehicles, "
        "oldest first."
    )
    responsibility: ResponsibilityView | None = Field(description="None until resolved.")
    measures: list[str] = Field(description="Measures agreed (empty until resolved).")
    resolution: str | None = Field(description="What the customer was told.")
    confirmations: list[ConfirmationView] = Field(description="Oldest first.")

    @classmethod
    def of(cls, inv: Investigation) -> InvestigationView:
        c = inv.complaint
        resolution = c.resolution or {}
        return cls(
            complaint_id=c.id,
            dealer_id=c.dealer_id,
            customer_id=c.customer_id,
            status=c.status,
            vin=c.vin,
            department=c.department,
            handler_id=c.handler_id,
            sales=[SaleView.of(s) for s in inv.sales],
            repair_orders=[RepairOrderView.of(r) for r in inv.repairs],
            responsibility=ResponsibilityView.of(resolution) if resolution else None,
            measures=list(resolution.get("measures") or []),
            resolution=resolution.get("resolution"),
            confirmations=[ConfirmationView.of(x) for x in inv.confirmations],
        )
