"""Which errors mean "a dependency is down", and the 503 a request gets for them.

While PostgreSQL (or Kafka) is unreachable a request cannot succeed, however often the
caller repeats it at once; it is not the request's fault and not a bug either. So the
HTTP app (:class:`dealerflow.runtime.http.RequestContextMiddleware`, the one place every
unhandled exception passes) answers such errors with **503** problem+json of type
``dependency-unavailable`` and a ``Retry-After`` header instead of the generic 500, and
logs one warning line instead of a stack trace.

:func:`unavailable_dependency` decides, looking at the exception, what caused it
(``__cause__`` / ``__context__``: asyncpg's "the underlying connection is closed" raised
while a transaction unwinds hides the real error there) and, for an exception group,
at every exception in it:

- asyncpg's connection errors (SQLSTATE class 08: ``ConnectionDoesNotExistError``, ...),
  operator intervention (57: ``AdminShutdownError`` after ``pg_terminate_backend``,
  ``CannotConnectNowError`` while the server starts or stops, ``QueryCanceledError``)
  and insufficient resources (53: too many connections, disk full);
- asyncpg's ``InterfaceError`` about a closed connection;
- ``OSError`` (refused or reset connections, DNS failures) and ``TimeoutError`` (a pool
  acquire or connect timeout) raised inside asyncpg -> ``postgres``, inside aiokafka ->
  ``kafka``; the same errors raised elsewhere (a file, a socket of the service's own)
  stay 500s;
- aiokafka's connection and timeout errors -> ``kafka``.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator

import asyncpg
from aiokafka import errors as kafka_errors

from dealerflow.runtime.problems import Problem, problem_type

__all__ = ["RETRY_AFTER_S", "unavailable_dependency", "unavailable_problem"]

#: What ``Retry-After`` says while a dependency is down: long enough not to hammer a
#: recovering database, short enough that a restart of it is barely noticed.
RETRY_AFTER_S = 5

_POSTGRES_DOWN: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
)
_KAFKA_DOWN: tuple[type[BaseException], ...] = (
    kafka_errors.KafkaConnectionError,
    kafka_errors.NoBrokersAvailable,
    kafka_errors.KafkaTimeoutError,
    kafka_errors.RequestTimedOutError,
    kafka_errors.NodeNotReadyError,
)
#: Packages whose OSError / TimeoutError means their server is unreachable.
_CLIENT_PACKAGES = {"asyncpg": "postgres", "aiokafka": "kafka"}
_DESCRIPTIONS = {"postgres": "The database", "kafka": "The event broker (Kafka)"}
_MAX_CHAIN = 16


def unavailable_dependency(exc: BaseException) -> str | None:
    """``"postgres"`` or ``"kafka"`` when ``exc`` means that dependency is unreachable
    (see the module docstring), else None."""
    if isinstance(exc, BaseExceptionGroup):
        found = [unavailable_dependency(inner) for inner in exc.exceptions]
        return found[0] if found and all(found) else None
    for link in _chain(exc):
        if (dependency := _direct(link)) is not None:
            return dependency
    return None


def unavailable_problem(dependency: str, retry_after_s: int = RETRY_AFTER_S) -> Problem:
    """The 503 answering a request that met ``dependency`` down."""
    what = _DESCRIPTIONS.get(dependency, f"A required service ({dependency})")
    return Problem(
        503,
        "Service unavailable",
        f"{what} is unavailable; retry after {retry_after_s} s.",
        type=problem_type("dependency-unavailable"),
        extensions={"dependency": dependency, "retry_after_s": retry_after_s},
        headers={"Retry-After": str(retry_after_s)},
    )


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen and len(seen) < _MAX_CHAIN:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def _direct(exc: BaseException) -> str | None:
    if isinstance(exc, _POSTGRES_DOWN):
        return "postgres"
    if isinstance(exc, asyncpg.InterfaceError) and "connection is closed" in str(exc):
        return "postgres"
    if isinstance(exc, _KAFKA_DOWN):
        return "kafka"
    if isinstance(exc, OSError):  # TimeoutError and ConnectionError are OSErrors
        return _raised_in_client(exc)
    return None


def _raised_in_client(exc: BaseException) -> str | None:
    """The dependency whose client library the traceback of ``exc`` passes through."""
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        module = str(frame.f_globals.get("__name__", ""))
        if (dependency := _CLIENT_PACKAGES.get(module.partition(".")[0])) is not None:
            return dependency
    return None
