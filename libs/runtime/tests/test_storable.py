"""Unit tests of finding text PostgreSQL cannot store (NUL, lone surrogates)."""

from __future__ import annotations

import asyncpg
import pytest

from dealerflow.runtime.dlq import mask_reason
from dealerflow.runtime.storable import (
    first_unstorable,
    is_unstorable_error,
    may_hold_unstorable,
    unstorable_reason,
)


def test_first_unstorable_names_the_field() -> None:
    assert (
        first_unstorable({"a": "ok", "b": {"c": ["x", "y\x00"]}}, "data") == "data.b.c[1]: U+0000"
    )
    assert first_unstorable({"note": "lead \ud800"}) == "note: U+D800"
    assert first_unstorable({"k\x00": 1}, "data") == "data key: U+0000"
    assert first_unstorable("plain\x00") == "<value>: U+0000"
    assert first_unstorable({"emoji": "😀", "n": 3, "none": None, "t": ("a",)}) is None


def test_first_unstorable_walks_any_depth_without_recursion() -> None:
    deep: object = "end\x00"
    for _ in range(50_000):
        deep = [deep]
    where = first_unstorable(deep)
    assert where is not None
    assert where.endswith("[0]: U+0000")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"a":"x\\u0000"}', True),
        (b'{"a":"\\uD800"}', True),
        (b'{"a":"\\udfff"}', True),
        (b"raw\x00", True),
        (b'{"a":"\\u00e9 \\ud7ff"}', False),
        (b'{"a":"plain"}', False),
        (None, False),
    ],
)
def test_may_hold_unstorable(raw: bytes | None, expected: bool) -> None:
    assert may_hold_unstorable(raw) is expected


def test_errors_no_retry_can_help() -> None:
    assert is_unstorable_error(asyncpg.exceptions.CharacterNotInRepertoireError("0x00"))
    assert is_unstorable_error(asyncpg.exceptions.UntranslatableCharacterError("\\u0000"))
    assert is_unstorable_error(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates"))
    assert not is_unstorable_error(asyncpg.exceptions.UniqueViolationError("dup"))
    assert not is_unstorable_error(ValueError("x"))


def test_reasons_show_the_characters_escaped() -> None:
    reason = mask_reason(f"{unstorable_reason('data.note: U+0000')} in 'a\x00b\ud800'")
    assert reason == (
        "data.note: U+0000 is a character PostgreSQL cannot store (NUL or a lone surrogate)"
        " in 'a\\u0000b\\ud800'"
    )
    reason.encode()  # a header value: it must encode
