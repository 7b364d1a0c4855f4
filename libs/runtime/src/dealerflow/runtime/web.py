"""Web-facing hygiene of every service's HTTP app: body size, CORS, headers, rate limits.

:func:`dealerflow.runtime.http.create_http_app` installs all of it, so the six services
get the same behaviour from their settings:

- **Body size** (``http_max_body_bytes``): a larger request is answered 413
  problem+json (``payload-too-large``), by its ``Content-Length`` before the endpoint
  runs, and by counting the chunks of a streamed (chunked) body as the endpoint reads
  them, so a body is never held in memory beyond the limit. Starlette's own
  ``RequestBodyLimitMiddleware`` answers plain text on some paths; ours answers the same
  problem document every other error has. The server must not read the rest either:
  uvicorn drains an unread request body to reach the next request on a kept-alive
  connection, which for a 100 MB upload means reading 100 MB after the 413. So the 413,
  and any answer that starts while a streamed body is still arriving, say
  ``Connection: close``: uvicorn closes the connection after the response and reads no
  more (at most the limit plus the socket buffers ever arrive).
- **CORS** is off unless ``http_cors_origins`` names origins (the staff console);
  Starlette's ``CORSMiddleware`` then allows exactly those, with the methods and headers
  the API uses. Tokens travel in ``Authorization``, not cookies, so no credentials mode.
- **Security headers** on every response (including the generic 500): ``nosniff``,
  no framing, no referrer, ``no-store`` caching and a ``default-src 'none'`` policy:
  the API only answers JSON. FastAPI's ``/docs`` and ``/redoc`` pages load Swagger UI /
  ReDoc from a CDN and start them with an inline script, so those pages (only) get a
  policy that allows exactly that. HSTS is sent only when ``http_behind_tls`` says a
  TLS terminator is in front. These are seven fixed headers, so they are written here
  rather than taken from a package (``secure`` would add a dependency for no behaviour).
- **Rate limits** on what answers without a token (``/healthz``, ``/readyz``,
  ``/metrics``, the docs and ``/openapi.json``, and every response that ends in 401):
  ``http_rate_limit_unauthenticated`` per client address and endpoint (all 401s of an
  address share one budget), in memory with the ``limits`` moving window. Over the
  limit: 429 problem+json with ``Retry-After``. A rejected 401 is replaced, so callers
  that present valid tokens from the same address are never limited. The address is the
  ASGI scope's client, which uvicorn takes from ``X-Forwarded-For`` only when the peer
  is in ``FORWARDED_ALLOW_IPS`` (its default: loopback). Loopback clients themselves
  (probes run inside the container, the dev stack's readiness polling) are not limited.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dealerflow.runtime.problems import PROBLEM_CONTENT_TYPE, Problem, problem_type

if TYPE_CHECKING:
    from fastapi import FastAPI

    from dealerflow.runtime.settings import ServiceSettings

__all__ = [
    "API_CSP",
    "CORS_ALLOW_HEADERS",
    "CORS_ALLOW_METHODS",
    "CORS_EXPOSE_HEADERS",
    "DOCS_CSP",
    "BodySizeLimitMiddleware",
    "SecurityHeadersMiddleware",
    "UnauthenticatedRateLimitMiddleware",
    "install_security_headers",
    "install_web_hygiene",
]

CORS_ALLOW_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CORS_ALLOW_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "X-Request-ID",
)
CORS_EXPOSE_HEADERS = ("ETag", "Location", "Retry-After", "X-Request-ID")

#: JSON responses load nothing and may not be framed.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
#: What FastAPI's Swagger UI and ReDoc pages need: bundles and CSS from jsDelivr, an
#: inline start-up script, inline styles, Google Fonts (ReDoc), a blob: worker (ReDoc's
#: search), images from data: and https (logos, the validator badge), the spec from here.
DOCS_CSP = (
    "default-src 'none'; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; "
    "img-src 'self' data: https:; "
    "connect-src 'self'; "
    "worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HSTS = "max-age=31536000"

_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
_PROBE_PATHS = ("/healthz", "/readyz", "/metrics")


def _path(scope: Scope) -> str:
    """The path within the app (without a ``root_path`` prefix)."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _problem_response(scope: Scope, problem: Problem) -> JSONResponse:
    # The request-context middleware (outside these) put the request id in the scope.
    body = problem.to_body(instance=_path(scope))
    if (rid := scope.get("state", {}).get("request_id")) is not None:
        body.setdefault("request_id", rid)
    return JSONResponse(
        body, status_code=problem.status, media_type=PROBLEM_CONTENT_TYPE, headers=problem.headers
    )


class _BodyTooLarge(Exception):
    """Raised from ``receive`` when a streamed body passes the limit."""


class BodySizeLimitMiddleware:
    """413 problem+json for a request body larger than ``max_bytes``.

    A declared ``Content-Length`` over the limit is refused before the app runs. Streamed
    bodies are counted chunk by chunk as the app reads them; past the limit ``receive``
    raises, and whatever the app answers then (FastAPI turns a failed body read into a
    400) is replaced by the 413. The 413, and an answer the app starts before a streamed
    body has arrived completely (an endpoint that ignores its body), close the
    connection (``Connection: close``), so the server stops reading the body.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _problem(self) -> Problem:
        return Problem(
            413,
            "Payload too large",
            f"The request body exceeds the limit of {self.max_bytes} bytes.",
            type=problem_type("payload-too-large"),
            extensions={"max_body_bytes": self.max_bytes},
            headers={"Connection": "close"},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _problem_response(scope, self._problem())(scope, receive, send)
            return
        received = 0
        exceeded = False
        replaced = False
        # a declared length (within the limit) is all the server drains; a streamed body
        # has no end the server knows of until it has arrived
        body_pending = declared is None and _header_present(scope, b"transfer-encoding")

        async def counting_receive() -> Message:
            nonlocal received, exceeded, body_pending
            if exceeded:
                raise _BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise _BodyTooLarge
                if not message.get("more_body", False):
                    body_pending = False
            elif message["type"] == "http.disconnect":
                body_pending = False
            return message

        async def replacing_send(message: Message) -> None:
            nonlocal replaced
            if not exceeded:
                if message["type"] == "http.response.start" and body_pending:
                    message = {**message, "headers": [*message.get("headers", ()), _CLOSE]}
                await send(message)
            elif message["type"] == "http.response.start" and not replaced:
                replaced = True
                await _problem_response(scope, self._problem())(scope, receive, send)
            # the app's own answer to the failed read is dropped

        try:
            await self.app(scope, counting_receive, replacing_send)
        except _BodyTooLarge:
            if replaced:
                return
            replaced = True
            await _problem_response(scope, self._problem())(scope, receive, send)


_CLOSE = (b"connection", b"close")


def _header_present(scope: Scope, name: bytes) -> bool:
    return any(key.lower() == name for key, _ in scope.get("headers", ()))


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class UnauthenticatedRateLimitMiddleware:
    """429 problem+json with ``Retry-After`` for token-less traffic over ``limit``.

    Requests to ``open_paths`` spend from a budget per client address and path before
    they run; any response that is a 401 spends from the address's 401 budget and is
    replaced by the 429 when that budget is spent.
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: RateLimitItem,
        open_paths: Iterable[str],
    ) -> None:
        self.app = app
        self.limit = limit
        self.open_paths = frozenset(open_paths)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def _refusal(self, scope: Scope, *keys: str) -> JSONResponse:
        stats = await self.limiter.get_window_stats(self.limit, *keys)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        problem = Problem(
            429,
            "Too many requests",
            f"More than {self.limit} unauthenticated requests from this address; "
            f"retry after {retry_after} s.",
            type=problem_type("rate-limited"),
            headers={"Retry-After": str(retry_after)},
        )
        return _problem_response(scope, problem)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        if address in _LOOPBACK:
            await self.app(scope, receive, send)
            return
        path = _path(scope)
        if path in self.open_paths:
            if not await self.limiter.hit(self.limit, "path", path, address):
                await (await self._refusal(scope, "path", path, address))(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        refused = False

        async def limiting_send(message: Message) -> None:
            nonlocal refused
            if refused:
                return  # the 401's body: replaced
            if (
                message["type"] == "http.response.start"
                and message["status"] == 401
                and not await self.limiter.hit(self.limit, "unauthorized", address)
            ):
                refused = True
                response = await self._refusal(scope, "unauthorized", address)
                await response(scope, receive, send)
                return
            await send(message)

        await self.app(scope, receive, limiting_send)


class SecurityHeadersMiddleware:
    """Security headers on every response; ``docs_paths`` get the docs pages' policy.

    A header the app set itself is kept (an endpoint may know better).
    """

    def __init__(
        self, app: ASGIApp, *, docs_paths: Iterable[str] = (), behind_tls: bool = False
    ) -> None:
        self.app = app
        self.docs_paths = frozenset(docs_paths)
        common: dict[bytes, bytes] = {
            b"x-content-type-options": b"nosniff",
            b"x-frame-options": b"DENY",
            b"referrer-policy": b"no-referrer",
        }
        if behind_tls:
            common[b"strict-transport-security"] = HSTS.encode()
        self.api_headers = {
            **common,
            b"content-security-policy": API_CSP.encode(),
            b"cache-control": b"no-store",
        }
        self.docs_headers = {**common, b"content-security-policy": DOCS_CSP.encode()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = self.docs_headers if _path(scope) in self.docs_paths else self.api_headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {key.lower() for key, _ in headers}
                headers.extend((k, v) for k, v in wanted.items() if k not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _docs_paths(app: FastAPI) -> list[str]:
    return [p for p in (app.docs_url, app.swagger_ui_oauth2_redirect_url, app.redoc_url) if p]


def install_web_hygiene(app: FastAPI, settings: ServiceSettings) -> None:
    """Add CORS (when origins are set), the rate limits and the body size limit.

    Call it before the request-context middleware is added, so that these run inside it
    (their problems carry the request id and show in the access log).
    """
    middleware: list[tuple[Any, dict[str, Any]]] = [
        (BodySizeLimitMiddleware, {"max_bytes": settings.http_max_body_bytes})
    ]
    if settings.http_rate_limit_unauthenticated:
        open_paths = [*_PROBE_PATHS, *_docs_paths(app)]
        if app.openapi_url:
            open_paths.append(app.openapi_url)
        limit = parse(settings.http_rate_limit_unauthenticated)
        middleware.append(
            (UnauthenticatedRateLimitMiddleware, {"limit": limit, "open_paths": open_paths})
        )
    if settings.http_cors_origins:
        middleware.append(
            (
                CORSMiddleware,
                {
                    "allow_origins": list(settings.http_cors_origins),
                    "allow_methods": list(CORS_ALLOW_METHODS),
                    "allow_headers": list(CORS_ALLOW_HEADERS),
                    "expose_headers": list(CORS_EXPOSE_HEADERS),
                    "max_age": 600,
                },
            )
        )
    for cls, options in middleware:  # each added one wraps the ones before it
        app.add_middleware(cls, **options)


def install_security_headers(app: FastAPI, settings: ServiceSettings) -> None:
    """Add the security headers; call it last, so the generic 500 carries them too."""
    app.add_middleware(
        SecurityHeadersMiddleware,
        docs_paths=_docs_paths(app),
        behind_tls=settings.http_behind_tls,
    )
