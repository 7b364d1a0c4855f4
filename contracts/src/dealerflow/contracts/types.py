"""Value types shared by the event models: ids, money, VIN, phone, mileage, timestamps.

Every type here validates strictly enough that a consumer can trust it without re-checking,
and publishes a JSON Schema that says the same thing (pattern, units) to outside producers.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
)

__all__ = [
    "DealerId",
    "DecimalString",
    "EmailAddress",
    "EntityId",
    "Kilometres",
    "Money",
    "PhoneE164",
    "StaffId",
    "UtcDatetime",
    "Vin",
    "vin_check_digit_valid",
]


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware timestamp, normalised to UTC. Naive timestamps are rejected because a
dealer's local time would otherwise be silently read as UTC."""

EntityId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
"""An opaque identifier assigned by the system that owns the entity (ours or a DMS)."""

StaffId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
"""Identifier of a staff member (consultant, advisor, technician, manager) at the dealer."""

DEALER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
DealerId = Annotated[str, StringConstraints(pattern=DEALER_ID_PATTERN)]
"""Code of one store (a 4S store); it travels in a Kafka header, so no spaces."""

Kilometres = Annotated[int, Field(ge=0, le=5_000_000)]
"""A distance or odometer reading in whole kilometres."""

# --- decimals -------------------------------------------------------------------------

DECIMAL_PATTERN = r"^\d{1,15}(\.\d{1,4})?$"
_DECIMAL_RE = re.compile(DECIMAL_PATTERN)


def _parse_decimal(value: object) -> Decimal:
    # Floats are refused: 0.1 + 0.2 style rounding has no place in prices and taxes.
    if isinstance(value, bool | float):
        raise ValueError('must be a decimal string such as "1234.50", not a float')
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("must be a finite decimal")
        text = format(value, "f")
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ValueError('must be a decimal string such as "1234.50"')
    if not _DECIMAL_RE.fullmatch(text):
        raise ValueError(
            f"{text!r} is not a non-negative decimal string with at most 4 decimal places"
        )
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already excludes this
        raise ValueError(f"{text!r} is not a decimal") from exc


def _format_decimal(value: Decimal) -> str:
    return format(value, "f")


DecimalString = Annotated[
    Decimal,
    PlainValidator(_parse_decimal),
    PlainSerializer(_format_decimal, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN}),
]
"""A non-negative decimal carried as a JSON string (e.g. "179800.00"), never a float."""

CURRENCY_PATTERN = r"^[A-Z]{3}$"


class Money(BaseModel):
    """An amount of money: a non-negative decimal string plus its ISO 4217 currency."""

    model_config = ConfigDict(frozen=True)

    amount: DecimalString = Field(
        description='Non-negative amount as a decimal string, e.g. "179800.00" (no floats).'
    )
    currency: Annotated[str, StringConstraints(pattern=CURRENCY_PATTERN)] = Field(
        description='ISO 4217 currency code in upper case, e.g. "CNY".'
    )


# --- phone, e-mail --------------------------------------------------------------------

E164_PATTERN = r"^\+[1-9]\d{6,14}$"
_E164_RE = re.compile(E164_PATTERN)


def _check_e164(value: str) -> str:
    if not _E164_RE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an E.164 phone number (expected e.g. +8613800138000); "
            "normalise local formats with dealerflow.contracts.identity.normalize_phone"
        )
    return value


PhoneE164 = Annotated[
    str,
    AfterValidator(_check_e164),
    WithJsonSchema({"type": "string", "pattern": E164_PATTERN}),
]
"""A phone number in E.164 form: '+', country code, national number, no separators."""

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
EmailAddress = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=EMAIL_PATTERN)
]
"""An e-mail address (syntax check only; deliverability is the notifier's business)."""

# --- VIN ------------------------------------------------------------------------------

VIN_PATTERN = r"^[A-HJ-NPR-Z0-9]{17}$"
_VIN_RE = re.compile(VIN_PATTERN)


def _check_vin(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("VIN must be a string")
    vin = value.strip().upper()
    if len(vin) != 17:
        raise ValueError(f"VIN must be 17 characters, got {len(vin)}")
    bad = sorted(set(vin) & {"I", "O", "Q"})
    if bad:
        raise ValueError(f"VIN must not contain the letters I, O or Q (found {', '.join(bad)})")
    if not _VIN_RE.fullmatch(vin):
        raise ValueError("VIN may contain only digits and the letters A-Z except I, O, Q")
    return vin


Vin = Annotated[
    str,
    PlainValidator(_check_vin),
    WithJsonSchema({"type": "string", "pattern": VIN_PATTERN}),
]
"""A 17-character vehicle identification number (ISO 3779), upper-cased on input.

The check digit (position 9) is NOT enforced: it is mandatory in North America, but
Chinese (GB 16735) and European VINs do not always compute it. Use
`vin_check_digit_valid` where a check is wanted."""

_TRANSLITERATION = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit_valid(vin: str) -> bool:
    """Return True when position 9 of `vin` is the ISO 3779 / North American check digit.

    Informational only: contracts accept VINs whose check digit does not compute.
    """
    vin = vin.upper()
    if not _VIN_RE.fullmatch(vin):
        return False
    total = sum(_TRANSLITERATION[c] * w for c, w in zip(vin, _WEIGHTS, strict=True))
    remainder = total % 11
    expected = "X" if remainder == 10 else str(remainder)
    return vin[8] == expected
