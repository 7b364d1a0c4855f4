"""Pure finance rules of a contract: the buyer's tax number on the invoice and finance's
confirmation of a payment a salesperson entered.

Only confirmed money counts towards the balance (domain.PaymentLedger); confirming is a
separate step by finance, recorded with who and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from dealerflow.sales.domain import PaymentLedger

#: The 31 characters of a unified social credit code (统一社会信用代码, GB 32100-2015):
#: digits and capitals without I, O, S, V, Z.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_character(first17: str) -> str | None:
    """The 18th (check) character for the first 17 of a code; None if one is invalid."""
    if len(first17) != 17 or any(c not in USCC_ALPHABET for c in first17):
        return None
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id_check_character(first17: str) -> str | None:
    """The 18th character of a resident identity number (GB 11643, ISO 7064 MOD 11-2)."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        return None
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def is_valid_tax_number(tax_number: str) -> bool:
    """The buyer's taxpayer number on a vehicle invoice: a company's 18-character unified
    social credit code, or a private buyer's 18-digit resident identity number, each with
    a correct check character. Upper case only (as printed on licence and ID card)."""
    if len(tax_number) != 18:
        return False
    head, check = tax_number[:17], tax_number[17]
    return check in (uscc_check_character(head), resident_id_check_character(head))


class ConfirmationRefused(ValueError):
    """The payment cannot be confirmed; the message says why."""


@dataclass(frozen=True)
class Confirmation:
    """Finance's confirmation that a payment's money arrived."""

    confirmed_by: str
    confirmed_at: datetime


def confirm(already_confirmed: bool, by: str, at: datetime) -> Confirmation | None:
    """The confirmation to record; None when the payment is confirmed already (a repeat
    changes nothing, so the first who/when stays on record)."""
    if already_confirmed:
        return None
    if not by:
        raise ConfirmationRefused("the confirming finance user is unknown")
    return Confirmation(confirmed_by=by, confirmed_at=at)


class LoanDecisionKind(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"


@dataclass(frozen=True)
class LoanDecision:
    """The lender's decision on a contract's loan, as finance recorded it."""

    lender: str
    decision: LoanDecisionKind
    reference: str
    approved_amount: Decimal | None  # only for an approval
    currency: str
    decided_at: datetime
    recorded_by: str
    recorded_at: datetime


def loan_decision_errors(decision: LoanDecision, now: datetime) -> tuple[str, ...]:
    """Why the decision cannot be recorded (empty: it can)."""
    errors: list[str] = []
    approved = decision.decision is LoanDecisionKind.APPROVED
    if approved and (decision.approved_amount is None or decision.approved_amount <= 0):
        errors.append("an approval needs a positive approved_amount")
    if not approved and decision.approved_amount is not None:
        errors.append("a declined loan has no approved_amount")
    if decision.decided_at > now:
        errors.append("decided_at lies in the future")
    return tuple(errors)


def loan_disbursement_refusal(
    decision: LoanDecision | None, already_disbursed: Decimal, amount: Decimal
) -> str | None:
    """Why a loan disbursement of ``amount`` cannot count (None: it can). The loan counts
    towards the balance only once the lender approved it, up to the approved amount."""
    if decision is None:
        return "the lender's approval of the loan is not recorded yet"
    if decision.decision is LoanDecisionKind.DECLINED:
        return (
            f"the loan was declined by {decision.lender}: the contract needs another "
            "payment plan (another lender's approval or a full payment)"
        )
    assert decision.approved_amount is not None
    if already_disbursed + amount > decision.approved_amount:
        return f"the disbursements would exceed the approved loan of {decision.approved_amount}"
    return None


def refund_allowed(ledger: PaymentLedger, contract_active: bool) -> Decimal:
    """What finance may refund outside a cancellation: the overpayment of an active
    contract. A cancelled contract was refunded at cancellation, by the dealer's deposit
    rule (domain.cancellation_refund), so nothing more is allowed here."""
    return ledger.overpaid if contract_active else Decimal("0.00")
