"""Infrastructure of a chaos run's own: a Kafka broker and a PostgreSQL cluster started
through devinfra (``dealerflow.devinfra.kafka`` / ``postgres``, the code that starts the
dev and test profiles) in a state directory of their own under ``/tmp``, on ports of
their own, so a scenario may SIGKILL them or cut their links without touching the shared
test infrastructure everybody's tests use. Both are stopped and their state removed when
the ``with`` block ends, on failure too.

With ``proxied``, every service reaches Kafka and PostgreSQL through a
:class:`~dealerflow.devinfra.fault_proxy.FaultProxy` of its own (twelve links for six
services). Kafka clients reconnect to the address the broker advertises, so the broker
gets one listener per service advertised as that service's proxy: a client that
bootstraps through its proxy stays behind it. The harness (topics, the count) uses the
broker's plain listener and PostgreSQL directly. The proxies run on an event loop in a
thread of their own: the services connect through them while the stack starts, before
a scenario's loop exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

from dealerflow.devinfra import kafka, postgres
from dealerflow.devinfra.config import InfraConfig, InfraError, KafkaListener, default_cache_dir
from dealerflow.devinfra.fault_proxy import FaultProxy
from dealerflow.devinfra.proc import pid_alive, port_open
from dealerflow.devinfra.services import SERVICES

T = TypeVar("T")

#: What a link of a service leads to.
Target = Literal["kafka", "postgres"]


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port_pair() -> int:
    """A port free on loopback now whose next port is free too (a broker's port and
    its controller's, next to it: a free port's neighbour may well be taken)."""
    for _ in range(100):
        port = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two adjacent free ports on loopback")


def _quiet(message: str) -> None:
    if os.environ.get("CHAOS_VERBOSE"):
        print(f"  [infra] {message}", flush=True)


class ProxyLoop:
    """An event loop in a thread of its own, where the fault proxies run."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="chaos-proxies", daemon=True
        )
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 30.0) -> T:
        """Run ``coro`` on the proxies' loop from synchronous code."""
        return self.submit(coro).result(timeout_s)

    async def run_async(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the proxies' loop from another loop."""
        return await asyncio.wrap_future(self.submit(coro))

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@dataclass
class Link:
    """One service's link to Kafka or to PostgreSQL, through a fault proxy."""

    service: str
    target: Target
    proxy: FaultProxy

    @property
    def name(self) -> str:
        return f"{self.service} -> {self.target}"


@dataclass
class OwnInfra:
    """A chaos run's own Kafka and PostgreSQL, and the services' links to them."""

    cfg: InfraConfig
    links: list[Link] = field(default_factory=list)
    proxies: ProxyLoop | None = None

    @property
    def kafka_bootstrap(self) -> str:
        """The broker's plain listener (the harness's: never proxied)."""
        return self.cfg.kafka_bootstrap

    @property
    def pg_dsn(self) -> str:
        """The owner's DSN, direct (migrations, the harness)."""
        return self.cfg.pg_dsn

    def service_env(self) -> dict[str, dict[str, str]]:
        """Per service, its addresses of Kafka and PostgreSQL through its own links
        (empty without proxies: every service uses the direct addresses)."""
        env: dict[str, dict[str, str]] = {}
        for link in self.links:
            mine = env.setdefault(link.service, {})
            if link.target == "kafka":
                mine["DEALERFLOW_KAFKA_BOOTSTRAP"] = link.proxy.address
            else:
                owner = _through(self.pg_dsn, link.proxy.address)
                mine["DEALERFLOW_PG_MIGRATION_DSN"] = owner
                mine["DEALERFLOW_PG_DSN"] = _through(self.cfg.pg_app_dsn, link.proxy.address)
        return env

    # -- kill -9 -------------------------------------------------------------------------

    def kafka_pid(self) -> int | None:
        return kafka.status(self.cfg).pid

    def postgres_pid(self) -> int | None:
        return postgres.status(self.cfg).pid

    def kill9_kafka(self) -> None:
        """SIGKILL the broker (no controlled shutdown) and wait until it is gone."""
        _kill9(self.kafka_pid(), "the Kafka broker", self.cfg.kafka_port)

    def kill9_postgres(self) -> None:
        """SIGKILL the postmaster (its backends notice and exit; the next start does
        crash recovery) and wait until it is gone."""
        _kill9(self.postgres_pid(), "the PostgreSQL postmaster", self.cfg.pg_port)

    def postgres_recovered(self) -> int:
        """How many times the cluster started with crash recovery (its server log)."""
        try:
            text = postgres.layout(self.cfg).log.read_text(errors="replace")
        except OSError:
            return 0
        return text.count("automatic recovery in progress")

    def start_kafka(self, timeout_s: float = 120.0) -> None:
        kafka.start(self.cfg, timeout_s=timeout_s, progress=_quiet)

    def start_postgres(self, timeout_s: float = 120.0) -> None:
        """Start the cluster again; retried while the killed postmaster's backends still
        hold its shared memory ("pre-existing shared memory block is still in use")."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                postgres.start(self.cfg, timeout_s=60, progress=_quiet)
                return
            except InfraError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1.0)


def _through(dsn: str, address: str) -> str:
    """``dsn`` with its host and port replaced by ``address``."""
    url = urlsplit(dsn)
    user = url.netloc.rpartition("@")[0]
    return urlunsplit(url._replace(netloc=f"{user}@{address}" if user else address))


def _kill9(pid: int | None, what: str, port: int, timeout_s: float = 30.0) -> None:
    """SIGKILL ``pid``; wait until it is gone and nothing listens on ``port`` (a killed
    JVM's leader is a zombie while its other threads, holding the sockets, still exit)."""
    if pid is None:
        raise InfraError(f"{what} does not run: nothing to kill")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout_s
    while pid_alive(pid) or port_open("127.0.0.1", port):
        if time.monotonic() > deadline:
            raise InfraError(f"{what} (pid {pid}) still runs {timeout_s:.0f} s after SIGKILL")
        time.sleep(0.1)


def _port(preferred: int | None) -> int:
    if preferred is None:
        return free_port()
    if port_open("127.0.0.1", preferred):
        raise InfraError(f"port {preferred} is in use; choose another or leave it free")
    return preferred


@contextlib.contextmanager
def own_infrastructure(
    *,
    proxied: bool = False,
    kafka_port: int | None = None,
    kafka_controller_port: int | None = None,
    pg_port: int | None = None,
) -> Iterator[OwnInfra]:
    """Start a Kafka broker and a PostgreSQL cluster of the ``with`` block's own (free
    ports unless given); ``proxied``: with a fault proxy on each service's link to
    each. Everything is stopped and deleted afterwards."""
    home = Path(tempfile.mkdtemp(prefix="chaos-infra-"))
    home.chmod(0o755)  # the server runs as the postgres OS user when we are root
    k_port = _port(kafka_port)
    ctrl = _port(kafka_controller_port or (kafka_port + 1 if kafka_port else None))
    pg = _port(pg_port)
    proxies = ProxyLoop() if proxied else None
    links: list[Link] = []
    listeners: list[KafkaListener] = []
    if proxies is not None:
        for name in (s.name for s in SERVICES):
            internal = free_port()
            to_kafka = FaultProxy(f"127.0.0.1:{internal}")
            listener = "LINK_" + name.upper().replace("-", "_")
            listeners.append(KafkaListener(listener, internal, to_kafka.address))
            links.append(Link(name, "kafka", to_kafka))
            links.append(Link(name, "postgres", FaultProxy(f"127.0.0.1:{pg}")))
    cfg = InfraConfig(
        profile="chaos",
        home=home,
        cache_dir=default_cache_dir(),
        kafka_port=k_port,
        kafka_controller_port=ctrl,
        pg_port=pg,
        kafka_heap="512m",
        kafka_extra_listeners=tuple(listeners),
        # a kill -9 of the postmaster must not forget acknowledged commits: production's
        # durability, not the test profile's speed settings
        pg_durable=True,
    )
    infra = OwnInfra(cfg, links, proxies)
    try:
        postgres.start(cfg, timeout_s=120, progress=_quiet)
        kafka.start(cfg, timeout_s=180, progress=_quiet)
        if proxies is not None:
            for link in links:
                proxies.run(link.proxy.open())
        yield infra
    finally:
        if proxies is not None:
            for link in links:
                with contextlib.suppress(Exception):
                    proxies.run(link.proxy.cut())
            proxies.close()
        with contextlib.suppress(Exception):
            kafka.stop(cfg, progress=_quiet)
        with contextlib.suppress(Exception):
            postgres.stop(cfg, progress=_quiet)
        with contextlib.suppress(Exception):
            kafka.purge(cfg)
        with contextlib.suppress(Exception):
            postgres.purge(cfg)
        shutil.rmtree(home, ignore_errors=True)
