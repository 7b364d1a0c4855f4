"""Stored rows -> API responses and domain objects (no SQL, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.events.sales import ContractVehicle, PaymentPlan
from dealerflow.sales import domain
from dealerflow.sales.schemas import (
    ContractDetail,
    ContractSummary,
    ContractVersionOut,
    DeliveryOut,
    InvoiceOut,
    LedgerOut,
    LoanPlanOut,
    PaymentOut,
    QuoteOut,
    TestDriveOut,
)
from dealerflow.sales.support import money

Row = Mapping[str, Any]


def vehicle_of(contract: Row) -> ContractVehicle:
    return ContractVehicle(
        model=contract["model"],
        configuration=contract["configuration"],
        colour=contract["colour"],
        vin=contract["vin"],
    )


def payment_of(contract: Row) -> PaymentPlan:
    return PaymentPlan.model_validate(contract["payment"])


def payment_terms(payment: PaymentPlan) -> tuple[tuple[str, str], ...]:
    """The loan details of a payment plan as the domain compares them."""
    details = payment.model_dump(mode="json", exclude={"method"}, exclude_none=True)
    return tuple(sorted((k, str(v)) for k, v in details.items()))


def terms_of(contract: Row) -> domain.ContractTerms:
    """The domain's view of a stored contract's current terms."""
    contact = contract["contact"]
    payment = PaymentPlan.model_validate(contract["payment"])
    return domain.ContractTerms(
        model=contract["model"],
        configuration=contract["configuration"],
        colour=contract["colour"],
        customer_name=contact["name"],
        id_document_verified=contract["identity_verified"],
        phone=contact.get("phone") or "",
        address=contract["address"],
        price=contract["price"],
        payment_plan=domain.PaymentPlan(payment.method),
        delivery_date=contract["planned_delivery_on"],
        vin=contract["vin"],
        payment_terms=payment_terms(payment),
    )


def version_of(contract: Row) -> domain.ContractVersion:
    return domain.ContractVersion(
        contract_id=contract["id"],
        version=contract["version"],
        terms=terms_of(contract),
        status=domain.ContractStatus(contract["status"]),
        effective_at=contract["updated_at"],
    )


def ledger_of(contract: Row, payments: Sequence[Row]) -> domain.PaymentLedger:
    return domain.PaymentLedger(
        contract_price=contract["price"],
        entries=tuple(
            domain.LedgerEntry(
                kind=domain.PaymentKind(p["kind"]),
                amount=p["amount"],
                at=p["recorded_at"],
                confirmed=p["confirmed"],
                reference=str(p["id"]),
            )
            for p in payments
        ),
    )


def contract_summary(contract: Row) -> ContractSummary:
    return ContractSummary(
        contract_id=contract["id"],
        dealer_id=contract["dealer_id"],
        customer_id=contract["customer_id"],
        version=contract["version"],
        status=contract["status"],
        consultant_id=contract["consultant_id"],
        lead_id=contract["lead_id"],
        quote_id=contract["quote_id"],
        vehicle=vehicle_of(contract),
        price=money(contract["price"], contract["currency"]),
        payment=PaymentPlan.model_validate(contract["payment"]),
        planned_delivery_on=contract["planned_delivery_on"],
        contact=ContactSnapshot.model_validate(contract["contact"]),
        signed_at=contract["signed_at"],
        updated_at=contract["updated_at"],
        cancelled_at=contract["cancelled_at"],
        delivered_at=contract["delivered_at"],
    )


def contract_detail(
    contract: Row,
    *,
    payments: Sequence[Row],
    versions: Sequence[Row],
    invoice: Row | None,
    delivery: Row | None,
) -> ContractDetail:
    currency = contract["currency"]
    ledger = ledger_of(contract, payments)
    return ContractDetail(
        **contract_summary(contract).model_dump(),
        address=contract["address"],
        identity_verified=contract["identity_verified"],
        ledger=LedgerOut(
            paid=money(ledger.paid, currency),
            refunded=money(ledger.refunded, currency),
            awaiting_confirmation=money(ledger.awaiting_confirmation, currency),
            balance_due=money(ledger.balance_due, currency),
        ),
        payments=[
            PaymentOut(
                payment_id=p["id"],
                contract_id=p["contract_id"],
                kind=p["kind"],
                method=p["method"],
                amount=money(p["amount"], p["currency"]),
                confirmed=p["confirmed"],
                reason=p["reason"],
                recorded_at=p["recorded_at"],
            )
            for p in payments
        ],
        invoice=None if invoice is None else invoice_out(invoice),
        delivery=None if delivery is None else delivery_out(delivery),
        versions=[
            ContractVersionOut(
                version=v["version"],
                status=v["status"],
                changed_fields=v["changed_fields"],
                reason=v["reason"],
                effective_at=v["effective_at"],
            )
            for v in versions
        ],
    )


def invoice_out(invoice: Row) -> InvoiceOut:
    return InvoiceOut(
        invoice_id=invoice["id"],
        invoice_number=invoice["invoice_number"],
        invoice_title=invoice["invoice_title"],
        tax_number=invoice["tax_number"],
        amount=money(invoice["amount"], invoice["currency"]),
        tax_amount=money(invoice["tax_amount"], invoice["currency"]),
        issued_at=invoice["issued_at"],
    )


def delivery_out(delivery: Row) -> DeliveryOut:
    checklist = delivery["checklist"] or {}
    return DeliveryOut(
        delivery_id=delivery["id"],
        status=delivery["status"],
        scheduled_for=delivery["scheduled_for"],
        location=delivery["location"],
        delivered_at=delivery["delivered_at"],
        odometer_km=delivery["odometer_km"],
        documents=checklist.get("documents"),
    )


def quote_out(quote: Row) -> QuoteOut:
    currency = quote["currency"]
    lines: dict[str, str] = quote["lines"]

    def m(name: str) -> Any:
        return money(Decimal(lines[name]), currency)

    loan = quote["loan"]
    return QuoteOut(
        quote_id=quote["id"],
        dealer_id=quote["dealer_id"],
        customer_id=quote["customer_id"],
        lead_id=quote["lead_id"],
        consultant_id=quote["consultant_id"],
        vehicle=ContractVehicle.model_validate(quote["vehicle"]),
        new_energy=quote["new_energy"],
        vehicle_price=m("vehicle_price"),
        discount=m("discount"),
        transaction_price=m("transaction_price"),
        purchase_tax=m("purchase_tax"),
        insurance=m("insurance"),
        registration_fee=m("registration_fee"),
        accessories=m("accessories_total"),
        extended_warranty=m("extended_warranty"),
        total=m("total"),
        due_upfront=m("due_upfront"),
        payment=PaymentPlan.model_validate(quote["payment"]),
        loan=None if loan is None else _loan_out(loan, currency),
        discount_needs_approval=quote["needs_approval"],
        approval_id=quote["approval_id"],
        valid_until=quote["valid_until"],
        issued_at=quote["issued_at"],
    )


def _loan_out(loan: Row, currency: str) -> LoanPlanOut:
    plain = ("term_months", "annual_rate_percent")
    return LoanPlanOut.model_validate(
        {k: (v if k in plain else money(Decimal(v), currency)) for k, v in loan.items()}
    )


def masked_licence(number: str) -> str:
    """Only the last four characters: a licence number is an ID number in China."""
    return "*" * max(len(number) - 4, 0) + number[-4:]


def test_drive_out(td: Row) -> TestDriveOut:
    return TestDriveOut(
        test_drive_id=td["id"],
        dealer_id=td["dealer_id"],
        customer_id=td["customer_id"],
        vehicle_id=td["vehicle_id"],
        model=td["model"],
        consultant_id=td["consultant_id"],
        starts_at=td["starts_at"],
        ends_at=td["ends_at"],
        route=td["route"],
        licence_number_masked=td["licence_number"],
    )
