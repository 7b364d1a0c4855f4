"""Money as Decimal yuan with cents, rounded half up (as on the repair invoice)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

MoneyInput = Decimal | int | str


def to_money(value: MoneyInput, what: str = "amount") -> Decimal:
    """An exact amount in cents; floats and more than two decimals are refused."""
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
    if amount < 0:
        raise ValueError(f"{what} must not be negative")
    return amount.quantize(CENT)


def round_money(value: Decimal) -> Decimal:
    """Round a computed amount to cents, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
