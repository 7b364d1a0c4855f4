from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from dealerflow.sales.domain import LedgerEntry, PaymentKind, PaymentLedger
from dealerflow.sales.domain_finance import (
    Confirmation,
    ConfirmationRefused,
    LoanDecision,
    LoanDecisionKind,
    confirm,
    is_valid_tax_number,
    loan_decision_errors,
    loan_disbursement_refusal,
    refund_allowed,
    resident_id_check_character,
    uscc_check_character,
)

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_tax_number_with_its_check_character_is_valid() -> None:
    prefix = "91110108MA01ABCD1"
    check = uscc_check_character(prefix)
    assert check is not None
    assert is_valid_tax_number(prefix + check)


def test_known_published_code_is_valid() -> None:
    # A code as printed on a business licence (Huawei Technologies Co., Ltd.).
    assert is_valid_tax_number("914403001922038216")


def test_private_buyer_resident_id_number_is_valid() -> None:
    assert is_valid_tax_number("11010519491231002X")
    assert not is_valid_tax_number("110105194912310021")
    assert resident_id_check_character("11010519491231002") == "X"


@pytest.mark.parametrize(
    "tax_number",
    [
        "",
        "91440300192203821",
        "9144030019220382161",
        "914403001922038217",
        "91440300192203821i",
        "9144030019220382O6",
    ],
)
def test_tax_number_of_wrong_length_check_or_alphabet_is_invalid(tax_number: str) -> None:
    assert not is_valid_tax_number(tax_number)


def test_confirm_records_who_and_when_once() -> None:
    assert confirm(False, "fin-1", AT) == Confirmation("fin-1", AT)
    assert confirm(True, "fin-2", AT) is None


def test_confirm_needs_a_user() -> None:
    with pytest.raises(ConfirmationRefused):
        confirm(False, "", AT)


def loan(decision: LoanDecisionKind, amount: str | None) -> LoanDecision:
    return LoanDecision(
        lender="CMB",
        decision=decision,
        reference="R-1",
        approved_amount=None if amount is None else Decimal(amount),
        currency="CNY",
        decided_at=AT,
        recorded_by="fin-1",
        recorded_at=AT,
    )


def test_loan_disbursement_counts_only_after_approval_and_up_to_it() -> None:
    approved = loan(LoanDecisionKind.APPROVED, "140000.00")
    assert loan_disbursement_refusal(None, Decimal(0), Decimal("1")) is not None
    assert loan_disbursement_refusal(approved, Decimal(0), Decimal("140000.00")) is None
    assert loan_disbursement_refusal(approved, Decimal("100000"), Decimal("40000.01"))
    declined = loan_disbursement_refusal(
        loan(LoanDecisionKind.DECLINED, None), Decimal(0), Decimal("1")
    )
    assert declined is not None
    assert "another payment plan" in declined


def test_loan_decision_must_be_consistent() -> None:
    assert loan_decision_errors(loan(LoanDecisionKind.APPROVED, "1.00"), AT) == ()
    assert loan_decision_errors(loan(LoanDecisionKind.APPROVED, None), AT)
    assert loan_decision_errors(loan(LoanDecisionKind.DECLINED, "1.00"), AT)
    assert loan_decision_errors(loan(LoanDecisionKind.DECLINED, None), AT - timedelta(days=1))


def test_refund_outside_cancellation_is_the_overpayment_of_an_active_contract() -> None:
    ledger = PaymentLedger(Decimal("100.00")).record(
        LedgerEntry(PaymentKind.FULL, Decimal("120.00"), AT)
    )
    assert refund_allowed(ledger, contract_active=True) == Decimal("20.00")
    assert refund_allowed(ledger, contract_active=False) == 0
