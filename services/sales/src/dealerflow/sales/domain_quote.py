"""The transparent quote (DOMAIN.md 2): price, discount, purchase tax, fees, loan.

Purchase tax in China is 10% of the price excluding 13% VAT: price / 1.13 x 10%, rounded
to cents half up, computed on the transaction price (after discount) because that is what
the invoice shows. New-energy vehicles get the relief the dealer's setting describes (a
full exemption, a halving, a cap per vehicle). Rates, relief, the discount-approval
threshold and who approves are the dealer's settings (`SalesPolicy`, the dealer's people),
always passed in: there are no defaults here to fall back on by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dealerflow.contracts.money import ZERO, MoneyInput, non_negative, round_money, to_money
from dealerflow.policy import DealerPeople, SalesPolicy, StaffRole, placeholder_assignee


@dataclass(frozen=True)
class PurchaseTaxPolicy:
    """Purchase-tax setting of a dealer (national rules, but they change by year)."""

    rate: Decimal
    vat_rate: Decimal
    # Share of the tax waived for a new-energy vehicle: 1 = exempt, 0.5 = halved, 0 = none.
    nev_relief_ratio: Decimal
    # Most that may be waived per vehicle (None = no cap).
    nev_relief_cap: Decimal | None

    @classmethod
    def from_sales_policy(cls, sales: SalesPolicy) -> PurchaseTaxPolicy:
        """The dealer's setting (DealerPolicy.sales): exempt flag, relief ratio and cap."""
        return cls(
            rate=sales.purchase_tax_rate,
            vat_rate=sales.vat_rate,
            nev_relief_ratio=sales.nev_relief_ratio
            if sales.nev_purchase_tax_exempt
            else Decimal(0),
            nev_relief_cap=sales.nev_exemption_cap,
        )


class QuoteError(ValueError):
    """The quote request is inconsistent (negative amounts, discount above price, ...)."""


def purchase_tax(taxable_price: MoneyInput, is_nev: bool, policy: PurchaseTaxPolicy) -> Decimal:
    """Purchase tax on a VAT-inclusive transaction price.

    price / (1 + VAT) x rate, rounded once to cents half up; for a new-energy vehicle the
    waived part (ratio, then cap) is rounded the same way and taken off.
    """
    price = non_negative(taxable_price, "taxable_price")
    full_tax = round_money(price / (1 + policy.vat_rate) * policy.rate)
    if not is_nev:
        return full_tax
    relief = round_money(full_tax * policy.nev_relief_ratio)
    if policy.nev_relief_cap is not None:
        relief = min(relief, policy.nev_relief_cap)
    return full_tax - relief


def discount_needs_approval(
    vehicle_price: MoneyInput, discount: MoneyInput, threshold_rate: Decimal
) -> bool:
    """True when the discount is beyond `threshold_rate` (0.05 = 5%) of the vehicle price.

    Exactly at the threshold is within policy (no approval needed).
    """
    price = non_negative(vehicle_price, "vehicle_price")
    amount = non_negative(discount, "discount")
    return amount > price * threshold_rate


def discount_approver(people: DealerPeople, sales: SalesPolicy, dealer_id: str, on: date) -> str:
    """Staff id asked to approve a discount beyond the threshold on ``on`` (dealer-local):
    whoever holds the dealer's ``discount_approver_role`` that day (replacements of people
    away applied); when the dealer lists nobody in that role, the documented placeholder
    ``"<role-with-dashes>:<dealer_id>"`` (``sales-manager:D001``, ``gm:D001``)."""
    role = StaffRole(sales.discount_approver_role)
    return people.holder_of(role, on) or placeholder_assignee(role.value, dealer_id)


def monthly_instalment(principal: MoneyInput, annual_rate: Decimal, term_months: int) -> Decimal:
    """Equal monthly instalment of an annuity loan, rounded to cents half up.

    P x r x (1 + r)^n / ((1 + r)^n - 1) with r = annual_rate / 12; at 0% simply P / n.
    `annual_rate` is a fraction (0.0399 for 3.99%).
    """
    amount = non_negative(principal, "principal")
    if term_months < 1:
        raise QuoteError("term_months must be at least 1")
    if not Decimal(0) <= annual_rate < 1:
        raise QuoteError("annual_rate is a fraction between 0 and 1 (0.0399 for 3.99%)")
    if amount == 0:
        return ZERO
    if annual_rate == 0:
        return round_money(amount / term_months)
    r = annual_rate / 12
    growth = (1 + r) ** term_months
    return round_money(amount * r * growth / (growth - 1))


@dataclass(frozen=True)
class AccessoryLine:
    name: str
    unit_price: Decimal
    quantity: int = 1


@dataclass(frozen=True)
class LoanRequest:
    down_payment: Decimal
    term_months: int
    annual_rate: Decimal  # fraction: 0.0399 for 3.99%


@dataclass(frozen=True)
class QuoteRequest:
    vehicle_price: Decimal  # VAT-inclusive price of the vehicle before discount
    discount: Decimal = ZERO
    is_nev: bool = False
    insurance: Decimal = ZERO
    registration_fee: Decimal = ZERO
    accessories: tuple[AccessoryLine, ...] = ()
    extended_warranty: Decimal = ZERO
    loan: LoanRequest | None = None  # None = full payment


@dataclass(frozen=True)
class LoanPlan:
    principal: Decimal  # transaction price minus down payment
    down_payment: Decimal
    term_months: int
    annual_rate: Decimal
    monthly_instalment: Decimal  # every month but the last
    final_instalment: Decimal  # the last month: settles the cents lost to rounding
    total_repayment: Decimal
    total_interest: Decimal


@dataclass(frozen=True)
class Quote:
    vehicle_price: Decimal
    discount: Decimal
    transaction_price: Decimal  # vehicle price minus discount
    purchase_tax: Decimal
    insurance: Decimal
    registration_fee: Decimal
    accessories_total: Decimal
    extended_warranty: Decimal
    total: Decimal  # everything the customer pays us, before loan interest
    due_upfront: Decimal  # total minus the financed principal
    discount_approval_required: bool
    loan: LoanPlan | None


def compute_quote(request: QuoteRequest, sales: SalesPolicy) -> Quote:
    """Every line of the quote, the total, and the loan plan if one was asked for, under
    the dealer's purchase-tax rule and discount threshold (``sales``: `DealerPolicy.sales`).

    The loan finances the vehicle only (transaction price minus down payment); tax,
    insurance, fees, accessories and warranty are paid up front, as lenders here do.
    Raises QuoteError for an inconsistent request.
    """
    try:
        price = non_negative(request.vehicle_price, "vehicle_price")
        discount = non_negative(request.discount, "discount")
        insurance = non_negative(request.insurance, "insurance")
        registration_fee = non_negative(request.registration_fee, "registration_fee")
        warranty = non_negative(request.extended_warranty, "extended_warranty")
        accessories_total = sum(
            (_accessory_amount(line) for line in request.accessories), start=ZERO
        )
    except (TypeError, ValueError) as exc:
        raise QuoteError(str(exc)) from None
    if price == 0:
        raise QuoteError("vehicle_price must be positive")
    if discount > price:
        raise QuoteError("discount exceeds the vehicle price")
    transaction_price = price - discount
    tax = purchase_tax(
        transaction_price, request.is_nev, PurchaseTaxPolicy.from_sales_policy(sales)
    )
    total = transaction_price + tax + insurance + registration_fee + accessories_total + warranty
    loan = _loan_plan(request.loan, transaction_price) if request.loan else None
    return Quote(
        vehicle_price=price,
        discount=discount,
        transaction_price=transaction_price,
        purchase_tax=tax,
        insurance=insurance,
        registration_fee=registration_fee,
        accessories_total=accessories_total,
        extended_warranty=warranty,
        total=total,
        due_upfront=total - (loan.principal if loan else ZERO),
        discount_approval_required=discount_needs_approval(
            price, discount, sales.discount_approval_threshold_rate
        ),
        loan=loan,
    )


def _accessory_amount(line: AccessoryLine) -> Decimal:
    if line.quantity < 1:
        raise ValueError(f"accessory {line.name!r}: quantity must be at least 1")
    return non_negative(line.unit_price, f"accessory {line.name!r} price") * line.quantity


def _loan_plan(loan: LoanRequest, transaction_price: Decimal) -> LoanPlan:
    try:
        down_payment = to_money(loan.down_payment, "down_payment")
    except (TypeError, ValueError) as exc:
        raise QuoteError(str(exc)) from None
    if not ZERO <= down_payment < transaction_price:
        raise QuoteError("down_payment must be at least 0 and below the transaction price")
    principal = transaction_price - down_payment
    instalment = monthly_instalment(principal, loan.annual_rate, loan.term_months)
    final = final_instalment(principal, loan.annual_rate, loan.term_months, instalment)
    total_repayment = instalment * (loan.term_months - 1) + final
    return LoanPlan(
        principal=principal,
        down_payment=down_payment,
        term_months=loan.term_months,
        annual_rate=loan.annual_rate,
        monthly_instalment=instalment,
        final_instalment=final,
        total_repayment=total_repayment,
        total_interest=total_repayment - principal,
    )


def final_instalment(
    principal: Decimal, annual_rate: Decimal, term_months: int, instalment: Decimal
) -> Decimal:
    """The last instalment, which absorbs the cents lost to rounding the others.

    Walks the schedule month by month with interest rounded to cents, as a lender's
    statement does, and settles the remaining balance plus its interest at the end.
    """
    r = annual_rate / 12
    balance = principal
    for _ in range(term_months - 1):
        balance -= instalment - round_money(balance * r)
    return balance + round_money(balance * r)
