"""The harness: the six services started natively the way the e2e tests start them
(:func:`dealerflow.devinfra.services.running_stack`), on the test infrastructure, in a
run of their own (topic prefix ``chaos<run>.dealerflow.``, schema prefix ``chaos<run>_``),
with the accelerated clock; faults as methods (kill -9 or SIGTERM and restart of services
and of their extra replicas, several processes of a service sharing its consumer groups).

Every process the harness starts is stopped when it ends, on failure too (SIGTERM and
SIGINT included), and its topics and schemas are deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TypeVar

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
    readiness,
    restart_services,
    running_stack,
    spawn_replica,
)
from dealerflow.runtime.kafka_admin import (
    GroupAssignment,
    create_catalogue_topics,
    describe_group,
)

if TYPE_CHECKING:
    from chaos.own_infra import OwnInfra

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


T = TypeVar("T")


async def at_random_moments(
    targets: list[T], rng: random.Random, earliest_s: float, latest_s: float
) -> AsyncIterator[T]:
    """``targets`` in a random order, each yielded at a random moment between
    ``earliest_s`` and ``latest_s`` from the first step (later when the previous fault
    took longer): when a scenario's faults strike."""
    rng.shuffle(targets)
    moments = sorted(rng.uniform(earliest_s, latest_s) for _ in targets)
    start = time.monotonic()
    for target, moment in zip(targets, moments, strict=True):
        wait = moment - (time.monotonic() - start)
        if wait > 0:
            await asyncio.sleep(wait)
        yield target


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
    #: The extra replica processes (``<service>#<n>``, n from 2: the stack's own process
    #: is the first) and their HTTP ports; their handles are in ``handles`` too.
    replica_ports: dict[str, int] = field(default_factory=dict)
    #: The run's own Kafka and PostgreSQL (chaos/own_infra.py), for the scenarios that
    #: kill them or break their links; None on the shared test infrastructure.
    infra: OwnInfra | None = None

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
        return await self.bounce([name], kill=True, down_s=down_s)

    async def bounce(self, keys: Sequence[str], *, kill: bool, down_s: float = 0.0) -> Fault:
        """Stop the processes ``keys`` (service names or replicas, ``notifier#2``) at once,
        with SIGKILL (``kill``: no drain) or SIGTERM (a clean shutdown: the consumers leave
        their groups), leave them down ``down_s``, start them again and wait until every
        service and replica is ready."""
        fault = Fault(self.elapsed(), "kill -9" if kill else "SIGTERM restart", " + ".join(keys))
        self.faults.append(fault)
        stopped = [self.handles[key] for key in keys]
        if kill:
            for handle in stopped:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(handle.pid, signal.SIGKILL)
            for handle in stopped:
                if handle.popen is not None:
                    await asyncio.to_thread(handle.popen.wait, 10)
        else:
            await asyncio.gather(
                *(asyncio.to_thread(handle.stop, 25.0, _quiet) for handle in stopped)
            )
        if down_s:
            await asyncio.sleep(down_s)
        replicas = [key for key in keys if key in self.replica_ports]
        for key in replicas:
            self._start_replica(key, append=True)
        services = [key for key in keys if key not in self.replica_ports]
        if services:
            await asyncio.to_thread(
                restart_services,
                self.config,
                self.handles,
                services,
                timeout_s=120,
                progress=_quiet,
            )
        await self._replicas_ready(replicas)
        fault.recovered_s = self.elapsed() - fault.at_s
        return fault

    # -- replicas ------------------------------------------------------------------------

    def replicas_of(self, name: str) -> list[str]:
        """The processes of the service ``name``: its own, then its extra replicas."""
        extra = sorted(k for k in self.replica_ports if k.partition("#")[0] == name)
        return [name, *extra]

    async def add_replicas(self, replicas: Mapping[str, int]) -> None:
        """Run ``replicas[name]`` processes of each service named (its own one included):
        the same schema and consumer groups, each its own port and log (``<name>-<n>.log``);
        wait until they are ready."""
        added = []
        for name, count in replicas.items():
            for number in range(len(self.replicas_of(name)) + 1, count + 1):
                key = f"{name}#{number}"
                [self.replica_ports[key]] = _free_ports(1)
                self._start_replica(key, append=False)
                added.append(key)
        await self._replicas_ready(added)

    async def remove_replicas(self) -> None:
        """Stop the extra replicas (SIGTERM): one process of each service again."""
        keys = list(self.replica_ports)
        await asyncio.gather(
            *(asyncio.to_thread(self.handles[key].stop, 25.0, _quiet) for key in keys)
        )
        for key in keys:
            del self.handles[key], self.replica_ports[key]

    def _start_replica(self, key: str, *, append: bool) -> None:
        name, _, number = key.partition("#")
        log_file = self.log_dir / f"{name}-{number}.log"
        self.handles[key] = spawn_replica(
            self.config, name, self.replica_ports[key], log_file, append=append
        )

    async def _replicas_ready(self, keys: Sequence[str], timeout_s: float = 120.0) -> None:
        await self.ready(keys, timeout_s=timeout_s)

    def url_of(self, key: str) -> str:
        """The HTTP address of the process ``key`` (a service, or a replica ``name#n``)."""
        if key in self.replica_ports:
            return f"http://{self.config.host}:{self.replica_ports[key]}"
        return self.urls[key]

    async def ready(self, keys: Sequence[str] | None = None, timeout_s: float = 120.0) -> None:
        """Wait until every process of ``keys`` (default: all, replicas included) answers
        ``/readyz`` with 200; raise if one exits or the time is up. Each probe is one
        short request (2 s at most), so a cancelled wait ends at once instead of keeping
        a thread (and the loop's shutdown) busy until its timeout."""
        deadline = time.monotonic() + timeout_s
        pending = list(self.handles if keys is None else keys)
        while pending:
            for key in list(pending):
                handle = self.handles[key]
                if not handle.running():
                    raise RuntimeError(f"{key} exited:\n{handle.log_tail()}")
                ok, detail = await asyncio.to_thread(readiness, self.url_of(key))
                if ok:
                    pending.remove(key)
                elif time.monotonic() > deadline:
                    raise RuntimeError(f"{key} not ready in time: {detail[:300]}")
            if pending:
                await asyncio.sleep(0.3)

    async def wait_for_group(
        self, service: str, subscription: str, topic: str, timeout_s: float = 120.0
    ) -> GroupAssignment:
        """Until the consumer group of ``service``'s ``subscription`` is stable with one
        member per process of the service (:meth:`replicas_of`), each reading at least one
        partition of ``topic``: the group's work is shared before a measurement starts."""
        group = f"{self.config.topic_prefix}{service}.{subscription}"
        processes = len(self.replicas_of(service))
        deadline = time.monotonic() + timeout_s
        while True:
            described = await describe_group(self.kafka_bootstrap, group)
            if described.balanced_on(topic, processes):
                return described
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"group {group}: {described.state}, {len(described.members)} members, "
                    f"{described.readers_of(topic)} reading {topic}; {processes} processes"
                )
            await asyncio.sleep(0.5)

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
def terminate_as_exit() -> Iterator[None]:
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
    run_name: str = "chaos",
    extra_env: dict[str, str] | None = None,
    infra: OwnInfra | None = None,
    partitions: int = 3,
) -> Iterator[Harness]:
    """Start the stack of one chaos run for the ``with`` block; stop it and delete its
    topics and schemas afterwards (``keep``: leave the data, e.g. to inspect it).
    ``run_name`` prefixes the run's topics and schemas (the benchmarks use ``bench``);
    ``extra_env`` overrides the services' settings (e.g. the consumers' batch timeout,
    the purge's retentions); ``infra``: on that infrastructure of the run's own, each
    service through its links; ``partitions``: of every catalogue topic (the most
    processes of a service that share a consumer group's work)."""
    default_kafka, default_pg = infra_from_environment()
    kafka = infra.kafka_bootstrap if infra else kafka_bootstrap or default_kafka
    owner = infra.pg_dsn if infra else pg_dsn or default_pg
    service_env: Mapping[str, Mapping[str, str]] = infra.service_env() if infra else {}
    run = uuid.uuid4().hex[:8]
    prefix = f"{run_name}{run}.dealerflow."
    schema_prefix = f"{run_name}{run}_"
    logs = log_dir or Path(tempfile.mkdtemp(prefix=f"{run_name}-{run}-"))
    live: dict[str, ProcessHandle] = {}
    with terminate_as_exit():
        try:
            run_coroutine(lambda: create_catalogue_topics(kafka, prefix, partitions=partitions))
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
                    **(extra_env or {}),
                },
                service_env=service_env,
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
                    infra=infra,
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
