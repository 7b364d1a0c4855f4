"""What every service's HTTP request models share: a body that refuses unknown fields,
and the field types staff type in the same way everywhere (a person's name, a phone in
any common format, a dealer group, an amount of money, a time that happened or is
planned). Service-specific fields stay in each ``schemas.py``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from dealerflow.contracts.types import (
    CURRENCY_PATTERN,
    DecimalString,
    LocalDate,
    Money,
    UtcDatetime,
)
from dealerflow.runtime.time_bounds import EVENT_TIME, PAST_TIME

__all__ = [
    "AMOUNT_PATTERN",
    "MAX_AMOUNT",
    "AmountIn",
    "DealerGroup",
    "HappenedAt",
    "MoneyIn",
    "PersonName",
    "PlannedAt",
    "PlannedOn",
    "RawPhone",
    "RequestBody",
    "money_of",
]


class RequestBody(BaseModel):
    """Base of request bodies: they are commands, so a misspelt field fails loudly (422)
    instead of being dropped."""

    model_config = ConfigDict(extra="forbid")


#: A person's name as staff typed it (trimmed, 1-100 characters).
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
#: A phone number in any common format; use cases normalise it to E.164.
RawPhone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=32)]
#: A dealer group (customer identity namespace): no ":" (see dealerflow.contracts.identity).
DealerGroup = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^:]+$")
]

# --- money ------------------------------------------------------------------------------

#: The largest amount a request may name: what the services' money columns hold
#: (``numeric(14, 2)``, twelve digits before the point).
MAX_AMOUNT = Decimal("999999999999.99")
#: What the published schema of :data:`AmountIn` says: at most 12 digits, 2 decimals.
AMOUNT_PATTERN = r"^\d{1,12}(\.\d{1,2})?$"


def _request_amount(amount: Decimal) -> Decimal:
    # DecimalString already refused floats, signs and more than 4 decimals.
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise PydanticCustomError(
            "amount_precision",
            "must have at most 2 decimal places (cents), not {places}",
            {"places": -exponent},
        )
    if amount > MAX_AMOUNT:
        raise PydanticCustomError("amount_too_large", f"must be at most {MAX_AMOUNT}")
    return amount


#: An amount of money in a request body (the currency is the request's or the dealer's):
#: a non-negative decimal string (never a float) of at most 2 decimal places and at most
#: :data:`MAX_AMOUNT` (a larger one is a 422, not a database overflow); serialised as the
#: contracts' amounts are ("179800.00").
AmountIn = Annotated[
    DecimalString,
    AfterValidator(_request_amount),
    WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN}),
]


class MoneyIn(BaseModel):
    """Money in a request body: :class:`~dealerflow.contracts.types.Money` with an
    :data:`AmountIn` amount, the same JSON (``{"amount": "179800.00", "currency":
    "CNY"}``); use cases and events get the contract type (:meth:`money`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: AmountIn = Field(
        description="Non-negative amount as a decimal string of at most 2 decimal places, "
        'e.g. "179800.00" (no floats), at most 999999999999.99.'
    )
    currency: Annotated[str, StringConstraints(pattern=CURRENCY_PATTERN)] = Field(
        description='ISO 4217 currency code in upper case, e.g. "CNY".'
    )

    def money(self) -> Money:
        """The contract type of this amount."""
        return Money(amount=self.amount, currency=self.currency)


def money_of(value: MoneyIn | None) -> Money | None:
    """The contract type of an optional request amount."""
    return None if value is None else value.money()


# --- times ------------------------------------------------------------------------------

#: A time something happened at, as staff or a gateway record it (contacted, arrived,
#: inspected, signed): not before 2000, not ahead of the service's clock by more than
#: ``request_max_clock_skew_s`` (see :mod:`dealerflow.runtime.time_bounds`).
HappenedAt = Annotated[UtcDatetime, PAST_TIME]
#: A time something is planned for (an appointment, a due date, a slot): not before
#: 2000, at most ``consumer_max_event_lead_s`` (5 years) ahead, as events' times.
PlannedAt = Annotated[UtcDatetime, EVENT_TIME]
#: A day something is planned for (a delivery day, a due day): :data:`PlannedAt`'s bound,
#: for a day (plausible when some moment of it, in some time zone, is).
PlannedOn = Annotated[LocalDate, EVENT_TIME]
