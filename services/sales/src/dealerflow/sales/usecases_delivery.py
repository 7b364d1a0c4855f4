"""Contract use cases from money to keys: payments, the invoice, the delivery appointment
and the handover itself (VehicleDelivered). Same shape as :mod:`usecases`: a command in,
the contract file out, refusals as domain exceptions before anything is published."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from dealerflow.contracts.enums import DeliveryDocument, PaymentKind, PaymentMethod
from dealerflow.contracts.events.sales import (
    DeliveryScheduled,
    InvoiceIssued,
    PaymentReceived,
    VehicleDelivered,
)
from dealerflow.contracts.money import money
from dealerflow.contracts.types import Money
from dealerflow.runtime import idempotency
from dealerflow.runtime.context import UseCaseContext
from dealerflow.runtime.idempotency import RequestKey
from dealerflow.sales import domain, domain_finance, repository_finance, repository_visits
from dealerflow.sales import repository as repo
from dealerflow.sales import repository_pdi as repo_pdi
from dealerflow.sales.domain_delivery import DeliveryBlocker, DeliveryChecklist, can_deliver
from dealerflow.sales.domain_pdi import PdiRecord, failed_items, pdi_passed
from dealerflow.sales.records import ContractFile, ContractRecord, InvoiceRecord, PaymentRecord
from dealerflow.sales.settings import SalesSettings
from dealerflow.sales.usecases import (
    Created,
    RequestRefused,
    get_contract,
    locked_contract,
    require_active,
    step_replayed,
)
from dealerflow.sales.usecases_finance import LoanNotApproved


class WrongCurrency(RequestRefused):
    """Money in another currency than the contract's."""


# --- payments ---------------------------------------------------------------------------


class PaymentRefused(RequestRefused):
    """The ledger refuses the payment (not positive, more than two decimals, ...)."""


class PaymentIdTaken(Exception):
    """The client chose a payment id that exists already (under another key)."""


@dataclass(frozen=True)
class RecordPayment:
    """Money received against a contract."""

    dealer_id: str
    contract_id: uuid.UUID
    kind: PaymentKind
    method: PaymentMethod
    amount: Money
    confirmed_by_finance: bool = True
    payment_id: uuid.UUID | None = None
    request: RequestKey | None = None


def plan_payment(
    contract: ContractRecord,
    payments: Sequence[PaymentRecord],
    cmd: RecordPayment,
    *,
    payment_id: uuid.UUID,
    now: datetime,
    loan: domain_finance.LoanDecision | None = None,
) -> PaymentRecord:
    """The ledger row to record, if the contract takes it. A loan disbursement needs the
    lender's approval (``loan``), up to the approved amount."""
    require_active(contract, "take payments")
    if cmd.amount.currency != contract.currency:
        raise WrongCurrency([f"the contract is in {contract.currency}"])
    if cmd.kind is PaymentKind.LOAN_DISBURSEMENT:
        disbursed = sum(
            (p.amount for p in payments if p.kind is domain.PaymentKind.LOAN_DISBURSEMENT),
            start=Decimal(0),
        )
        if refusal := domain_finance.loan_disbursement_refusal(loan, disbursed, cmd.amount.amount):
            raise LoanNotApproved(refusal)
    payment = PaymentRecord(
        dealer_id=contract.dealer_id,
        id=payment_id,
        contract_id=contract.id,
        kind=domain.PaymentKind(cmd.kind.value),
        method=cmd.method.value,
        amount=cmd.amount.amount,
        currency=cmd.amount.currency,
        confirmed=cmd.confirmed_by_finance,
        reason=None,
        recorded_at=now,
    )
    try:
        contract.ledger(payments).record(payment.entry)
    except domain.LedgerError as exc:
        raise PaymentRefused([str(exc)]) from None
    return payment


async def record_payment(
    uc: UseCaseContext[SalesSettings], cmd: RecordPayment
) -> Created[ContractFile]:
    """A payment into the ledger and PaymentReceived; a retry records nothing."""
    payment_id = cmd.payment_id or uuid.uuid4()
    contract = await locked_contract(uc, cmd.dealer_id, cmd.contract_id)
    earlier = await idempotency.claimed_resource(
        uc.conn,
        cmd.request,
        dealer_id=cmd.dealer_id,
        scope=f"payments:{cmd.contract_id}",
        resource_id=payment_id,
    )
    if earlier is not None:
        return Created(await repo.contract_file(uc.conn, contract), created=False)
    payments = await repo.list_payments(uc.conn, cmd.dealer_id, cmd.contract_id)
    loan = await repository_finance.get_loan_decision(uc.conn, cmd.dealer_id, cmd.contract_id)
    payment = plan_payment(contract, payments, cmd, payment_id=payment_id, now=uc.now, loan=loan)
    if not await repo.insert_payment(uc.conn, payment):
        raise PaymentIdTaken(f"payment {payment_id} already exists")
    await uc.publish(
        PaymentReceived(
            dealer_id=cmd.dealer_id,
            customer_id=contract.customer_id,
            occurred_at=uc.now,
            payment_id=str(payment_id),
            contract_id=str(contract.id),
            kind=cmd.kind,
            method=cmd.method,
            amount=cmd.amount,
            confirmed_by_finance=cmd.confirmed_by_finance,
            received_at=uc.now,
        )
    )
    return Created(await repo.contract_file(uc.conn, contract), created=True)


# --- invoice ----------------------------------------------------------------------------


class AlreadyInvoiced(Exception):
    """The contract has an invoice under another number."""


class CancelledContractNotInvoiced(Exception):
    """A cancelled contract gets no invoice."""


class InvoiceNumberTaken(Exception):
    """The invoice number is on another contract's invoice."""


class InvalidTaxNumber(RequestRefused):
    """The buyer's tax number is not a valid unified social credit code."""


@dataclass(frozen=True)
class IssueInvoice:
    """The vehicle invoice (VAT included); ``amount`` defaults to the contract price."""

    dealer_id: str
    contract_id: uuid.UUID
    invoice_number: str
    invoice_title: str
    tax_number: str | None = None
    amount: Money | None = None
    request: RequestKey | None = None


def plan_invoice(
    contract: ContractRecord,
    existing: InvoiceRecord | None,
    cmd: IssueInvoice,
    *,
    number_taken: bool,
    vat_rate: Decimal,
    invoice_id: uuid.UUID,
    now: datetime,
) -> InvoiceRecord | None:
    """The invoice to issue; None when this very invoice was issued already (a retry).
    ``number_taken``: another invoice of the dealer has ``cmd.invoice_number``."""
    if existing is not None:
        if existing.invoice_number == cmd.invoice_number:
            return None
        raise AlreadyInvoiced(f"contract {contract.id} was invoiced as {existing.invoice_number}")
    if contract.status is domain.ContractStatus.CANCELLED:
        raise CancelledContractNotInvoiced("a cancelled contract cannot be invoiced")
    if number_taken:
        raise InvoiceNumberTaken(f"invoice number {cmd.invoice_number} is used by another contract")
    if cmd.tax_number is not None and not domain_finance.is_valid_tax_number(cmd.tax_number):
        raise InvalidTaxNumber(
            [f"tax_number {cmd.tax_number!r} is not an 18-character unified social credit code"]
        )
    amount = cmd.amount or money(contract.price, contract.currency)
    if amount.currency != contract.currency:
        raise WrongCurrency([f"the contract is in {contract.currency}"])
    return InvoiceRecord(
        dealer_id=contract.dealer_id,
        id=invoice_id,
        contract_id=contract.id,
        invoice_number=cmd.invoice_number,
        invoice_title=cmd.invoice_title,
        tax_number=cmd.tax_number,
        amount=amount.amount,
        tax_amount=domain.vat_included(amount.amount, vat_rate),
        currency=contract.currency,
        issued_at=now,
    )


async def issue_invoice(uc: UseCaseContext[SalesSettings], cmd: IssueInvoice) -> ContractFile:
    """The vehicle invoice and InvoiceIssued; one per contract. Repeating the same
    invoice number changes nothing, a different one is a conflict."""
    contract = await locked_contract(uc, cmd.dealer_id, cmd.contract_id)
    if (done := await step_replayed(uc, contract, cmd.request, "invoice")) is not None:
        return done
    invoice = plan_invoice(
        contract,
        await repo.get_invoice(uc.conn, cmd.dealer_id, cmd.contract_id),
        cmd,
        number_taken=await repo.invoice_number_taken(uc.conn, cmd.dealer_id, cmd.invoice_number),
        vat_rate=(await uc.policy(cmd.dealer_id)).sales.vat_rate,
        invoice_id=uuid.uuid4(),
        now=uc.now,
    )
    if invoice is not None:
        await repo.insert_invoice(uc.conn, invoice)
        await uc.publish(
            InvoiceIssued(
                dealer_id=cmd.dealer_id,
                customer_id=contract.customer_id,
                occurred_at=uc.now,
                invoice_id=str(invoice.id),
                contract_id=str(contract.id),
                invoice_number=invoice.invoice_number,
                invoice_title=invoice.invoice_title,
                tax_number=invoice.tax_number,
                amount=money(invoice.amount, invoice.currency),
                tax_amount=money(invoice.tax_amount, invoice.currency),
                issued_at=uc.now,
            )
        )
    return await repo.contract_file(uc.conn, contract)


# --- delivery appointment ---------------------------------------------------------------


class VinNotAssigned(Exception):
    """No vehicle is allocated to the contract yet."""

    problem_extensions: ClassVar[Mapping[str, object]] = {
        "missing": [DeliveryBlocker.VIN_NOT_ASSIGNED.value]
    }


class DeliveryInThePast(RequestRefused):
    """A delivery appointment must lie ahead."""


@dataclass(frozen=True)
class ScheduleDelivery:
    """Agree (or move) the handover appointment."""

    dealer_id: str
    contract_id: uuid.UUID
    scheduled_for: datetime
    location: str | None = None
    request: RequestKey | None = None


def check_appointment(contract: ContractRecord, cmd: ScheduleDelivery, now: datetime) -> None:
    """Refuse an appointment for an inactive contract, a car not allocated, or the past."""
    require_active(contract, "be scheduled for delivery")
    if contract.vin is None:
        raise VinNotAssigned("allocate a VIN (amend the contract) before scheduling the delivery")
    if cmd.scheduled_for <= now:
        raise DeliveryInThePast(["scheduled_for must be in the future"])


async def schedule_delivery(
    uc: UseCaseContext[SalesSettings], cmd: ScheduleDelivery
) -> ContractFile:
    """Agree (or move) the handover appointment: DeliveryScheduled."""
    contract = await locked_contract(uc, cmd.dealer_id, cmd.contract_id)
    if (done := await step_replayed(uc, contract, cmd.request, "schedule-delivery")) is not None:
        return done
    check_appointment(contract, cmd, uc.now)
    assert contract.vin is not None  # checked above
    delivery_id = await repo.schedule_delivery(
        uc.conn,
        contract,
        delivery_id=uuid.uuid4(),
        scheduled_for=cmd.scheduled_for,
        location=cmd.location,
    )
    await uc.publish(
        DeliveryScheduled(
            dealer_id=cmd.dealer_id,
            customer_id=contract.customer_id,
            occurred_at=uc.now,
            delivery_id=str(delivery_id),
            contract_id=str(contract.id),
            vin=contract.vin,
            model=contract.model,
            scheduled_for=cmd.scheduled_for,
            location=cmd.location,
            consultant_id=contract.consultant_id,
            contact=contract.contact,
        )
    )
    return await repo.contract_file(uc.conn, contract)


# --- handover ---------------------------------------------------------------------------


class AlreadyDelivered(Exception):
    """The vehicle of this contract was handed over already."""


class DeliveryNotReady(Exception):
    """Something stands in the way of the handover: every blocker listed."""

    def __init__(
        self,
        missing: Sequence[DeliveryBlocker],
        balance_due: Money,
        pdi_failed_items: Sequence[str] = (),
    ) -> None:
        names = [m.value for m in missing]
        super().__init__("missing: " + ", ".join(names))
        self.problem_extensions = {
            "missing": names,
            "balance_due": balance_due.model_dump(mode="json"),
            "pdi_failed_items": list(pdi_failed_items),
        }


@dataclass(frozen=True)
class DeliverVehicle:
    """Hand the car over, with the documents staff prepared (the PDI is the recorded one,
    see :mod:`usecases_pdi`)."""

    dealer_id: str
    contract_id: uuid.UUID
    documents: tuple[DeliveryDocument, ...]
    odometer_km: int
    request: RequestKey | None = None


def plan_handover(
    contract: ContractRecord,
    payments: Sequence[PaymentRecord],
    cmd: DeliverVehicle,
    *,
    invoiced: bool,
    pdi: PdiRecord | None,
) -> tuple[DeliveryDocument, ...]:
    """The documents handed over (checklist order), if the car may go (domain.can_deliver);
    an invoice issued here counts as the invoice document even if the checklist omits it.
    ``pdi``: the recorded PDI (none recorded, or a failed item, blocks)."""
    if contract.status is domain.ContractStatus.DELIVERED:
        assert contract.delivered_at is not None
        raise AlreadyDelivered(
            f"contract {contract.id} was delivered at {contract.delivered_at.isoformat()}"
        )
    documents = set(cmd.documents) | ({DeliveryDocument.INVOICE} if invoiced else set())
    ledger = contract.ledger(payments)
    readiness = can_deliver(
        DeliveryChecklist(pdi_passed(pdi), frozenset(documents), pdi_recorded=pdi is not None),
        balance_due=ledger.balance_due,
        contract_status=contract.status,
        vin=contract.vin,
    )
    if not readiness.ready:
        raise DeliveryNotReady(
            readiness.missing, money(ledger.balance_due, contract.currency), failed_items(pdi)
        )
    return tuple(sorted(documents, key=list(DeliveryDocument).index))


async def deliver_vehicle(uc: UseCaseContext[SalesSettings], cmd: DeliverVehicle) -> ContractFile:
    """Hand the car over if every check passes: VehicleDelivered, owner care starts.
    Otherwise DeliveryNotReady lists every blocker and nothing changes."""
    contract = await locked_contract(uc, cmd.dealer_id, cmd.contract_id)
    if (done := await step_replayed(uc, contract, cmd.request, "deliver")) is not None:
        return done
    pdi = await repo_pdi.get_pdi(uc.conn, cmd.dealer_id, cmd.contract_id)
    handed_over = plan_handover(
        contract,
        await repo.list_payments(uc.conn, cmd.dealer_id, cmd.contract_id),
        cmd,
        invoiced=await repo.get_invoice(uc.conn, cmd.dealer_id, cmd.contract_id) is not None,
        pdi=pdi,
    )
    assert pdi is not None  # plan_handover requires one
    assert contract.vin is not None  # can_deliver requires one
    delivery_id = await repo.record_delivery(
        uc.conn,
        contract,
        delivery_id=uuid.uuid4(),
        delivered_at=uc.now,
        odometer_km=cmd.odometer_km,
        documents=tuple(d.value for d in handed_over),
    )
    await repo.mark_contract_delivered(uc.conn, contract, at=uc.now)
    await uc.publish(
        VehicleDelivered(
            dealer_id=cmd.dealer_id,
            customer_id=contract.customer_id,
            occurred_at=uc.now,
            delivery_id=str(delivery_id),
            contract_id=str(contract.id),
            vin=contract.vin,
            model=contract.model,
            delivered_at=uc.now,
            consultant_id=contract.consultant_id,
            odometer_km=cmd.odometer_km,
            pdi_passed=pdi_passed(pdi),
            documents=list(handed_over),
            contact=contract.contact,
            expected_yearly_km=await repository_visits.latest_expected_yearly_km(
                uc.conn, cmd.dealer_id, contract.customer_id
            ),
            pdi_inspector_id=pdi.inspector_id,
            pdi_inspected_at=pdi.inspected_at,
        )
    )
    return await get_contract(uc, cmd.dealer_id, cmd.contract_id)
