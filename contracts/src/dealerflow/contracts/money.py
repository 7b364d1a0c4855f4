"""Money arithmetic: Decimal yuan with cents, rounded half up (the way invoices and tax
are rounded). Amounts travel in events as :class:`dealerflow.contracts.types.Money`; this
module is how every service reads, checks and rounds them (one home, no copies)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from dealerflow.contracts.types import Money

__all__ = ["CENT", "ZERO", "MoneyInput", "money", "non_negative", "round_money", "to_money"]

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

MoneyInput = Decimal | int | str


def to_money(value: MoneyInput, what: str = "amount") -> Decimal:
    """An exact amount in cents; floats are refused (binary fractions are not money).

    More than two decimals is refused too: silently rounding a price someone typed would
    hide a mistake. Use `round_money` for computed amounts.
    """
    if isinstance(value, float | bool):
        raise TypeError(f"{what} must be Decimal, int or str, not {type(value).__name__}")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{what} is not a number: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"{what} must be finite")
    if amount != amount.quantize(CENT):
        raise ValueError(f"{what} has more than two decimals: {value}")
    return amount.quantize(CENT)


def round_money(value: Decimal) -> Decimal:
    """Round a computed amount to cents, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def non_negative(value: MoneyInput, what: str) -> Decimal:
    """`to_money`, refusing amounts below zero."""
    amount = to_money(value, what)
    if amount < 0:
        raise ValueError(f"{what} must not be negative")
    return amount


def money(amount: Decimal, currency: str) -> Money:
    """The contract type of ``amount`` in ``currency``."""
    return Money(amount=amount, currency=currency)
