"""HTTP requests of a contract's payments, invoice and delivery (conventions: :mod:`schemas`)."""

from __future__ import annotations

import uuid

from pydantic import Field

from dealerflow.contracts.enums import DeliveryDocument, PaymentKind, PaymentMethod
from dealerflow.contracts.types import DealerId, Kilometres
from dealerflow.runtime.idempotency import request_of
from dealerflow.runtime.request_models import MoneyIn, PlannedAt, RequestBody, money_of
from dealerflow.sales.schemas import ShortText
from dealerflow.sales.usecases_delivery import (
    DeliverVehicle,
    IssueInvoice,
    RecordPayment,
    ScheduleDelivery,
)


class PaymentIn(RequestBody):
    dealer_id: DealerId
    payment_id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id: a retry with the same id records nothing."
    )
    kind: PaymentKind
    method: PaymentMethod
    amount: MoneyIn
    confirmed_by_finance: bool = Field(
        default=True,
        description="Only finance (sales manager, GM) or the DMS records payments, so an "
        "entry is the money on the account unless finance says false: a transfer slip seen, "
        "the money not arrived yet (it counts after POST .../confirmation).",
    )

    def command(self, contract_id: uuid.UUID, idempotency_key: str | None) -> RecordPayment:
        return RecordPayment(
            dealer_id=self.dealer_id,
            contract_id=contract_id,
            kind=self.kind,
            method=self.method,
            amount=self.amount.money(),
            confirmed_by_finance=self.confirmed_by_finance,
            payment_id=self.payment_id,
            request=request_of(idempotency_key, self, self.payment_id),
        )


class InvoiceIn(RequestBody):
    dealer_id: DealerId
    invoice_number: ShortText
    invoice_title: ShortText
    tax_number: ShortText | None = None
    amount: MoneyIn | None = Field(default=None, description="Default: the contract price.")

    def command(self, contract_id: uuid.UUID, idempotency_key: str | None) -> IssueInvoice:
        return IssueInvoice(
            dealer_id=self.dealer_id,
            contract_id=contract_id,
            invoice_number=self.invoice_number,
            invoice_title=self.invoice_title,
            tax_number=self.tax_number,
            amount=money_of(self.amount),
            request=request_of(idempotency_key, self),
        )


class ScheduleDeliveryIn(RequestBody):
    dealer_id: DealerId
    scheduled_for: PlannedAt
    location: ShortText | None = None

    def command(self, contract_id: uuid.UUID, idempotency_key: str | None) -> ScheduleDelivery:
        return ScheduleDelivery(
            dealer_id=self.dealer_id,
            contract_id=contract_id,
            scheduled_for=self.scheduled_for,
            location=self.location,
            request=request_of(idempotency_key, self),
        )


class DeliveryChecklistIn(RequestBody):
    pdi_passed: bool = Field(
        default=False,
        deprecated=True,
        description="Ignored: the PDI recorded by PUT /v1/contracts/{id}/pdi decides.",
    )
    documents: list[DeliveryDocument] = Field(
        default_factory=list, description="Documents (and keys) prepared for the customer."
    )


class DeliverIn(RequestBody):
    dealer_id: DealerId
    checklist: DeliveryChecklistIn
    odometer_km: Kilometres

    def command(self, contract_id: uuid.UUID, idempotency_key: str | None) -> DeliverVehicle:
        return DeliverVehicle(
            dealer_id=self.dealer_id,
            contract_id=contract_id,
            documents=tuple(self.checklist.documents),
            odometer_km=self.odometer_km,
            request=request_of(idempotency_key, self),
        )
