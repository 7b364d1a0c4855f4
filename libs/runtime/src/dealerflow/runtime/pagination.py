"""Keyset pagination for list endpoints: ``?limit=&cursor=`` in, ``{items, next_cursor}`` out.

A list is ordered by a key that ends in a unique id (e.g. ``(signed_at, id)`` newest first);
the cursor is the key of the last row of the previous page, as an opaque base64url string
of a JSON array. Keyset paging stays fast however deep a client pages and never skips or
repeats a row when rows are added meanwhile. A list endpoint::

    @router.get("/contracts", response_model=Page[ContractSummary])
    async def list_contracts(dealer_id: str, cursor: Cursor = None, limit: Limit = 50):
        after = decode_cursor(cursor, datetime, uuid.UUID)   # None on the first page
        rows = await repo.list_contracts(conn, dealer_id, after=after, limit=limit + 1)
        rows, next_cursor = page_of(rows, limit, lambda r: (r["signed_at"], r["id"]))
        return Page[ContractSummary](items=[...], next_cursor=next_cursor)

The repository fetches ``limit + 1`` rows: the extra row only says that there is a next page.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from dealerflow.runtime.problems import Problem, problem_type

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Cursor",
    "CursorValue",
    "InvalidCursor",
    "Limit",
    "Page",
    "decode_cursor",
    "encode_cursor",
    "invalid_cursor",
    "page_of",
    "parse_cursor",
]

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

Limit = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description=f"Page size (default {DEFAULT_LIMIT}, max {MAX_LIMIT})."),
]
"""The ``limit`` query parameter: ``limit: Limit = DEFAULT_LIMIT``."""

Cursor = Annotated[str | None, Query(description="next_cursor of the previous page.")]
"""The ``cursor`` query parameter: ``cursor: Cursor = None``."""

CursorValue = int | str | datetime | uuid.UUID
"""What a sort key may be made of (datetimes must be timezone-aware)."""

T = TypeVar("T")
R = TypeVar("R")


class Page(BaseModel, Generic[T]):
    """One page of a list: its items and the cursor of the next page (None on the last)."""

    items: list[T]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null = end.")


class InvalidCursor(ValueError):
    """A cursor this service did not make (garbage, truncated, or of another list)."""

    def __init__(self) -> None:
        super().__init__("invalid cursor")


def encode_cursor(*key: CursorValue) -> str:
    """The opaque cursor of a page that ended at the row with sort key ``key``."""
    values = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    raw = json.dumps([str(v) if isinstance(v, uuid.UUID) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def parse_cursor(cursor: str, *kinds: type[CursorValue]) -> tuple[Any, ...]:
    """The sort key in ``cursor``, one value of each of ``kinds`` (``int``, ``str``,
    ``datetime``, ``uuid.UUID``); :class:`InvalidCursor` when it is not such a cursor."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(kinds):
            raise InvalidCursor
        return tuple(_value(kind, item) for kind, item in zip(kinds, raw, strict=True))
    except (ValueError, TypeError, binascii.Error) as exc:  # InvalidCursor is a ValueError
        raise InvalidCursor from exc


def _value(kind: type[CursorValue], item: object) -> CursorValue:
    if kind is int and isinstance(item, int) and not isinstance(item, bool):
        return item
    if isinstance(item, str):
        if kind is str:
            return item
        if kind is uuid.UUID:
            return uuid.UUID(item)
        if kind is datetime:
            at = datetime.fromisoformat(item)
            if at.tzinfo is not None:  # we only ever write aware times
                return at
    raise InvalidCursor


def invalid_cursor() -> Problem:
    """The ``invalid-cursor`` problem: 422 in every service (one status for one mistake)."""
    return Problem(
        422,
        "Invalid cursor",
        "pass next_cursor of a previous page unchanged",
        type=problem_type("invalid-cursor"),
    )


def decode_cursor(cursor: str | None, *kinds: type[CursorValue]) -> tuple[Any, ...] | None:
    """The sort key to continue after (None without a cursor: the first page); the
    :func:`invalid_cursor` problem (422) when it is not a cursor we made."""
    if not cursor:
        return None
    try:
        return parse_cursor(cursor, *kinds)
    except InvalidCursor as exc:
        raise invalid_cursor() from exc


def page_of(
    rows: Sequence[R], limit: int, key: Callable[[R], tuple[CursorValue, ...]]
) -> tuple[list[R], str | None]:
    """Split ``rows`` fetched with ``LIMIT limit + 1`` into the page and the next cursor
    (the ``key`` of the page's last row; None when no row was left over)."""
    page = list(rows[:limit])
    if len(rows) <= limit or not page:
        return page, None
    return page, encode_cursor(*key(page[-1]))
