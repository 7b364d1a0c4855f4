"""What ``/readyz`` checks, the same in every service.

:func:`service_readiness` is the one list :func:`dealerflow.runtime.service.build_app`
gives :func:`dealerflow.runtime.http.create_http_app`, so "ready" means the same for
leads, sales, service-center, complaints, notifier and dealers:

- ``postgres``: a connection from the service's pool answers ``select 1``;
- ``kafka``: the cluster answers a metadata request (the consumers' broker connection,
  or a client of its own when the service consumes nothing). Every service with its
  background running needs Kafka: its outbox relay publishes there, even a service that
  consumes nothing;
- ``outbox-relay`` and ``timer-poller``: the background task is running (one that ended
  or crashed would leave events unpublished and timers unfired while the API looks
  healthy).

An HTTP-only instance (``run_background=False``: OpenAPI generation, API tests) checks
``postgres`` only: it publishes nothing itself. Any failing check makes ``/readyz`` a
503 problem (``not-ready``, ``Retry-After``) naming it, with every check's state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from dealerflow.runtime.http import ReadinessCheck, broker_check, kafka_check, postgres_check

if TYPE_CHECKING:
    import asyncpg
    from faststream.kafka import KafkaBroker

__all__ = ["BACKGROUND_TASKS", "service_readiness", "task_check"]

#: The background tasks every service runs beside its consumers (names of the checks).
BACKGROUND_TASKS = ("outbox-relay", "timer-poller")


def task_check(name: str, tasks: Mapping[str, asyncio.Task[Any]]) -> ReadinessCheck:
    """Ready while ``tasks[name]`` runs (not yet started counts as not ready)."""

    async def check() -> None:
        task = tasks.get(name)
        if task is None:
            raise RuntimeError("not started")
        if task.done():
            failure = None if task.cancelled() else task.exception()
            raise RuntimeError(
                "stopped" if failure is None else f"crashed: {type(failure).__name__}"
            )

    return ReadinessCheck(name, check)


def service_readiness(
    pool: Callable[[], asyncpg.Pool],
    *,
    background: bool,
    broker: KafkaBroker | None = None,
    kafka_bootstrap: str = "",
    kafka_options: Mapping[str, Any] | None = None,
    tasks: Mapping[str, asyncio.Task[Any]] | None = None,
) -> list[ReadinessCheck]:
    """The readiness checks of a service (see the module docstring). ``pool`` gives the
    service's pool when a check runs (it opens in the lifespan); ``broker`` is the
    consumers' broker when the service has consumers; ``tasks`` (filled by the lifespan)
    holds the :data:`BACKGROUND_TASKS` by name."""
    checks = [ReadinessCheck("postgres", lambda: postgres_check(pool()).check())]
    if not background:
        return checks
    if broker is not None:
        checks.append(broker_check(broker))
    else:
        checks.append(kafka_check(kafka_bootstrap, **dict(kafka_options or {})))
    running = tasks if tasks is not None else {}
    checks.extend(task_check(name, running) for name in BACKGROUND_TASKS)
    return checks
