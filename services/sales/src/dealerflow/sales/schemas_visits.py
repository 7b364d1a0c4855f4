"""Requests and views of the showroom visit register (:mod:`api_visits`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from dealerflow.contracts.enums import PurchaseHorizon, VehicleType, VehicleUse, VisitKind
from dealerflow.contracts.events.sales import Priority, VisitNeeds
from dealerflow.contracts.types import (
    DealerId,
    EntityId,
    Kilometres,
    StaffId,
)
from dealerflow.runtime.idempotency import request_of
from dealerflow.runtime.request_models import HappenedAt, MoneyIn, RequestBody, money_of
from dealerflow.sales.domain_visits import VisitRecord
from dealerflow.sales.schemas import CustomerIdentityIn, CustomerIn
from dealerflow.sales.usecases_visits import RecordDeparture, RecordNeeds, RecordVisit


class NeedsIn(RequestBody):
    """The needs analysis: use, budget, body type, priorities (most important first),
    urgency, expected yearly mileage; every part optional."""

    use: VehicleUse | None = None
    budget: MoneyIn | None = None
    body_type: VehicleType | None = None
    priorities: list[Priority] = Field(default_factory=list, max_length=5)
    urgency: PurchaseHorizon | None = None
    expected_yearly_km: Kilometres | None = None

    def needs(self) -> VisitNeeds:
        return VisitNeeds(
            use=self.use,
            budget=money_of(self.budget),
            body_type=self.body_type,
            priorities=tuple(self.priorities),
            urgency=self.urgency,
            expected_yearly_km=self.expected_yearly_km,
        )


class VisitIn(CustomerIdentityIn):
    """Register a visitor: who, when, how many, which consultant (first or return visit is
    the register's to say)."""

    visit_id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id: a retry with the same id records nothing."
    )
    customer: CustomerIn
    lead_id: EntityId | None = Field(default=None, description="The customer's open lead.")
    consultant_id: StaffId | None = Field(
        default=None, description="The consultant; default: the caller (the token's subject)."
    )
    arrived_at: HappenedAt
    party_size: int = Field(default=1, ge=1, le=50)
    left_at: HappenedAt | None = Field(default=None, description="Departure, if known now.")
    needs: NeedsIn | None = None

    def command(self, idempotency_key: str | None, *, caller: str) -> RecordVisit:
        return RecordVisit(
            dealer_id=self.dealer_id,
            customer=self.customer.customer(),
            consultant_id=self.consultant_id or caller,
            arrived_at=self.arrived_at,
            party_size=self.party_size,
            lead_id=self.lead_id,
            customer_id=self.customer_id,
            dealer_group=self.dealer_group,
            left_at=self.left_at,
            needs=None if self.needs is None else self.needs.needs(),
            visit_id=self.visit_id,
            request=request_of(idempotency_key, self, self.visit_id),
        )


class NeedsStepIn(NeedsIn):
    """The visit's needs analysis (replaces one taken before)."""

    dealer_id: DealerId

    def command(self, idempotency_key: str | None, *, visit_id: uuid.UUID) -> RecordNeeds:
        request = request_of(idempotency_key, self)
        return RecordNeeds(self.dealer_id, visit_id, self.needs(), request)


class DepartureIn(RequestBody):
    dealer_id: DealerId
    left_at: HappenedAt

    def command(self, idempotency_key: str | None, *, visit_id: uuid.UUID) -> RecordDeparture:
        request = request_of(idempotency_key, self)
        return RecordDeparture(self.dealer_id, visit_id, self.left_at, request)


class VisitOut(BaseModel):
    visit_id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    lead_id: str | None
    consultant_id: str
    arrived_at: datetime
    party_size: int
    visit_kind: VisitKind
    left_at: datetime | None
    duration_minutes: int | None
    needs: VisitNeeds | None

    @classmethod
    def of(cls, v: VisitRecord) -> VisitOut:
        return cls(
            visit_id=v.id,
            dealer_id=v.dealer_id,
            customer_id=v.customer_id,
            lead_id=v.lead_id,
            consultant_id=v.consultant_id,
            arrived_at=v.arrived_at,
            party_size=v.party_size,
            visit_kind=v.visit_kind,
            left_at=v.left_at,
            duration_minutes=v.duration_minutes,
            needs=v.needs,
        )


class VisitHistoryOut(BaseModel):
    """The customer's visits with their needs analyses, newest first."""

    customer_id: uuid.UUID
    visits: list[VisitOut]
