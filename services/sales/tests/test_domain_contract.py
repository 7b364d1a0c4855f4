from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from dealerflow.policy import SalesPolicy
from dealerflow.sales.domain import (
    CancellationPolicy,
    CancellationTerms,
    CancelledBy,
    ContractError,
    ContractStatus,
    ContractTerms,
    ContractVersion,
    LedgerEntry,
    LedgerError,
    PaymentKind,
    PaymentLedger,
    PaymentPlan,
    amend_contract,
    cancel_contract,
    cancellation_refund,
    changed_fields,
    is_valid_vin,
    validate_contract_terms,
)

D = Decimal
T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
CONTRACT = UUID(int=42)
TERMS = ContractTerms(
    model="Aurora",
    configuration="Long Range AWD",
    colour="Pearl White",
    customer_name="张三",
    id_document_verified=True,
    phone="+8613800138000",
    address="上海市浦东新区 1 号",
    price=D("200000.00"),
    payment_plan=PaymentPlan.FULL_PAYMENT,
    delivery_date=date(2026, 5, 1),
    vin="LSVAU2180N2183294",
)


def test_vin_format() -> None:
    assert is_valid_vin("LSVAU2180N2183294")
    assert not is_valid_vin("LSVAU2180N218329")  # 16 characters
    assert not is_valid_vin("LSVAU2180N218329O")  # letter O is never used
    assert not is_valid_vin("lsvau2180n2183294")


def signed(terms: ContractTerms) -> ContractVersion:
    """Version 1, as signing stores it (the sales use case validates the terms first)."""
    return ContractVersion(CONTRACT, 1, terms, ContractStatus.ACTIVE, T0)


def test_signing_requires_complete_verified_terms() -> None:
    assert validate_contract_terms(TERMS, today=date(2026, 4, 1)) == ()
    bad = replace(TERMS, id_document_verified=False, colour=" ", price=D("0"), vin="123")
    assert validate_contract_terms(bad) == (
        "colour is required",
        "the customer's ID document must be verified",
        "price must be positive",
        "vin must be 17 characters: digits and capitals except I, O, Q",
    )
    late = validate_contract_terms(TERMS, today=date(2026, 5, 2))
    assert late == ("delivery_date is in the past",)
    assert validate_contract_terms(replace(TERMS, vin=None)) == ()  # VIN may come later


def test_amendment_is_a_new_version_with_the_changes() -> None:
    v1 = signed(TERMS)
    new_terms = replace(TERMS, colour="Midnight Blue", price=D("201500.00"))
    v2 = amend_contract(v1, new_terms, customer_agreed=True, dealer_agreed=True, at=T0)
    assert (v2.version, v2.terms.colour, v2.status) == (2, "Midnight Blue", ContractStatus.ACTIVE)
    assert v1.terms.colour == "Pearl White"  # the signed version is untouched
    assert changed_fields(v1.terms, v2.terms) == {
        "colour": ("Pearl White", "Midnight Blue"),
        "price": (D("200000.00"), D("201500.00")),
    }


def test_amendment_needs_both_sides_and_a_change() -> None:
    v1 = signed(TERMS)
    changed = replace(TERMS, colour="Red")
    with pytest.raises(ContractError, match="agreement"):
        amend_contract(v1, changed, customer_agreed=True, dealer_agreed=False, at=T0)
    with pytest.raises(ContractError, match="changes nothing"):
        amend_contract(v1, TERMS, customer_agreed=True, dealer_agreed=True, at=T0)
    with pytest.raises(ContractError, match="verified"):
        amend_contract(
            v1,
            replace(changed, id_document_verified=False),
            customer_agreed=True,
            dealer_agreed=True,
            at=T0,
        )


def test_cancelled_contract_is_final() -> None:
    v1 = signed(TERMS)
    cancelled = cancel_contract(v1, T0 + timedelta(days=1))
    assert (cancelled.version, cancelled.status) == (2, ContractStatus.CANCELLED)
    assert cancelled.terms == v1.terms
    with pytest.raises(ContractError, match="cancelled contract cannot be amended"):
        amend_contract(
            cancelled, replace(TERMS, colour="Red"), customer_agreed=True, dealer_agreed=True, at=T0
        )
    with pytest.raises(ContractError, match="cannot be cancelled"):
        cancel_contract(cancelled, T0)


def _paid(*entries: tuple[PaymentKind, str, bool]) -> PaymentLedger:
    ledger = PaymentLedger(contract_price=D("200000.00"))
    for kind, amount, confirmed in entries:
        ledger = ledger.record(LedgerEntry(kind, D(amount), T0, confirmed=confirmed))
    return ledger


def test_ledger_balance_counts_only_confirmed_money() -> None:
    ledger = _paid((PaymentKind.DEPOSIT, "5000", True), (PaymentKind.BALANCE, "195000", False))
    assert ledger.deposit_paid == D("5000.00")
    assert ledger.awaiting_confirmation == D("195000.00")
    assert ledger.balance_due == D("195000.00")
    assert not ledger.is_settled
    settled = _paid((PaymentKind.DEPOSIT, "5000", True), (PaymentKind.BALANCE, "195000", True))
    assert settled.balance_due == D("0.00")
    assert settled.is_settled
    assert settled.overpaid == D("0.00")


def test_full_payment_and_loan_disbursement_count_as_paid() -> None:
    ledger = _paid(
        (PaymentKind.FULL, "60000", True), (PaymentKind.LOAN_DISBURSEMENT, "140000", True)
    )
    assert ledger.paid == D("200000.00")
    assert ledger.deposit_paid == D("0.00")
    assert ledger.is_settled


def test_ledger_overpayment_and_price_change() -> None:
    ledger = _paid((PaymentKind.DEPOSIT, "5000", True), (PaymentKind.BALANCE, "196000", True))
    assert ledger.overpaid == D("1000.00")
    assert ledger.is_settled
    repriced = ledger.with_contract_price(D("203000"))
    assert repriced.balance_due == D("2000.00")
    assert repriced.overpaid == D("0.00")


def test_ledger_refuses_bad_entries() -> None:
    ledger = _paid((PaymentKind.DEPOSIT, "5000", True), (PaymentKind.BALANCE, "1000", False))
    with pytest.raises(LedgerError, match="exceeds"):
        ledger.record(LedgerEntry(PaymentKind.REFUND, D("5000.01"), T0))
    with pytest.raises(LedgerError, match="positive"):
        ledger.record(LedgerEntry(PaymentKind.BALANCE, D("0"), T0))
    with pytest.raises(LedgerError, match="two decimals"):
        ledger.record(LedgerEntry(PaymentKind.BALANCE, D("1.001"), T0))
    refunded = ledger.record(LedgerEntry(PaymentKind.REFUND, D("5000"), T0))
    assert refunded.net_paid == D("0.00")
    assert len(ledger.entries) == 2  # the original ledger is unchanged


def test_cancellation_refunds_what_was_paid_by_default() -> None:
    ledger = _paid((PaymentKind.DEPOSIT, "5000", True), (PaymentKind.BALANCE, "20000", True))
    refunds_all = CancellationPolicy.from_sales_policy(SalesPolicy())
    for who in CancelledBy:
        assert cancellation_refund(ledger, who, refunds_all) == D("25000.00")


def test_cancellation_keeps_what_policy_says() -> None:
    ledger = _paid((PaymentKind.DEPOSIT, "5000", True), (PaymentKind.BALANCE, "20000", True))
    earnest = CancellationPolicy(forfeit_deposit_on_customer_cancellation=True)
    assert cancellation_refund(ledger, CancelledBy.CUSTOMER, earnest) == D("20000.00")
    assert cancellation_refund(ledger, CancelledBy.MUTUAL, earnest) == D("25000.00")
    assert cancellation_refund(ledger, CancelledBy.DEALER, earnest, D("3000")) == D("25000.00")
    assert cancellation_refund(ledger, CancelledBy.MUTUAL, earnest, D("3000")) == D("22000.00")
    assert cancellation_refund(ledger, CancelledBy.CUSTOMER, earnest, D("3000")) == D("17000.00")
    deposit_only = _paid((PaymentKind.DEPOSIT, "5000", True))
    assert cancellation_refund(deposit_only, CancelledBy.CUSTOMER, earnest, D("3000")) == D("0.00")


def test_money_confirmed_after_a_cancellation_follows_its_rule() -> None:
    """The first refund covered what was confirmed; a late payment is due by the same rule
    (a deposit the rule keeps stays, costs the first refund could not cover come off)."""
    earnest = CancellationPolicy(forfeit_deposit_on_customer_cancellation=True)
    by_customer = CancellationTerms(CancelledBy.CUSTOMER, D("0"), earnest)
    balance = _paid((PaymentKind.BALANCE, "5000", True))
    assert by_customer.refund_due(balance) == D("5000.00")
    refunded = balance.record(LedgerEntry(PaymentKind.REFUND, D("5000"), T0))
    late_deposit = refunded.record(LedgerEntry(PaymentKind.DEPOSIT, D("2000"), T0))
    assert by_customer.refund_due(late_deposit) == D("0.00")
    costly = CancellationTerms(CancelledBy.MUTUAL, D("3000"), earnest)
    assert costly.refund_due(_paid((PaymentKind.BALANCE, "1000", True))) == D("0.00")
    assert costly.refund_due(
        _paid((PaymentKind.BALANCE, "1000", True), (PaymentKind.BALANCE, "4000", True))
    ) == D("2000.00")
