"""Request values PostgreSQL cannot store, and JSON nested too deeply: refused up front.

PostgreSQL refuses U+0000 (NUL) in ``text`` and in ``jsonb`` strings, and a lone
surrogate (U+D800..U+DFFF, which JSON can spell as ``\\ud800``) cannot even be encoded
as UTF-8 for it: stored, either is a 500 after the work is done. Every service's HTTP
app (:func:`dealerflow.runtime.http.create_http_app`) runs :func:`check_request_values`
as an app-wide dependency, before the endpoint, on what a request carries: path and
query parameters, a JSON body (``application/json``, ``+json``, or an untyped body that
starts like JSON), a form body (``application/x-www-form-urlencoded``), and any other
text body (NUL only). A value holding one is answered 422 ``validation-error`` with the
field's location (``["body", "customer", "name"]``), as pydantic's own errors are; the
value itself is not echoed.

A JSON body nested deeper than :data:`MAX_JSON_DEPTH` levels (or so deep the parser's
recursion guard gives up) is answered 400 ``nesting-too-deep`` with the reason, instead
of whatever recursion would do to the endpoint. The walk is iterative, and a body with
fewer brackets than the limit is never walked for depth.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from dealerflow.runtime.problems import Problem, problem_type
from dealerflow.runtime.storable import (
    NestedTooDeep,
    Unstorable,
    find_unstorable,
    may_hold_unstorable,
)

__all__ = [
    "MAX_JSON_DEPTH",
    "check_request_values",
    "nesting_too_deep",
]

#: Deeper than any document the APIs take (an ADF-like vendor payload nests ~10).
MAX_JSON_DEPTH = 64
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _error(found: Unstorable) -> dict[str, Any]:
    """An unstorable value as an error in FastAPI's ``RequestValidationError`` shape."""
    return {
        "loc": found.loc,
        "msg": f"contains U+{found.code_point:04X}, a character that cannot be stored",
        "type": "unstorable_character",
    }


def nesting_too_deep(detail: str | None = None) -> Problem:
    """The 400 answering a JSON (or XML) document nested too deeply."""
    return Problem(
        400,
        "Document nested too deeply",
        detail or f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.",
        type=problem_type("nesting-too-deep"),
        extensions={"max_depth": MAX_JSON_DEPTH},
    )


async def check_request_values(request: Request) -> None:
    """App-wide dependency: 422 for an unstorable character anywhere in the request,
    400 for a JSON body nested too deeply (see the module docstring)."""
    errors = [
        _error(found)
        for source, items in (
            ("path", request.path_params.items()),
            ("query", request.query_params.multi_items()),
        )
        for name, value in items
        if (found := find_unstorable(value, (source, name))) is not None
    ]
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if request.method in _BODY_METHODS and _has_body(request) and _is_text(media_type):
        found = _in_body(await request.body(), media_type)
        if found is not None:
            errors.append(_error(found))
    if errors:
        raise RequestValidationError(errors)


def _has_body(request: Request) -> bool:
    return (
        request.headers.get("content-length", "0") not in ("", "0")
        or "transfer-encoding" in request.headers
    )


def _is_text(media_type: str) -> bool:
    """Whether a body of ``media_type`` is text the check reads (binary is left alone,
    and unread: an endpoint that ignores or streams it still may)."""
    return (
        media_type in ("", "application/json", "application/x-www-form-urlencoded")
        or media_type.startswith("text/")
        or media_type.endswith(("+json", "xml"))
    )


def _in_body(raw: bytes, media_type: str) -> Unstorable | None:
    if media_type in ("application/json", "text/json") or media_type.endswith("+json"):
        return _in_json(raw)
    if media_type in ("", "text/plain") and raw.lstrip()[:1] in (b"{", b"["):
        return _in_json(raw)  # sniffed, as the leads' submission route does
    if media_type == "application/x-www-form-urlencoded":
        text = raw.decode("utf-8", errors="replace")
        for name, value in parse_qsl(text, keep_blank_values=True):
            found = find_unstorable(name, ("body",)) or find_unstorable(value, ("body", name))
            if found is not None:
                return found
        return None
    if b"\x00" in raw and (media_type.startswith("text/") or media_type.endswith("xml")):
        return Unstorable(("body",), 0)
    return None


def _in_json(raw: bytes) -> Unstorable | None:
    could_be_deep = raw.count(b"{") + raw.count(b"[") > MAX_JSON_DEPTH
    could_hold = may_hold_unstorable(raw)
    if not (could_be_deep or could_hold):
        return None
    try:
        data = json.loads(raw)
    except RecursionError:
        raise nesting_too_deep() from None
    except ValueError:
        return None  # not JSON: the endpoint's own parsing answers
    try:
        return find_unstorable(data, ("body",), max_depth=MAX_JSON_DEPTH if could_be_deep else None)
    except NestedTooDeep:
        raise nesting_too_deep() from None
