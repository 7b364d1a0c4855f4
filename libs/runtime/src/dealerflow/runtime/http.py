"""The FastAPI application factory every service uses.

``create_http_app`` gives a service ``/healthz`` (alive), ``/readyz`` (its readiness
checks, 503 with reasons when one fails), ``/metrics`` (Prometheus), RFC 9457 problem
details for every error, an ``X-Request-ID`` on every response (and in the logs), and
OpenTelemetry server spans. Services add their ``/v1`` routers.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.types import DecoratedCallable
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.trace import Status, StatusCode
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Lifespan, Message, Receive, Scope, Send

from dealerflow.runtime.auth import (
    UNDECLARED,
    AuthenticationFailed,
    DealerNotCovered,
    RoleNotAllowed,
    TokenVerifier,
    allowed_roles,
    guard,
    is_public,
)
from dealerflow.runtime.idempotency import KEY_REUSED_PROBLEM, IdempotencyKeyReused
from dealerflow.runtime.logging import mask_pii
from dealerflow.runtime.outages import RETRY_AFTER_S, unavailable_dependency, unavailable_problem
from dealerflow.runtime.problems import (
    PROBLEM_CONTENT_TYPE,
    Problem,
    ProblemMap,
    ProblemSpec,
    problem_type,
    status_title,
)
from dealerflow.runtime.request_values import check_request_values, nesting_too_deep
from dealerflow.runtime.time_bounds import use_request_clock
from dealerflow.runtime.web import install_security_headers, install_web_hygiene

if TYPE_CHECKING:
    from faststream.kafka import KafkaBroker
    from opentelemetry.trace import TracerProvider

    from dealerflow.runtime.clock import Clock
    from dealerflow.runtime.settings import ServiceSettings

REQUEST_ID_HEADER = "X-Request-ID"
# Accept a caller's id only if it is a short token; anything else could forge log lines.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_PROBE_PATHS = "healthz,readyz,metrics"
_PROBES = frozenset({"/healthz", "/readyz", "/metrics"})

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "dealerflow_request_id", default=None
)
_ACCESS_LOG = logging.getLogger("dealerflow.http")


def current_request_id() -> str | None:
    """The id of the HTTP request being served, if any."""
    return request_id_var.get()


def _install_log_record_factory() -> None:
    """Give every log record a ``request_id`` attribute while a request is served."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_dealerflow_request_id", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if (rid := request_id_var.get()) is not None and not hasattr(record, "request_id"):
            record.request_id = rid
        return record

    factory._dealerflow_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


@dataclass(frozen=True)
class ReadinessCheck:
    """A named readiness probe: ``check()`` raises (or returns False) when not ready."""

    name: str
    check: Callable[[], Awaitable[object]]
    timeout_s: float = 3.0

    async def run(self) -> str | None:
        """None when ready, else the reason."""
        try:
            async with asyncio.timeout(self.timeout_s):
                result = await self.check()
        except TimeoutError:
            return f"timed out after {self.timeout_s}s"
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"[:300]
        return "check returned False" if result is False else None


def postgres_check(pool: asyncpg.Pool, *, timeout_s: float = 3.0) -> ReadinessCheck:
    """Ready when a pooled connection answers ``select 1``."""

    async def check() -> None:
        async with pool.acquire(timeout=timeout_s) as conn:
            await conn.fetchval("select 1")

    return ReadinessCheck("postgres", check, timeout_s)


def kafka_check(
    bootstrap_servers: str, *, timeout_s: float = 3.0, **client_options: Any
) -> ReadinessCheck:
    """Ready when the Kafka cluster answers a metadata request (``client_options``: the
    security options of :func:`dealerflow.runtime.kafka_security.kafka_client_options`)."""
    from aiokafka.admin import AIOKafkaAdminClient

    async def check() -> None:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap_servers,
            request_timeout_ms=int(timeout_s * 1000),
            **client_options,
        )
        try:
            await admin.start()
            await admin.describe_cluster()
        finally:
            await admin.close()

    return ReadinessCheck("kafka", check, timeout_s)


def broker_check(broker: KafkaBroker, *, timeout_s: float = 3.0) -> ReadinessCheck:
    """Ready when a started FastStream broker's admin client reaches the cluster."""

    async def check() -> None:
        if not await broker.ping(timeout=timeout_s):
            raise RuntimeError(f"the cluster did not answer within {timeout_s}s")

    return ReadinessCheck("kafka", check, timeout_s + 0.5)


def problem_response(
    problem: Problem, request: Request | None = None, **extra_headers: str
) -> JSONResponse:
    """Render a :class:`Problem` as ``application/problem+json``."""
    body = problem.to_body(instance=request.url.path if request is not None else None)
    if (rid := request_id_var.get()) is not None:
        body.setdefault("request_id", rid)
    return JSONResponse(
        body,
        status_code=problem.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers={**problem.headers, **extra_headers},
    )


async def _problem_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(exc, request)


def _domain_handler(spec: ProblemSpec) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(request: Request, exc: Exception) -> Response:
        return problem_response(spec.problem(exc), request)

    return handle


async def _http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    title = status_title(exc.status_code)
    extensions: dict[str, Any] = {}
    detail: str | None = None
    if isinstance(exc.detail, str):
        detail = exc.detail if exc.detail != title else None
    elif exc.detail is not None:
        extensions["errors"] = exc.detail
    problem = Problem(exc.status_code, title, detail, extensions=extensions, headers=exc.headers)
    if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
        problem = nesting_too_deep()  # FastAPI's own body parsing gave up
    if exc.status_code in (204, 304):  # no body allowed
        return Response(status_code=exc.status_code, headers=exc.headers)
    return problem_response(problem, request)


async def _unauthenticated_handler(request: Request, exc: Exception) -> Response:
    # RFC 6750: no error code when the request had no token at all
    had_token = request.headers.get("authorization", "").lower().startswith("bearer ")
    challenge = 'Bearer realm="dealerflow"' + (', error="invalid_token"' if had_token else "")
    problem = Problem(
        401,
        "Unauthorized",
        str(exc),
        type=problem_type("unauthenticated"),
        headers={"WWW-Authenticate": challenge},
    )
    return problem_response(problem, request)


async def _forbidden_handler(request: Request, exc: Exception) -> Response:
    slug = "dealer-not-covered" if isinstance(exc, DealerNotCovered) else "role-not-allowed"
    return problem_response(Problem(403, "Forbidden", str(exc), type=problem_type(slug)), request)


_SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "An OAuth2/OIDC access token (RS256 or ES256) of the configured issuer, "
    "with the claims sub, roles, dealers (or dealer_group); see docs/security.md.",
}


def _document_security(app: FastAPI) -> None:
    """The OpenAPI of ``app`` declares the bearer scheme, and on every ``/v1`` operation
    its roles (``x-roles``), the security requirement and the 401/403 problems."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = (
            _SECURITY_SCHEME
        )
        roles_of = {
            (context.path, method.lower()): ()
            if is_public(context.original_route)
            else allowed_roles(context.route)
            or allowed_roles(context.original_route)
            or UNDECLARED.roles
            for context in iter_route_contexts(app.routes)
            if isinstance(context.original_route, APIRoute)
            and (context.path or "").startswith("/v1")
            for method in context.methods or ()
        }
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                roles = roles_of.get((path, method))
                if roles is None:
                    continue
                if not roles:  # public(): no token
                    operation["x-public"] = True
                    continue
                operation["security"] = [{"bearer": []}]
                operation["x-roles"] = [role.value for role in roles]
                responses = operation.setdefault("responses", {})
                responses.setdefault("401", problem_doc("No valid bearer token."))
                responses.setdefault(
                    "403",
                    problem_doc("The token lacks the role, or may not act for the dealer named."),
                )
        app.openapi_schema = document_problems(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


async def _request_clock(request: Request) -> None:
    # an app-wide dependency: solved before the endpoint's body is validated
    use_request_clock(request.app.state.clock, request.app.state.settings)


async def _validation_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Only where and what: the rejected input itself may hold personal data.
    errors = [
        {
            "loc": [str(part) for part in err.get("loc", ())],
            "msg": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in exc.errors()
    ]
    problem = Problem(
        422,
        "Request validation failed",
        f"{len(errors)} invalid field(s)",
        type=problem_type("validation-error"),
        extensions={"errors": errors},
    )
    return problem_response(problem, request)


class RequestContextMiddleware:
    """Pure-ASGI middleware: request id in/out, access log, and the last-resort 500.

    Unhandled exceptions become a generic problem+json 500 here (the details go to the
    log and the span, never to the client), so nothing is re-raised to the server; those
    that mean PostgreSQL or Kafka is unreachable become a 503 ``dependency-unavailable``
    with ``Retry-After`` (:mod:`dealerflow.runtime.outages`).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        rid = incoming if incoming and _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute("http.request.header.x_request_id", rid)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if span.is_recording():
                # not record_exception: its message and stack trace would carry whatever
                # the exception quotes (a phone number, an e-mail address) unmasked
                span.add_event(
                    "exception",
                    {
                        "exception.type": type(exc).__qualname__,
                        "exception.message": mask_pii(str(exc))[:500],
                    },
                )
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            dependency = unavailable_dependency(exc)
            if dependency is None:
                _ACCESS_LOG.exception("unhandled error in %s %s", scope["method"], scope["path"])
            else:  # an outage, not a bug: one line per request, no stack trace
                _ACCESS_LOG.warning(
                    "%s unavailable in %s %s: %s: %s",
                    dependency,
                    scope["method"],
                    scope["path"],
                    type(exc).__name__,
                    mask_pii(str(exc))[:300],
                    extra={"dependency": dependency},
                )
            if response_started:
                raise
            problem = (
                unavailable_problem(dependency)
                if dependency is not None
                else Problem(
                    500,
                    "Internal Server Error",
                    "An unexpected error occurred; quote the request id when reporting it.",
                )
            )
            response = problem_response(problem)
            await response(scope, receive, send_with_id)
        finally:
            # Probes hit every few seconds; keep them out of the INFO access log.
            level = logging.DEBUG if scope["path"] in _PROBES else logging.INFO
            _ACCESS_LOG.log(
                level,
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            request_id_var.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


#: OpenAPI response descriptions by status code (FastAPI's ``responses=``).
Responses = dict[int | str, dict[str, Any]]


#: The OpenAPI component every error response refers to: the body :func:`problem_response`
#: writes (RFC 9457 members, the request id, and the extensions problems carry).
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `type` names the kind of problem (see "
    "docs/services.md), extensions such as `errors` or a resource id may follow.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "description": "URI of the kind, or about:blank."},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "The request path."},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "What is wrong (422): each invalid field (where and what, never "
            "the input) or each broken rule.",
            "items": {"anyOf": [{"type": "object"}, {"type": "string"}]},
        },
    },
    "additionalProperties": True,
}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

#: What any operation may answer whatever its route documents: the request checks of
#: :func:`create_http_app` (422 invalid or unstorable input, 400 a body that is not JSON or
#: too deep, 413 too large), the token-less rate limit of :mod:`dealerflow.runtime.web`
#: (429) and the outages of :mod:`dealerflow.runtime.outages` (503).
COMMON_PROBLEMS: dict[str, str] = {
    "422": "Invalid request or broken business rule (errors listed)",
    "429": "Too many requests without a valid token from this address; retry after Retry-After",
    "503": "A dependency (database, Kafka) is unavailable; retry after Retry-After",
}
BODY_PROBLEMS: dict[str, str] = {
    "400": "The body is not JSON, or nested too deeply",
    "413": "The body is larger than the service accepts",
}


def problem_doc(description: str) -> dict[str, Any]:
    """The OpenAPI description of a problem response (``application/problem+json``)."""
    return {"description": description, "content": {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}}}


HTML_CONTENT_TYPE = "text/html"


def _is_page(responses: dict[str, Any]) -> bool:
    """True for an operation answering HTML pages (a link a customer opens)."""
    return any(
        HTML_CONTENT_TYPE in (response.get("content") or {})
        for status, response in responses.items()
        if status.startswith("2")
    )


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Make ``schema`` (an OpenAPI document) say what errors really are: every 4xx/5xx
    response is ``application/problem+json`` of the ``Problem`` component (FastAPI's
    ``application/json`` ``HTTPValidationError`` 422 included; a page route's refusals
    may be pages as well), and every operation
    documents :data:`COMMON_PROBLEMS` (and :data:`BODY_PROBLEMS` when it takes a body)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            common = {**COMMON_PROBLEMS, **(BODY_PROBLEMS if "requestBody" in operation else {})}
            for status, description in common.items():
                responses.setdefault(status, problem_doc(description))
            pages = _is_page(responses)
            for status, response in responses.items():
                if status[:1] in ("4", "5"):
                    content = response.setdefault("content", {})
                    content.pop("application/json", None)  # FastAPI's HTTPValidationError
                    if pages and not content:  # a page route answers its refusals as pages
                        content[HTML_CONTENT_TYPE] = {"schema": {"type": "string"}}
                    content[PROBLEM_CONTENT_TYPE] = {"schema": PROBLEM_REF}
                    if response.get("description") == "Validation Error":
                        response["description"] = COMMON_PROBLEMS["422"]
    # FastAPI's validation models, unless something still refers to them
    for unused in ("HTTPValidationError", "ValidationError"):
        others = {k: v for k, v in components.items() if k != unused}
        if f"#/components/schemas/{unused}'" not in repr((schema.get("paths"), others)):
            components.pop(unused, None)
    return schema


def step_routes(
    router: APIRouter,
    resource_path: str,
    *,
    response_model: Any,
    responses: Responses,
    **defaults: Any,
) -> Callable[..., Callable[[DecoratedCallable], DecoratedCallable]]:
    """The decorator of a resource's step endpoints: ``step("approve", summary)`` is
    ``POST <resource_path>/approve`` answered with ``response_model``, documenting the
    usual problem ``responses`` (a step's own ``responses=`` replace those of the same
    status); other keyword arguments go to ``router.post`` (e.g. ``status_code``)."""

    def step(
        name: str, summary: str, *, responses: Responses | None = None, **options: Any
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        return router.post(
            f"{resource_path}/{name}",
            response_model=response_model,
            responses={**usual, **(responses or {})},
            summary=summary,
            **{**defaults, **options},
        )

    usual = responses
    return step


def create_http_app(
    *,
    title: str,
    version: str,
    settings: ServiceSettings,
    readiness: Sequence[ReadinessCheck] = (),
    routers: Sequence[APIRouter] = (),
    lifespan: Lifespan[FastAPI] | None = None,
    tracer_provider: TracerProvider | None = None,
    registry: CollectorRegistry | None = None,
    problems: ProblemMap | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """Build a service's FastAPI app (nothing connects here; ``lifespan`` does that).

    ``readiness`` checks run concurrently on every ``/readyz``; the app answers 200
    ``{"status": "ready", "checks": {...}}`` or 503 problem+json listing the failing ones.
    ``registry`` (default: the process-wide one) is what ``/metrics`` serves.
    ``problems`` maps the service's domain exceptions to problem responses (a subclass
    is answered by the nearest mapped base class).
    ``clock`` (default: ``settings.clock()``) is what request times are checked against
    (:mod:`dealerflow.runtime.time_bounds`): the service's own clock.
    """
    _install_log_record_factory()
    app = FastAPI(
        title=title,
        version=version,
        lifespan=lifespan,
        dependencies=[Depends(guard), Depends(check_request_values), Depends(_request_clock)],
    )
    app.state.settings = settings
    app.state.clock = clock if clock is not None else settings.clock()
    metrics_registry = registry if registry is not None else REGISTRY
    checks = list(readiness)
    app.state.readiness = checks  # what /readyz runs (tests compare services by it)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "alive", "service": settings.service_name}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> Response:
        results = await asyncio.gather(*(c.run() for c in checks))
        report = {c.name: (reason or "ok") for c, reason in zip(checks, results, strict=True)}
        failing = sorted(name for name, state in report.items() if state != "ok")
        if failing:
            problem = Problem(
                503,
                "Service not ready",
                f"failing readiness checks: {', '.join(failing)}",
                type=problem_type("not-ready"),
                extensions={"checks": report},
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
            return problem_response(problem, request)
        return JSONResponse({"status": "ready", "checks": report})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(metrics_registry), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router)

    app.add_exception_handler(Problem, _problem_handler)
    # every service answers a reused Idempotency-Key the same way
    mapped: dict[type[Exception], ProblemSpec] = {IdempotencyKeyReused: KEY_REUSED_PROBLEM}
    mapped.update(problems or {})
    for exc_class, spec in mapped.items():
        app.add_exception_handler(exc_class, _domain_handler(spec))
    app.add_exception_handler(AuthenticationFailed, _unauthenticated_handler)
    app.add_exception_handler(RoleNotAllowed, _forbidden_handler)
    app.add_exception_handler(DealerNotCovered, _forbidden_handler)
    if settings.auth_jwks_url:
        app.state.token_verifier = TokenVerifier(
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            jwks_url=settings.auth_jwks_url,
            leeway_s=settings.auth_leeway_s,
        )
    _document_security(app)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    install_web_hygiene(app, settings)  # inside the request context: request ids on 413/429
    app.add_middleware(RequestContextMiddleware)
    install_security_headers(app, settings)  # outermost: on the generic 500 too
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=tracer_provider,
        excluded_urls=_PROBE_PATHS,
        # one server span per request; the instrumentation's internal span around each
        # ASGI message (2-3 a request) costs CPU on every request and says nothing the
        # server span does not
        exclude_spans=["receive", "send"],
    )
    return app
