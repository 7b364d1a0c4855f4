"""Value types shared by the event models: ids, money, VIN, phone, mileage, timestamps.

Every type here validates strictly enough that a consumer can trust it without re-checking,
and publishes a JSON Schema that says the same thing (pattern, units) to outside producers:
a value the published schema accepts is accepted by the decoder. Patterns are read as
ECMA 262 (what JSON Schema specifies) but validated here by Python `re` or pydantic's Rust
engine: character classes are spelled out where the dialects differ in a way that would
make the schema the looser one (whitespace), and `\\d` (ASCII digits in ECMA 262, any
decimal digit in Python and Rust) only ever makes the schema the stricter one.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

__all__ = [
    "CustomerId",
    "DealerId",
    "DecimalString",
    "EmailAddress",
    "EntityId",
    "Kilometres",
    "LocalDate",
    "Money",
    "PhoneE164",
    "StaffId",
    "Trimmed",
    "UtcDatetime",
    "Vin",
    "vin_check_digit_valid",
]


# --- trimmed text ---------------------------------------------------------------------

WHITESPACE_CLASS = r"\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
"""The characters pydantic strips (Unicode White_Space, what Rust's `str::trim` removes),
as the inside of a regex character class. ECMA 262 `\\s` differs (it has U+FEFF, not
U+0085), so schemas spell the set out."""

NON_BLANK_PATTERN = f"[^{WHITESPACE_CLASS}]"
"""Matches text with at least one character that trimming keeps."""


@dataclass(frozen=True)
class Trimmed:
    """`Annotated[str, Trimmed(max_length=...)]`: text trimmed on input that must not be blank.

    Validates like `StringConstraints(strip_whitespace=True, min_length=1, max_length=...)`
    and publishes `minLength`, `maxLength` and `pattern: NON_BLANK_PATTERN`, because a
    schema cannot trim: without the pattern "   " would be valid there and refused here.
    (`maxLength` counts before trimming, so the schema is the stricter of the two.)
    """

    max_length: int

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.str_schema(
            strip_whitespace=True, min_length=1, max_length=self.max_length
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = NON_BLANK_PATTERN
        return json_schema


EntityId = Annotated[str, Trimmed(max_length=128)]
"""An opaque identifier assigned by the system that owns the entity (ours or a DMS)."""

StaffId = Annotated[str, Trimmed(max_length=64)]
"""Identifier of a staff member (consultant, advisor, technician, manager) at the dealer."""

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
CustomerId = Annotated[
    uuid.UUID,
    WithJsonSchema({"type": "string", "format": "uuid", "pattern": UUID_PATTERN}),
]
"""A customer identity (see dealerflow.contracts.identity): a UUID in its hyphenated form.
The decoder also reads 32 hex digits without hyphens; the schema names the canonical form."""

# --- dates and timestamps -------------------------------------------------------------
#
# `format` is only an annotation in JSON Schema 2020-12 unless a validator opts in, so the
# calendar rules (days per month, 29 February in leap years only), the required UTC offset
# and the year range are patterns too. A day of 28 or less is valid in every month, 29-30
# in every month but February, 31 in the long months; 29 February needs a leap year.

_MONTH_DAY = (
    "(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    "|(?:0[13-9]|1[0-2])-(?:29|30)"
    "|(?:0[13578]|1[02])-31)"
)
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_YEAR_0001_9999 = "(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
# 0001 and 9999 are left out of timestamps: with an offset, their first/last hours leave
# the range of years once converted to UTC.
_YEAR_0002_9998 = (
    "(?:000[2-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"
)


def _date_pattern(year: str) -> str:
    return f"(?:{year}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"


_TIME = r"[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?"
_OFFSET = "(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"

DATE_PATTERN = f"^{_date_pattern(_YEAR_0001_9999)}$"
"""A calendar date YYYY-MM-DD (RFC 3339 full-date)."""

DATETIME_PATTERN = f"^{_date_pattern(_YEAR_0002_9998)}{_TIME}{_OFFSET}$"
"""An RFC 3339 date-time with seconds and a UTC offset (`Z` or `+08:00`), years 0002-9998."""


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # a refusal, not a crash of the consumer (0001-01-01T00:00+08:00 has no UTC year)
        raise ValueError("timestamp is out of range once converted to UTC") from None


UtcDatetime = Annotated[
    AwareDatetime,
    AfterValidator(_to_utc),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": DATETIME_PATTERN}),
]
"""A timezone-aware timestamp, normalised to UTC. Naive timestamps are rejected because a
dealer's local time would otherwise be silently read as UTC."""

LocalDate = Annotated[
    date, WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN})
]
"""A calendar date at the dealer (no time, no zone), e.g. an agreed delivery day."""

# --- dealer ---------------------------------------------------------------------------

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

_EMAIL_PART = f"[^@{WHITESPACE_CLASS}]+"
EMAIL_PATTERN = rf"^{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}$"
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
