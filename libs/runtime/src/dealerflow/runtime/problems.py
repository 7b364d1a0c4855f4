"""RFC 9457 problem details: the exception endpoints raise and the JSON body it becomes.

Use cases raise the service's *domain* exceptions; each service maps them to problems
once, in its ``ServiceDefinition.problems`` table (exception class -> :class:`ProblemSpec`),
which :func:`dealerflow.runtime.service.build_app` installs as exception handlers.
Endpoints may raise :class:`Problem` themselves for what only HTTP knows (a bad header).
The handlers installed by :func:`dealerflow.runtime.http.create_http_app` turn it (and
FastAPI's own ``HTTPException`` / ``RequestValidationError``) into
``application/problem+json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"
# RFC 9457 section 4.2.1: "about:blank" means "no further semantics than the status code".
ABOUT_BLANK = "about:blank"
# Problem type URIs of our own live under one documented base so clients can switch on them.
PROBLEM_TYPE_BASE = "https://dealerflow.dev/problems/"
# The members RFC 9457 defines; extensions must not reuse their names.
_MEMBERS = frozenset({"type", "title", "status", "detail", "instance"})


def problem_type(slug: str) -> str:
    """The type URI for one of our problem kinds, e.g. ``problem_type("lead-not-found")``."""
    return PROBLEM_TYPE_BASE + slug


def status_title(status: int) -> str:
    """The standard reason phrase for an HTTP status, used as a default title."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class Problem(Exception):
    """An RFC 9457 problem a service raises to answer a request with an error.

    ``type`` is a URI naming the kind of problem (``about:blank`` when the status says it
    all); ``title`` is a short, stable summary of that kind; ``detail`` explains this
    occurrence; ``extensions`` are extra members merged into the body (e.g. ``lead_id``).
    """

    def __init__(
        self,
        status: int,
        title: str | None = None,
        detail: str | None = None,
        *,
        type: str = ABOUT_BLANK,
        instance: str | None = None,
        extensions: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.title = title or status_title(status)
        self.detail = detail
        self.type = type
        self.instance = instance
        self.extensions = dict(extensions or {})
        if clash := sorted(_MEMBERS.intersection(self.extensions)):
            # an extension named like a member would silently lose to it in the body
            raise ValueError(f"problem extensions may not be named {', '.join(clash)}")
        self.headers = dict(headers or {})
        super().__init__(detail or self.title)

    def to_body(self, *, instance: str | None = None) -> dict[str, Any]:
        """The JSON body; ``instance`` defaults to the one given at construction."""
        body: dict[str, Any] = dict(self.extensions)
        body.update({"type": self.type, "title": self.title, "status": self.status})
        if self.detail is not None:
            body["detail"] = self.detail
        if (inst := self.instance or instance) is not None:
            body["instance"] = inst
        return body

    def __repr__(self) -> str:
        return f"Problem(status={self.status!r}, title={self.title!r}, detail={self.detail!r})"


def not_found(what: str, identifier: object) -> Problem:
    """A 404 problem for an entity that does not exist (or is not visible to the dealer)."""
    return Problem(
        404,
        f"{what} not found",
        f"No {what.lower()} with id {identifier}",
        type=problem_type("not-found"),
    )


def conflict(detail: str, *, slug: str = "conflict") -> Problem:
    """A 409 problem for a request that contradicts the current state."""
    return Problem(409, "Conflict", detail, type=problem_type(slug))


@dataclass(frozen=True)
class ProblemSpec:
    """How one domain exception class is answered over HTTP.

    The problem's ``detail`` is ``str(exc)``; its extensions are the exception's
    ``problem_extensions`` mapping when it has one (e.g. ``{"status": "closed"}``).
    """

    status: int
    slug: str
    title: str | None = None

    def problem(self, exc: BaseException) -> Problem:
        """The problem answering ``exc``."""
        extensions = getattr(exc, "problem_extensions", None)
        return Problem(
            self.status,
            self.title,
            str(exc) or None,
            type=problem_type(self.slug),
            extensions=dict(extensions) if isinstance(extensions, Mapping) else None,
        )


#: A service's domain exception -> problem table.
ProblemMap = Mapping[type[Exception], ProblemSpec]
