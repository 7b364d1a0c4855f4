"""Pure sales rules of a contract: versions, the payment ledger, the refund on cancellation.

Amendments are agreed by both sides and create a new version; nothing is edited in
place, so every version stays on record. Cancellation refunds what was paid, minus what
the dealer's policy keeps (DOMAIN.md 2: "cancellation per policy refunds what was paid").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from dealerflow.contracts.events import sales as sales_events
from dealerflow.contracts.money import ZERO, MoneyInput, non_negative, round_money, to_money
from dealerflow.policy import SalesPolicy


class PaymentPlan(StrEnum):
    """How the customer pays for the car (the contract's payment method)."""

    FULL_PAYMENT = "full_payment"
    LOAN = "loan"


class ContractStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"
    DELIVERED = "delivered"


@dataclass(frozen=True)
class ContractTerms:
    model: str
    configuration: str
    colour: str
    customer_name: str
    id_document_verified: bool
    phone: str
    address: str
    price: Decimal
    payment_plan: PaymentPlan
    delivery_date: date
    vin: str | None = None  # allocated at signing or later, before delivery
    # Loan terms as sorted (name, value) pairs, so changing only the loan term or rate
    # is an amendment too (payment_plan alone says full payment or loan).
    payment_terms: tuple[tuple[str, str], ...] = ()


def payment_terms(payment: sales_events.PaymentPlan) -> tuple[tuple[str, str], ...]:
    """The loan details of a contract's payment plan as :class:`ContractTerms` compares them."""
    details = payment.model_dump(mode="json", exclude={"method"}, exclude_none=True)
    return tuple(sorted((k, str(v)) for k, v in details.items()))


# 17 characters, digits and capitals without I, O and Q (ISO 3779 / GB 16735).
_VIN = re.compile(r"[A-HJ-NPR-Z0-9]{17}")


def is_valid_vin(vin: str) -> bool:
    """Format check only: imported vehicles do not all carry a valid check digit."""
    return _VIN.fullmatch(vin) is not None


def validate_contract_terms(terms: ContractTerms, today: date | None = None) -> tuple[str, ...]:
    """Problems that stop these terms being signed (empty = fine)."""
    problems: list[str] = []
    for name in ("model", "configuration", "colour", "customer_name", "phone", "address"):
        if not str(getattr(terms, name)).strip():
            problems.append(f"{name} is required")
    if not terms.id_document_verified:
        problems.append("the customer's ID document must be verified")
    try:
        if to_money(terms.price, "price") <= 0:
            problems.append("price must be positive")
    except (TypeError, ValueError) as exc:
        problems.append(str(exc))
    if terms.vin is not None and not is_valid_vin(terms.vin):
        problems.append("vin must be 17 characters: digits and capitals except I, O, Q")
    if today is not None and terms.delivery_date < today:
        problems.append("delivery_date is in the past")
    return tuple(problems)


class ContractError(ValueError):
    """The contract cannot change this way; the message says why."""


@dataclass(frozen=True)
class ContractVersion:
    contract_id: UUID
    version: int  # 1 when signed, +1 for every amendment or the cancellation
    terms: ContractTerms
    status: ContractStatus
    effective_at: datetime


def changed_fields(old: ContractTerms, new: ContractTerms) -> dict[str, tuple[object, object]]:
    """Field name -> (old value, new value) for every term that differs."""
    return {
        f.name: (getattr(old, f.name), getattr(new, f.name))
        for f in fields(ContractTerms)
        if getattr(old, f.name) != getattr(new, f.name)
    }


def amend_contract(
    current: ContractVersion,
    new_terms: ContractTerms,
    *,
    customer_agreed: bool,
    dealer_agreed: bool,
    at: datetime,
) -> ContractVersion:
    """The next version with `new_terms`, if both sides agreed and something changed."""
    if current.status is not ContractStatus.ACTIVE:
        raise ContractError(f"a {current.status} contract cannot be amended")
    if not (customer_agreed and dealer_agreed):
        raise ContractError("an amendment needs the agreement of customer and dealer")
    if not changed_fields(current.terms, new_terms):
        raise ContractError("the amendment changes nothing")
    problems = validate_contract_terms(new_terms)
    if problems:
        raise ContractError("; ".join(problems))
    return ContractVersion(
        current.contract_id, current.version + 1, new_terms, ContractStatus.ACTIVE, at
    )


def cancel_contract(current: ContractVersion, at: datetime) -> ContractVersion:
    """The cancelled version (same terms, next version number)."""
    if current.status is not ContractStatus.ACTIVE:
        raise ContractError(f"a {current.status} contract cannot be cancelled")
    return replace(
        current, version=current.version + 1, status=ContractStatus.CANCELLED, effective_at=at
    )


class PaymentKind(StrEnum):
    """Contracts PaymentKind values, plus REFUND (money going back to the customer)."""

    DEPOSIT = "deposit"
    BALANCE = "balance"
    FULL = "full"
    LOAN_DISBURSEMENT = "loan_disbursement"
    REFUND = "refund"


_INCOMING = (
    PaymentKind.DEPOSIT,
    PaymentKind.BALANCE,
    PaymentKind.FULL,
    PaymentKind.LOAN_DISBURSEMENT,
)


@dataclass(frozen=True)
class LedgerEntry:
    kind: PaymentKind
    amount: Decimal  # always positive; the kind gives the direction
    at: datetime
    confirmed: bool = True  # finance has confirmed the money arrived (or left)
    reference: str = ""


class LedgerError(ValueError):
    """The payment cannot be recorded; the message says why."""


@dataclass(frozen=True)
class PaymentLedger:
    """Payments against one contract. Only finance-confirmed money counts as paid."""

    contract_price: Decimal
    entries: tuple[LedgerEntry, ...] = ()

    def record(self, entry: LedgerEntry) -> PaymentLedger:
        """The ledger with `entry` added; refunds may not exceed what was paid."""
        try:
            amount = to_money(entry.amount, "amount")
        except (TypeError, ValueError) as exc:
            raise LedgerError(str(exc)) from None
        if amount <= 0:
            raise LedgerError("amount must be positive")
        if entry.kind is PaymentKind.REFUND and amount > self.net_paid:
            raise LedgerError(f"refund {amount} exceeds the net paid {self.net_paid}")
        return replace(self, entries=(*self.entries, replace(entry, amount=amount)))

    def with_contract_price(self, price: MoneyInput) -> PaymentLedger:
        """The ledger after an amendment changed the price."""
        return replace(self, contract_price=non_negative(price, "contract_price"))

    def _sum(self, *kinds: PaymentKind, confirmed: bool = True) -> Decimal:
        kinds = kinds or _INCOMING
        return sum(
            (e.amount for e in self.entries if e.kind in kinds and e.confirmed == confirmed),
            start=ZERO,
        )

    @property
    def deposit_paid(self) -> Decimal:
        return self._sum(PaymentKind.DEPOSIT)

    @property
    def paid(self) -> Decimal:
        return self._sum()

    @property
    def refunded(self) -> Decimal:
        # Refunds count as soon as they are recorded: money promised back is not ours.
        return self._sum(PaymentKind.REFUND) + self._sum(PaymentKind.REFUND, confirmed=False)

    @property
    def awaiting_confirmation(self) -> Decimal:
        return self._sum(confirmed=False)

    @property
    def net_paid(self) -> Decimal:
        return self.paid - self.refunded

    @property
    def balance_due(self) -> Decimal:
        return max(self.contract_price - self.net_paid, ZERO)

    @property
    def overpaid(self) -> Decimal:
        return max(self.net_paid - self.contract_price, ZERO)

    @property
    def is_settled(self) -> bool:
        return self.balance_due == 0


def vat_included(gross: Decimal, vat_rate: Decimal) -> Decimal:
    """The VAT contained in a VAT-inclusive amount (what an invoice shows as tax)."""
    return round_money(gross - gross / (1 + vat_rate))


class CancelledBy(StrEnum):
    CUSTOMER = "customer"
    DEALER = "dealer"
    MUTUAL = "mutual"


@dataclass(frozen=True)
class CancellationPolicy:
    """What a dealer keeps when a contract is cancelled (DOMAIN.md default: nothing)."""

    # A deposit given as earnest money (定金) is forfeited when the customer walks away.
    forfeit_deposit_on_customer_cancellation: bool

    @classmethod
    def from_sales_policy(cls, sales: SalesPolicy) -> CancellationPolicy:
        """The dealer's setting (DealerPolicy.sales)."""
        return cls(sales.forfeit_deposit_on_customer_cancellation)


@dataclass(frozen=True)
class CancellationTerms:
    """How a contract was cancelled, kept for money confirmed after the cancellation."""

    cancelled_by: CancelledBy
    non_refundable_costs: Decimal
    policy: CancellationPolicy

    def refund_due(self, ledger: PaymentLedger) -> Decimal:
        """What is still to be paid back from ``ledger`` by the cancellation's rule: after a
        payment confirmed late, that payment (less the deposit the rule keeps, less the
        costs the first refund could not cover); 0 when nothing more is due."""
        return cancellation_refund(
            ledger, self.cancelled_by, self.policy, self.non_refundable_costs
        )


def cancellation_refund(
    ledger: PaymentLedger,
    cancelled_by: CancelledBy,
    policy: CancellationPolicy,
    non_refundable_costs: MoneyInput = ZERO,
) -> Decimal:
    """How much to refund when the contract is cancelled.

    Everything confirmed paid, minus: costs already spent on the customer's behalf and
    agreed non-refundable (e.g. an issued insurance policy), unless the dealer cancelled;
    and the deposit, when the customer cancels and the policy forfeits it. Never below 0.
    """
    costs = non_negative(non_refundable_costs, "non_refundable_costs")
    kept = ZERO
    if cancelled_by is not CancelledBy.DEALER:
        kept += costs
    if cancelled_by is CancelledBy.CUSTOMER and policy.forfeit_deposit_on_customer_cancellation:
        kept += ledger.deposit_paid
    return max(ledger.net_paid - kept, ZERO)
