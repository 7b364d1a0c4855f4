"""Text PostgreSQL cannot store: U+0000 (NUL) and lone surrogates (U+D800..U+DFFF).

PostgreSQL refuses NUL in ``text`` and in ``jsonb`` strings (``\\u0000``), and a lone
surrogate cannot even be encoded as UTF-8 for it. A Kafka record carrying one is refused
(dead-lettered with the field named) before any handler runs: inserting it would fail
every retry, and a NUL in an event id or dealer id would fail the inbox claim of the
whole batch, over and over. :func:`first_unstorable` finds the first such character in
a decoded value; :func:`is_unstorable_error` recognises the errors PostgreSQL and
asyncpg raise when one slipped through (the consumers dead-letter those at once too).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import asyncpg

__all__ = [
    "first_unstorable",
    "is_unstorable_error",
    "may_hold_unstorable",
    "unstorable_reason",
]

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# In JSON text such a character is an escape (\u0000, \ud800..\udfff): a record without
# one cannot hold one (JSON strings refuse raw control characters; lone surrogates are
# not UTF-8), so only those with one are walked.
_JSON_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def may_hold_unstorable(raw: bytes | None) -> bool:
    """Whether the JSON text ``raw`` may hold an unstorable character (a quick test)."""
    return raw is not None and (b"\x00" in raw or _JSON_ESCAPE.search(raw) is not None)


def _describe(path: str, text: str) -> str:
    found = _UNSTORABLE.search(text)
    assert found is not None
    return f"{path or '<value>'}: U+{ord(found.group(0)):04X}"


def first_unstorable(value: Any, path: str = "") -> str | None:
    """``"<path>: U+XXXX"`` of the first string (or mapping key) in ``value`` holding a
    character PostgreSQL cannot store, else None. Dicts, lists and tuples are walked
    iteratively (any depth); other values are skipped."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return _describe(where, item)
        elif isinstance(item, Mapping):
            children = []
            for key, child in item.items():
                name = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and _UNSTORABLE.search(key):
                    return _describe(f"{where or '<value>'} key", key)
                children.append((name, child))
            stack.extend(reversed(children))
        elif isinstance(item, list | tuple):
            stack.extend(reversed([(f"{where}[{i}]", c) for i, c in enumerate(item)]))
    return None


def unstorable_reason(where: str) -> str:
    """The refusal of a record whose ``where`` (from :func:`first_unstorable`) is unstorable."""
    return f"{where} is a character PostgreSQL cannot store (NUL or a lone surrogate)"


def is_unstorable_error(exc: BaseException) -> bool:
    """Whether ``exc`` says a value held a character PostgreSQL cannot store: retrying
    the same value cannot help."""
    return isinstance(
        exc,
        asyncpg.exceptions.CharacterNotInRepertoireError
        | asyncpg.exceptions.UntranslatableCharacterError
        | UnicodeEncodeError,
    )
