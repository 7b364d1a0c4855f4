"""The patterns the shared types publish mean what their validators do: the whitespace
class is what pydantic trims, the date patterns are the calendar, and a timestamp that
cannot be represented in UTC is refused instead of crashing the consumer."""

from __future__ import annotations

import calendar
import re
import uuid

import pytest
from pydantic import TypeAdapter, ValidationError

from dealerflow.contracts.events.complaints import ComplaintReopened
from dealerflow.contracts.tools.schemas import MAX_SAFE_INTEGER, event_schema
from dealerflow.contracts.types import (
    DATE_PATTERN,
    DATETIME_PATTERN,
    EMAIL_PATTERN,
    NON_BLANK_PATTERN,
    UUID_PATTERN,
    WHITESPACE_CLASS,
    CustomerId,
    EmailAddress,
    EntityId,
    LocalDate,
    UtcDatetime,
)

_WHITESPACE_RE = re.compile(f"[{WHITESPACE_CLASS}]")


def _refused(adapter: TypeAdapter[object], value: object) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return True
    return False


def test_the_whitespace_class_is_exactly_what_pydantic_trims() -> None:
    every_char = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    in_class = {c for c in every_char if _WHITESPACE_RE.fullmatch(c)}
    assert all(c.isspace() for c in in_class)
    # str.isspace() is a superset of Unicode White_Space (it adds e.g. U+001C..U+001F);
    # add the look-alikes ECMA 262 or Unicode treat differently
    candidates = {c for c in every_char if c.isspace()} | {"\ufeff", "\u200b", "\u180e", "\x00"}
    entity_id = TypeAdapter(EntityId)
    trimmed_away = {c for c in candidates if _refused(entity_id, c)}
    assert trimmed_away == in_class
    assert {"\x85", "\xa0", "\u3000"} <= in_class
    assert not {"\ufeff", "\x1c", "\u200b"} & in_class


def test_non_blank_pattern_matches_exactly_what_trimming_keeps() -> None:
    entity_id = TypeAdapter(EntityId)
    for text in (" ", "\t\u3000\n", "\x85", " a ", "\ufeff", "\x1c", "x", "\u00a0b"):
        assert bool(re.search(NON_BLANK_PATTERN, text)) == (not _refused(entity_id, text)), text


def test_email_pattern_means_the_same_to_python_and_pydantic() -> None:
    email = TypeAdapter(EmailAddress)
    for char in {"\x85", "\xa0", "\u3000", "\u2028", "\ufeff", "\x1c", "\u200b", "é"}:
        text = f"zhang{char}wei@example.cn"
        assert bool(re.fullmatch(EMAIL_PATTERN, text)) == (not _refused(email, text)), repr(char)


def _valid(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year or 4, month)[1] and year > 0


@pytest.mark.parametrize(
    "year", [0, 1, 2, 4, 100, 400, 1900, 1996, 2000, 2023, 2024, 2100, 2400, 9996, 9998, 9999]
)
def test_date_patterns_are_the_calendar(year: int) -> None:
    local_date, timestamp = TypeAdapter(LocalDate), TypeAdapter(UtcDatetime)
    for month in range(0, 14):
        for day in range(0, 33):
            text = f"{year:04d}-{month:02d}-{day:02d}"
            valid = _valid(year, month, day)
            assert bool(re.fullmatch(DATE_PATTERN, text)) == valid, text
            assert _refused(local_date, text) == (not valid), text
            moment = f"{text}T12:00:00+08:00"
            in_range = valid and 2 <= year <= 9998
            assert bool(re.fullmatch(DATETIME_PATTERN, moment)) == in_range, moment
            if in_range:
                assert not _refused(timestamp, moment), moment


@pytest.mark.parametrize(
    ("text", "published"),
    [
        ("2024-05-01T09:30:00Z", True),
        ("2024-05-01t09:30:00z", True),
        ("2024-05-01T09:30:00.123456789+08:00", True),
        ("2024-05-01T23:59:59-23:59", True),
        ("2024-05-01T09:30:00-00:00", True),
        ("2024-05-01T09:30:00", False),  # naive: the decoder refuses it
        ("2024-05-01T24:00:00Z", False),
        ("2024-05-01T09:60:00Z", False),
        ("2024-05-01T09:30:60Z", False),  # leap second: the decoder refuses it
        ("2024-05-01T09:30:00+24:00", False),
        ("2024-05-01T09:30:00.Z", False),
        # tolerated by the decoder, outside RFC 3339 and so outside the contract:
        ("2024-05-01 09:30:00Z", False),
        ("2024-05-01T09:30Z", False),
        ("2024-05-01T09:30:00+0800", False),
    ],
)
def test_the_timestamp_pattern_needs_rfc_3339_with_an_offset(text: str, published: bool) -> None:
    assert bool(re.fullmatch(DATETIME_PATTERN, text)) == published
    if published:
        assert not _refused(TypeAdapter(UtcDatetime), text)


@pytest.mark.parametrize("text", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"])
def test_a_timestamp_without_a_utc_year_is_refused_not_a_crash(text: str) -> None:
    with pytest.raises(ValidationError, match="out of range once converted to UTC"):
        TypeAdapter(UtcDatetime).validate_python(text)


def test_customer_ids_publish_the_hyphenated_form() -> None:
    adapter = TypeAdapter(CustomerId)
    for text in (
        str(uuid.uuid4()),
        str(uuid.uuid4()).upper(),
        "00000000-0000-0000-0000-000000000000",
    ):
        assert re.fullmatch(UUID_PATTERN, text)
        assert adapter.validate_python(text) == uuid.UUID(text)
    assert adapter.json_schema() == {"type": "string", "format": "uuid", "pattern": UUID_PATTERN}


def test_integers_without_an_upper_bound_publish_the_safe_range() -> None:
    schema = event_schema(ComplaintReopened)["properties"]["reopen_count"]
    assert (schema["minimum"], schema["maximum"]) == (1, MAX_SAFE_INTEGER)
