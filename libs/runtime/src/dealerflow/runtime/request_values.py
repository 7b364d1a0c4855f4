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
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from dealerflow.runtime.problems import Problem, problem_type

__all__ = [
    "MAX_JSON_DEPTH",
    "Unstorable",
    "check_request_values",
    "first_unstorable_value",
    "nesting_too_deep",
]

#: Deeper than any document the APIs take (an ADF-like vendor payload nests ~10).
MAX_JSON_DEPTH = 64
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# What JSON text needs to hold such a character: a raw NUL or an escape of one.
_JSON_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Unstorable:
    """Where (``loc``) a value holds a character PostgreSQL cannot store (``code_point``)."""

    loc: Loc
    code_point: int

    def error(self) -> dict[str, Any]:
        """The error in FastAPI's ``RequestValidationError`` shape."""
        return {
            "loc": self.loc,
            "msg": f"contains U+{self.code_point:04X}, a character that cannot be stored",
            "type": "unstorable_character",
        }


class _TooDeep(ValueError):
    pass


def nesting_too_deep(detail: str | None = None) -> Problem:
    """The 400 answering a JSON (or XML) document nested too deeply."""
    return Problem(
        400,
        "Document nested too deeply",
        detail or f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.",
        type=problem_type("nesting-too-deep"),
        extensions={"max_depth": MAX_JSON_DEPTH},
    )


def first_unstorable_value(
    value: Any, loc: Loc = (), *, max_depth: int | None = None
) -> Unstorable | None:
    """The first string (or object key) in ``value`` holding NUL or a lone surrogate;
    walks dicts and lists iteratively. With ``max_depth``, deeper nesting raises
    ``ValueError``."""
    stack: list[tuple[Loc, Any, int]] = [(loc, value, 0)]
    while stack:
        where, item, depth = stack.pop()
        if isinstance(item, str):
            if found := _UNSTORABLE.search(item):
                return Unstorable(where, ord(found.group(0)))
            continue
        if not isinstance(item, dict | list):
            continue
        if max_depth is not None and depth >= max_depth:
            raise _TooDeep
        children: Iterator[tuple[str | int, Any]]
        if isinstance(item, dict):
            for key in item:
                if isinstance(key, str) and (found := _UNSTORABLE.search(key)):
                    return Unstorable((*where, key), ord(found.group(0)))
            children = iter(item.items())
        else:
            children = enumerate(item)
        stack.extend(reversed([((*where, k), child, depth + 1) for k, child in children]))
    return None


async def check_request_values(request: Request) -> None:
    """App-wide dependency: 422 for an unstorable character anywhere in the request,
    400 for a JSON body nested too deeply (see the module docstring)."""
    errors = [
        found.error()
        for source, items in (
            ("path", request.path_params.items()),
            ("query", request.query_params.multi_items()),
        )
        for name, value in items
        if (found := first_unstorable_value(value, (source, name))) is not None
    ]
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if request.method in _BODY_METHODS and _has_body(request) and _is_text(media_type):
        found = _in_body(await request.body(), media_type)
        if found is not None:
            errors.append(found.error())
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
            found = first_unstorable_value(name, ("body",)) or first_unstorable_value(
                value, ("body", name)
            )
            if found is not None:
                return found
        return None
    if b"\x00" in raw and (media_type.startswith("text/") or media_type.endswith("xml")):
        return Unstorable(("body",), 0)
    return None


def _in_json(raw: bytes) -> Unstorable | None:
    could_be_deep = raw.count(b"{") + raw.count(b"[") > MAX_JSON_DEPTH
    could_hold = b"\x00" in raw or _JSON_ESCAPE.search(raw) is not None
    if not (could_be_deep or could_hold):
        return None
    try:
        data = json.loads(raw)
    except RecursionError:
        raise nesting_too_deep() from None
    except ValueError:
        return None  # not JSON: the endpoint's own parsing answers
    try:
        return first_unstorable_value(
            data, ("body",), max_depth=MAX_JSON_DEPTH if could_be_deep else None
        )
    except _TooDeep:
        raise nesting_too_deep() from None
