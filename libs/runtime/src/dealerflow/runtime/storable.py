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
from dataclasses import dataclass
from typing import Any

import asyncpg

__all__ = [
    "Loc",
    "NestedTooDeep",
    "Unstorable",
    "find_unstorable",
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


#: Where a value holds an unstorable character: keys and list indexes from the root.
Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Unstorable:
    """Where (``loc``) a value holds a character PostgreSQL cannot store; ``in_key``: in
    the last key of ``loc`` itself (a mapping key), not in its value."""

    loc: Loc
    code_point: int
    in_key: bool = False


class NestedTooDeep(ValueError):
    """A value nested deeper than the ``max_depth`` given to :func:`find_unstorable`."""


def find_unstorable(
    value: Any, loc: Loc = (), *, max_depth: int | None = None
) -> Unstorable | None:
    """The first string (or mapping key) in ``value`` holding NUL or a lone surrogate, else
    None. Mappings, lists and tuples are walked iteratively (any depth; with
    ``max_depth``, deeper nesting raises :class:`NestedTooDeep`); other values are skipped."""
    stack: list[tuple[Loc, Any, int]] = [(loc, value, 0)]
    while stack:
        where, item, depth = stack.pop()
        if isinstance(item, str):
            if found := _UNSTORABLE.search(item):
                return Unstorable(where, ord(found.group(0)))
            continue
        if not isinstance(item, Mapping | list | tuple):
            continue
        if max_depth is not None and depth >= max_depth:
            raise NestedTooDeep(f"nested deeper than {max_depth} levels")
        children: list[tuple[str | int, Any]]
        if isinstance(item, Mapping):
            for key in item:
                if isinstance(key, str) and (found := _UNSTORABLE.search(key)):
                    return Unstorable((*where, key), ord(found.group(0)), in_key=True)
            children = list(item.items())
        else:
            children = list(enumerate(item))
        stack.extend(reversed([((*where, k), child, depth + 1) for k, child in children]))
    return None


def _path(prefix: str, loc: Loc) -> str:
    path = prefix
    for part in loc:
        path = (
            f"{path}[{part}]"
            if isinstance(part, int)
            else (f"{path}.{part}" if path else str(part))
        )
    return path


def first_unstorable(value: Any, path: str = "") -> str | None:
    """``"<path>: U+XXXX"`` of the first string (or mapping key) in ``value`` holding a
    character PostgreSQL cannot store, else None (see :func:`find_unstorable`)."""
    found = find_unstorable(value)
    if found is None:
        return None
    if found.in_key:
        return f"{_path(path, found.loc[:-1]) or '<value>'} key: U+{found.code_point:04X}"
    return f"{_path(path, found.loc) or '<value>'}: U+{found.code_point:04X}"


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
