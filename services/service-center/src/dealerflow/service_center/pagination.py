"""Keyset pagination: an opaque cursor naming the last row of the previous page.

Rows are listed newest first by (timestamp, id); the cursor is that pair of the last row
returned, base64url-encoded. Keyset paging stays fast however deep a client pages and
never skips or repeats a row when new rows arrive meanwhile (they sort before the cursor).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime

from dealerflow.runtime.problems import Problem, problem_type

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

Position = tuple[datetime, uuid.UUID]


def encode_cursor(position: Position) -> str:
    """The opaque cursor for a page that ended at ``position``."""
    at, row_id = position
    raw = json.dumps([at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Position | None:
    """The position a cursor names; a 422 problem when it was not made by us."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        position = (datetime.fromisoformat(at), uuid.UUID(row_id))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise Problem(
            422,
            "Invalid cursor",
            "cursor is not one this service returned",
            type=problem_type("invalid-cursor"),
        ) from exc
    if position[0].tzinfo is None:
        raise Problem(422, "Invalid cursor", "cursor is not one this service returned")
    return position
