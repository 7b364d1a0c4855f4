"""What every service's HTTP request models share: a body that refuses unknown fields,
and the field types staff type in the same way everywhere (a person's name, a phone in
any common format, a dealer group). Service-specific fields stay in each ``schemas.py``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator

from dealerflow.contracts.types import Money

__all__ = ["MAX_AMOUNT", "DealerGroup", "MoneyIn", "PersonName", "RawPhone", "RequestBody"]


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

#: The largest amount a request may name: what the services' money columns hold
#: (``numeric(14, 2)``, twelve digits before the point).
MAX_AMOUNT = Decimal("999999999999.99")


class MoneyIn(Money):
    """Money in a request body: :class:`~dealerflow.contracts.types.Money` of at most
    :data:`MAX_AMOUNT` (a larger amount is a 422, not a database overflow; schemathesis
    found one answered 500)."""

    @field_validator("amount")
    @classmethod
    def _storable(cls, amount: Decimal) -> Decimal:
        if amount > MAX_AMOUNT:
            raise ValueError(f"must be at most {MAX_AMOUNT}")
        return amount
