"""The harness: the six services started natively the way the e2e tests start them
(:func:`dealerflow.devinfra.services.running_stack`), on the test infrastructure, in a
run of their own (topic prefix ``chaos<run>.dealerflow.``, schema prefix ``chaos<run>_``),
with the accelerated clock; faults as methods (kill -9 and restart of a service).

Every process the harness starts is stopped when it ends, on failure too (SIGTERM and
SIGINT included), and its topics and schemas are deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import asyncpg

from dealerflow.contracts.topics import TopicRegistry
from dealerflow.devinfra.config import app_dsn
from dealerflow.devinfra.issuer import DevIssuer
from dealerflow.devinfra.proc import run_coroutine
from dealerflow.devinfra.pytest_plugin import delete_topics_with_prefixes
from dealerflow.devinfra.services import (
    DEV_CHANNEL_ENV,
    SERVICES,
    ProcessHandle,
    StackConfig,
    restart_services,
    running_stack,
)

#: The test profile's development issuer: the services trust it, the load uses it.
ISSUER = DevIssuer.for_profile("test")

#: The services' settings that set the purge's retentions (days of their clock).
RETENTION_SETTINGS = (
    "DEALERFLOW_PURGE_INBOX_DAYS",
    "DEALERFLOW_PURGE_IDEMPOTENCY_DAYS",
    "DEALERFLOW_PURGE_TIMERS_DAYS",
)

#: 1 real second = 2 hours of schedule (as the e2e tests): a 24 h callback falls due
#: 12 s after the delivery.
DEFAULT_CLOCK_SPEED = 7200.0


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class Fault:
    """One fault the harness applied, for the scenario's log."""

    at_s: float
    what: str
    target: str
    recovered_s: float | None = None


@dataclass
class Harness:
    """A running stack of the six services and the faults applied to it."""

    config: StackConfig
    topics: TopicRegistry
    log_dir: Path
    clock_start: datetime
    clock_speed: float
    handles: dict[str, ProcessHandle]
    started: float = field(default_factory=time.monotonic)
    faults: list[Fault] = field(default_factory=list)

    @property
    def kafka_bootstrap(self) -> str:
        return self.config.kafka_bootstrap

    @property
    def urls(self) -> dict[str, str]:
        return {s.name: self.config.url(s) for s in SERVICES}

    @property
    def service_names(self) -> list[str]:
        return [s.name for s in SERVICES]

    def token(self) -> str:
        """A token the load sends (every dealer, every role)."""
        return ISSUER.token(sub="chaos-load", roles=["admin"], dealers=["*"])

    def now(self) -> datetime:
        """The services' (accelerated) clock, computed the way they compute it."""
        real = datetime.now(UTC)
        return self.clock_start + (real - self.clock_start) * self.clock_speed

    def real_seconds(self, service_seconds: float) -> float:
        """Wall seconds of ``service_seconds`` of the services' clock."""
        return service_seconds / self.clock_speed

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    # -- faults --------------------------------------------------------------------------

    async def kill9(self, name: str, *, down_s: float = 0.0) -> Fault:
        """SIGKILL the service ``name`` (its HTTP server, consumers, outbox relay and timer
        poller all run in that one process), leave it down ``down_s``, start it again and
        wait until every service is ready."""
        fault = Fault(self.elapsed(), "kill -9", name)
        self.faults.append(fault)
        handle = self.handles[name]
        with contextlib.suppress(ProcessLookupError):
            os.kill(handle.pid, signal.SIGKILL)
        if handle.popen is not None:
            await asyncio.to_thread(handle.popen.wait, 10)
        if down_s:
            await asyncio.sleep(down_s)
        await asyncio.to_thread(
            restart_services, self.config, self.handles, [name], timeout_s=120, progress=_quiet
        )
        fault.recovered_s = self.elapsed() - fault.at_s
        return fault

    def all_running(self) -> bool:
        return all(h.running() for h in self.handles.values())

    def logs(self, lines: int = 30) -> str:
        """The tail of every service log (printed when a scenario fails)."""
        return "\n".join(
            f"----- {name} -----\n{handle.log_tail(lines)}" for name, handle in self.handles.items()
        )


def _quiet(message: str) -> None:
    if os.environ.get("CHAOS_VERBOSE"):
        print(f"  [stack] {message}", flush=True)


def infra_from_environment() -> tuple[str, str]:
    """(Kafka bootstrap, PostgreSQL owner DSN) of the test infrastructure, as
    ``dealerflow-infra env --profile test`` exports them."""
    kafka = os.environ.get("DEALERFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    owner = os.environ.get("DEALERFLOW_PG_MIGRATION_DSN") or os.environ.get(
        "DEALERFLOW_PG_DSN", "postgresql://postgres@127.0.0.1:15432/dealerflow"
    )
    return kafka, owner


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """SIGTERM (and SIGHUP) raise SystemExit in the main thread, so the ``finally``
    blocks that stop the services run when the harness itself is told to stop."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


async def _drop_run(kafka: str, owner_dsn: str, topic_prefix: str, schema_prefix: str) -> None:
    await delete_topics_with_prefixes(kafka, [topic_prefix])
    conn = await asyncpg.connect(owner_dsn)
    try:
        schemas = await conn.fetch(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)", schema_prefix
        )
        for row in schemas:
            await conn.execute(f'DROP SCHEMA "{row["nspname"]}" CASCADE')
    finally:
        await conn.close()


@contextlib.contextmanager
def running_harness(
    *,
    kafka_bootstrap: str | None = None,
    pg_dsn: str | None = None,
    clock_speed: float = DEFAULT_CLOCK_SPEED,
    log_dir: Path | None = None,
    keep: bool = False,
    service_env: Mapping[str, str] | None = None,
) -> Iterator[Harness]:
    """Start the stack of one chaos run for the ``with`` block; stop it and delete its
    topics and schemas afterwards (``keep``: leave the data, e.g. to inspect it;
    ``service_env``: settings of the services over the harness's, e.g. retentions)."""
    from dealerflow.runtime.kafka_admin import create_catalogue_topics

    default_kafka, default_pg = infra_from_environment()
    kafka = kafka_bootstrap or default_kafka
    owner = pg_dsn or default_pg
    run = uuid.uuid4().hex[:8]
    prefix = f"chaos{run}.dealerflow."
    schema_prefix = f"chaos{run}_"
    logs = log_dir or Path(tempfile.mkdtemp(prefix=f"chaos-{run}-"))
    live: dict[str, ProcessHandle] = {}
    with _terminate_as_exit():
        try:
            run_coroutine(lambda: create_catalogue_topics(kafka, prefix, partitions=3))
            clock_start = datetime.now(UTC).replace(microsecond=0)
            names = [s.name for s in SERVICES]
            config = StackConfig(
                kafka_bootstrap=kafka,
                pg_dsn=owner,
                pg_app_dsn=app_dsn(owner),  # the services run as the non-owner role: RLS
                topic_prefix=prefix,
                schema_prefix=schema_prefix,
                ports=dict(zip(names, _free_ports(len(names)), strict=True)),
                clock_speed=clock_speed,
                clock_start=clock_start.isoformat(),
                auth_env=ISSUER.environment(),
                extra_env={
                    "DEALERFLOW_TIMER_POLL_INTERVAL_S": "0.2",
                    "DEALERFLOW_RELAY_POLL_INTERVAL_S": "0.2",
                    # the purge's retentions pass in minutes of the accelerated clock
                    "DEALERFLOW_PURGE_INTERVAL_S": "10",
                    "DEALERFLOW_CONSUMER_BATCH_TIMEOUT_MS": "50",
                    "DEALERFLOW_LOG_LEVEL": "INFO",
                    **DEV_CHANNEL_ENV,
                    **(service_env or {}),
                },
            )
            with running_stack(config, logs, timeout_s=180, progress=_quiet) as handles:
                live = handles
                yield Harness(
                    config=config,
                    topics=TopicRegistry(prefix),
                    log_dir=logs,
                    clock_start=clock_start,
                    clock_speed=clock_speed,
                    handles=handles,
                )
        finally:
            # a restart still under way in a helper thread when the run was stopped may
            # have started a process after running_stack stopped the others
            time.sleep(0.5)
            for handle in live.values():
                if handle.running():
                    handle.stop(timeout_s=10, progress=_quiet)
            if not keep:
                with contextlib.suppress(Exception):
                    run_coroutine(lambda: _drop_run(kafka, owner, prefix, schema_prefix))
