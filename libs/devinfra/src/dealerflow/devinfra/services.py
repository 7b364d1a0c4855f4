"""Run the six dealerflow services as separate local processes.

Used by ``make up`` / ``make down`` (through ``dealerflow-infra services``) and by the
end-to-end tests, so both start the system the same way: migrate each service's schema,
start ``python -m dealerflow.<pkg> serve`` per service with its own environment, and wait
until every ``/readyz`` answers 200.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from dealerflow.devinfra.config import PG_APP_ROLE, InfraError
from dealerflow.devinfra.postgres import ensure_app_role
from dealerflow.devinfra.proc import (
    Progress,
    pid_alive,
    read_pid,
    run_coroutine,
    stderr_progress,
    tail,
    terminate,
)


@dataclass(frozen=True)
class ServiceSpec:
    """One service: its CLI name, Python package and default HTTP port."""

    name: str
    package: str
    port: int

    @property
    def env_prefix(self) -> str:
        """Its settings prefix, e.g. ``DEALERFLOW_SERVICE_CENTER_``."""
        return "DEALERFLOW_" + self.name.upper().replace("-", "_") + "_"


#: Dealers first: it owns the configuration the others read (``make up`` and the e2e
#: tests start them in this order).
SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("dealers", "dealerflow.dealers", 8006),
    ServiceSpec("leads", "dealerflow.leads", 8001),
    ServiceSpec("sales", "dealerflow.sales", 8002),
    ServiceSpec("service-center", "dealerflow.service_center", 8003),
    ServiceSpec("complaints", "dealerflow.complaints", 8004),
    ServiceSpec("notifier", "dealerflow.notifier", 8005),
)


@dataclass(frozen=True)
class StackConfig:
    """How to run the six services: shared infrastructure plus per-service settings."""

    kafka_bootstrap: str
    #: The schemas' owner: what migrations run as (and the services too, unless
    #: ``pg_app_dsn`` is given).
    pg_dsn: str
    topic_prefix: str = "dealerflow."
    #: What the services run as: the application role (row-level security applies),
    #: granted each schema by its migrations. None: the services use ``pg_dsn``.
    pg_app_dsn: str | None = None
    pg_app_role: str = PG_APP_ROLE
    #: Prepended to every service's schema name (tests isolate runs with it).
    schema_prefix: str = ""
    host: str = "127.0.0.1"
    ports: Mapping[str, int] = field(default_factory=dict)
    clock_speed: float = 1.0
    #: ISO timestamp all services anchor an accelerated clock on (so they agree).
    clock_start: str | None = None
    #: Token verification settings for every service (``DEALERFLOW_AUTH_ISSUER``,
    #: ``..._AUDIENCE``, ``..._JWKS_URL``), e.g. ``DevIssuer.for_profile("test").environment()``;
    #: None keeps what the parent environment has (``dealerflow-infra env`` exports them).
    auth_env: Mapping[str, str] | None = None
    #: Extra environment for every service (e.g. poll intervals, policy overrides).
    extra_env: Mapping[str, str] = field(default_factory=dict)
    #: Extra environment of one service, by name, over ``extra_env`` (e.g. its own
    #: addresses of Kafka and PostgreSQL, through a fault proxy of its own).
    service_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def port(self, spec: ServiceSpec) -> int:
        """The HTTP port of ``spec`` in this stack."""
        return self.ports.get(spec.name, spec.port)

    def url(self, spec: ServiceSpec) -> str:
        """Base URL of ``spec``'s HTTP API."""
        return f"http://{self.host}:{self.port(spec)}"

    def schema(self, spec: ServiceSpec) -> str:
        """PostgreSQL schema of ``spec``."""
        return self.schema_prefix + spec.name.replace("-", "_")

    def environment(
        self, spec: ServiceSpec, base: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """The process environment ``spec`` runs with."""
        env = dict(os.environ if base is None else base)
        # dev and test: an event of a dealer the dealers service never configured is
        # answered with the defaults (production refuses it)
        env.setdefault("DEALERFLOW_UNKNOWN_DEALERS", "defaults")
        env.update(
            {
                "DEALERFLOW_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
                "DEALERFLOW_PG_DSN": self.pg_app_dsn or self.pg_dsn,
                "DEALERFLOW_PG_MIGRATION_DSN": self.pg_dsn,
                "DEALERFLOW_PG_APP_ROLE": self.pg_app_role if self.pg_app_dsn else "",
                "DEALERFLOW_TOPIC_PREFIX": self.topic_prefix,
                "DEALERFLOW_CLOCK_SPEED": str(self.clock_speed),
                spec.env_prefix + "DB_SCHEMA": self.schema(spec),
                spec.env_prefix + "HTTP_HOST": self.host,
                spec.env_prefix + "HTTP_PORT": str(self.port(spec)),
            }
        )
        if self.clock_start:
            env["DEALERFLOW_CLOCK_START"] = self.clock_start
        env.update(self.auth_env or {})
        env.update(self.extra_env)
        env.update(self.service_env.get(spec.name, {}))
        return env


#: The notifier's channel drivers on a development stack (``make up`` / ``make demo``) and
#: the e2e stack: ``recording`` (logs the message) where no real gateway runs; the notifier
#: itself has no default (a message on a channel without a driver fails).
DEV_CHANNEL_ENV: Mapping[str, str] = {
    "DEALERFLOW_NOTIFIER_CHANNEL_DRIVERS": json.dumps(
        {"sms": "recording", "wechat": "recording", "email": "recording", "webhook": "recording"}
    ),
    "DEALERFLOW_NOTIFIER_STAFF_CHANNEL_DRIVER": "recording",
}


def dev_channel_env(env: Mapping[str, str]) -> dict[str, str]:
    """:data:`DEV_CHANNEL_ENV` with what ``env`` sets winning (e.g. a real SMS gateway)."""
    return {name: env.get(name) or value for name, value in DEV_CHANNEL_ENV.items()}


def _command(spec: ServiceSpec, *args: str) -> list[str]:
    return [sys.executable, "-m", spec.package, *args]


def migrate_all(config: StackConfig, *, progress: Progress = stderr_progress) -> None:
    """Apply every service's migrations (each in its own schema): dealers first (its
    import reads the former per-service policy tables before their own migrations may
    change them), then the other five in parallel."""
    if config.pg_app_dsn:
        run_coroutine(lambda: ensure_app_role(config.pg_dsn, config.pg_app_role))
    first, *rest = SERVICES
    _migrate_together([first], config, progress)
    _migrate_together(rest, config, progress)


def _migrate_together(
    specs: Sequence[ServiceSpec], config: StackConfig, progress: Progress
) -> None:
    running = [
        (
            spec,
            subprocess.Popen(
                _command(spec, "migrate"),
                env=config.environment(spec),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ),
        )
        for spec in specs
    ]
    failures = []
    for spec, process in running:
        output, _ = process.communicate()
        lines = output.strip().splitlines()
        if process.returncode != 0:
            failures.append(
                f"migrating {spec.name} failed (exit {process.returncode}):\n{output[-3000:]}"
            )
        else:  # the last line is the command's summary; the rest are its JSON logs
            progress(lines[-1] if lines else f"{spec.name}: migrated")
    if failures:
        raise InfraError("\n".join(failures))


def readiness(url: str, timeout_s: float = 2.0) -> tuple[bool, str]:
    """(ready?, detail) from ``GET <url>/readyz``."""
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=timeout_s) as response:
            return response.status == 200, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return False, exc.read().decode("utf-8", "replace")
    except (OSError, urllib.error.URLError) as exc:
        return False, str(exc)


def wait_ready(
    config: StackConfig,
    *,
    alive: Mapping[str, ProcessHandle],
    timeout_s: float = 90.0,
    progress: Progress = stderr_progress,
) -> None:
    """Wait until every service answers ``/readyz`` with 200; fail fast if one dies."""
    deadline = time.monotonic() + timeout_s
    pending = {spec.name: spec for spec in SERVICES}
    details: dict[str, str] = {}
    while pending:
        for name, spec in list(pending.items()):
            handle = alive[name]
            if not handle.running():
                raise InfraError(f"{name} exited during start-up:\n{handle.log_tail()}")
            ok, details[name] = readiness(config.url(spec))
            if ok:
                progress(f"{name} ready at {config.url(spec)}")
                del pending[name]
        if not pending:
            return
        if time.monotonic() > deadline:
            lines = [f"{n}: {details.get(n, '?')[:300]}\n{alive[n].log_tail()}" for n in pending]
            raise InfraError("services not ready in time:\n" + "\n".join(lines))
        time.sleep(0.3)


@dataclass
class ProcessHandle:
    """A started service process (a child of ours, or detached with a pid file)."""

    name: str
    pid: int
    log_file: Path
    popen: subprocess.Popen[bytes] | None = None

    def running(self) -> bool:
        """Whether the process is still alive."""
        if self.popen is not None:
            return self.popen.poll() is None
        return pid_alive(self.pid)

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of its log."""
        return tail(self.log_file, lines)

    def stop(self, timeout_s: float = 25.0, progress: Progress = stderr_progress) -> None:
        """SIGTERM (graceful drain), then SIGKILL after ``timeout_s``."""
        if self.popen is not None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                progress(f"{self.name} did not stop in {timeout_s:.0f}s; killing it")
                self.popen.kill()
                self.popen.wait(10)
        else:
            terminate(self.pid, timeout=timeout_s, progress=progress, name=self.name)


#: Dev log files are rotated by the services at this size, keeping this many old ones.
DEV_LOG_MAX_BYTES = 20 * 1024 * 1024
DEV_LOG_BACKUPS = 3


def log_environment(log_file: Path) -> dict[str, str]:
    """The settings that make a service write its log to ``log_file``, rotated
    (``<name>.log.1`` .. ``.3`` at 20 MiB each): an outage's noise cannot fill the disk."""
    return {
        "DEALERFLOW_LOG_FILE": str(log_file),
        "DEALERFLOW_LOG_FILE_MAX_BYTES": str(DEV_LOG_MAX_BYTES),
        "DEALERFLOW_LOG_FILE_BACKUPS": str(DEV_LOG_BACKUPS),
    }


def _spawn_child(
    config: StackConfig, spec: ServiceSpec, log_file: Path, mode: str
) -> ProcessHandle:
    """Start ``spec`` as a child process logging to ``log_file`` (``"wb"`` starts it
    afresh, ``"ab"`` appends), rotated by the service (:func:`log_environment`)."""
    if mode == "wb":
        log_file.write_bytes(b"")
    # append mode for the child's stdout too: it shares the file with the service's
    # rotating log handler (start-up failures are written before that handler exists)
    with log_file.open("ab") as log:  # the child keeps its own copy of the descriptor
        popen = subprocess.Popen(
            _command(spec, "serve"),
            env=config.environment(spec) | log_environment(log_file),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return ProcessHandle(spec.name, popen.pid, log_file, popen)


def spawn_replica(
    config: StackConfig, name: str, port: int, log_file: Path, *, append: bool = False
) -> ProcessHandle:
    """One more process of the service ``name`` of a running stack: the same schema and
    consumer group ids (the group's members share the partitions, Kafka rebalances them
    as replicas come and go), its own HTTP ``port`` and log file (``append``: after a
    restart). Its outbox relay and timer poller are safe beside the others (advisory
    lock, ``SKIP LOCKED``). Not waited for: :func:`readiness` of its URL tells."""
    spec = next(s for s in SERVICES if s.name == name)
    own = replace(config, ports={**config.ports, name: port})
    return _spawn_child(own, spec, log_file, "ab" if append else "wb")


@contextlib.contextmanager
def running_stack(
    config: StackConfig,
    log_dir: Path,
    *,
    migrate: bool = True,
    timeout_s: float = 90.0,
    progress: Progress = stderr_progress,
) -> Iterator[dict[str, ProcessHandle]]:
    """Start the six services as child processes for the ``with`` block (tests). The
    mapping yielded is live: :func:`restart_services` replaces the handles it restarts."""
    log_dir.mkdir(parents=True, exist_ok=True)
    if migrate:
        migrate_all(config, progress=progress)
    handles: dict[str, ProcessHandle] = {}
    try:
        for spec in SERVICES:
            handles[spec.name] = _spawn_child(config, spec, log_dir / f"{spec.name}.log", "wb")
        wait_ready(config, alive=handles, timeout_s=timeout_s, progress=progress)
        yield handles
    finally:
        for handle in handles.values():
            if handle.running():
                handle.stop(progress=progress)


def restart_services(
    config: StackConfig,
    handles: dict[str, ProcessHandle],
    names: Sequence[str] | None = None,
    *,
    timeout_s: float = 90.0,
    progress: Progress = stderr_progress,
) -> None:
    """Stop (gracefully) and start again the named services of a :func:`running_stack`
    (default: all), appending to their logs, and wait until every service is ready."""
    chosen = [spec for spec in SERVICES if names is None or spec.name in names]
    for spec in chosen:
        handles[spec.name].stop(progress=progress)
    for spec in chosen:
        handles[spec.name] = _spawn_child(config, spec, handles[spec.name].log_file, "ab")
    wait_ready(config, alive=handles, timeout_s=timeout_s, progress=progress)


def _pid_file(state_dir: Path, spec: ServiceSpec) -> Path:
    return state_dir / "services" / f"{spec.name}.pid"


def start_detached(
    config: StackConfig, state_dir: Path, *, progress: Progress = stderr_progress
) -> dict[str, ProcessHandle]:
    """Start the services in the background (``make up``); idempotent."""
    service_dir = state_dir / "services"
    service_dir.mkdir(parents=True, exist_ok=True)
    migrate_all(config, progress=progress)
    handles: dict[str, ProcessHandle] = {}
    already_running = False
    for spec in SERVICES:
        pid_file = _pid_file(state_dir, spec)
        log_file = service_dir / f"{spec.name}.log"
        pid = read_pid(pid_file)
        if pid is not None and pid_alive(pid):
            progress(f"{spec.name} already running (pid {pid}); `make down` first to change it")
            already_running = True
        else:
            env = config.environment(spec) | log_environment(log_file)
            pid = _spawn_with_env(_command(spec, "serve"), env=env, log_file=log_file)
            pid_file.write_text(f"{pid}\n")
        handles[spec.name] = ProcessHandle(spec.name, pid, log_file)
    wait_ready(config, alive=handles, progress=progress)
    stack = {
        "urls": {s.name: config.url(s) for s in SERVICES},
        "kafka_bootstrap": config.kafka_bootstrap,
        "topic_prefix": config.topic_prefix,
        "clock_speed": config.clock_speed,
        "clock_start": config.clock_start,
        "auth": dict(config.auth_env or {}),
    }
    if not already_running:  # else it still describes the running services' settings
        (service_dir / "stack.json").write_text(json.dumps(stack, indent=2) + "\n")
    return handles


def _spawn_with_env(cmd: Sequence[str], *, env: Mapping[str, str], log_file: Path) -> int:
    # A new session, so the service outlives the ``make up`` that started it.
    with log_file.open("ab") as log:
        popen = subprocess.Popen(
            list(cmd),
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return popen.pid


def stop_detached(state_dir: Path, *, progress: Progress = stderr_progress) -> None:
    """Stop services started by :func:`start_detached`."""
    for spec in reversed(SERVICES):
        pid_file = _pid_file(state_dir, spec)
        pid = read_pid(pid_file)
        if pid is not None and pid_alive(pid):
            progress(f"stopping {spec.name} (pid {pid})")
            terminate(pid, timeout=25.0, progress=progress, name=spec.name)
        pid_file.unlink(missing_ok=True)


def status_detached(state_dir: Path) -> list[tuple[str, int | None, bool]]:
    """(name, pid, alive) for each service."""
    rows: list[tuple[str, int | None, bool]] = []
    for spec in SERVICES:
        pid = read_pid(_pid_file(state_dir, spec))
        rows.append((spec.name, pid, pid is not None and pid_alive(pid)))
    return rows


def stack_dsns(
    env: Mapping[str, str], owner_default: str, app_default: str
) -> tuple[str, str | None]:
    """(owner DSN, application DSN or None) from the environment: both when
    ``DEALERFLOW_PG_MIGRATION_DSN`` is set (as ``dealerflow-infra env`` prints them);
    one role for everything when only ``DEALERFLOW_PG_DSN`` is; else the profile's two."""
    if env.get("DEALERFLOW_PG_MIGRATION_DSN"):
        return env["DEALERFLOW_PG_MIGRATION_DSN"], env.get("DEALERFLOW_PG_DSN") or None
    if env.get("DEALERFLOW_PG_DSN"):
        return env["DEALERFLOW_PG_DSN"], None
    return owner_default, app_default


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m dealerflow.devinfra.services up|down|status`` (used by ``make up``)."""
    import argparse

    from dealerflow.devinfra.config import resolve_config
    from dealerflow.devinfra.issuer import DevIssuer

    parser = argparse.ArgumentParser(
        prog="python -m dealerflow.devinfra.services",
        description="run the six dealerflow services in the background on the dev infra",
    )
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument(
        "--clock-speed",
        type=float,
        default=float(os.environ.get("DEALERFLOW_CLOCK_SPEED", "1")),
        help="accelerate the services' clock (e.g. 3600: an hour of schedule per second)",
    )
    args = parser.parse_args(argv)
    cfg = resolve_config("dev")
    state_dir = cfg.state_dir
    try:
        if args.command == "up":
            issuer = DevIssuer.for_config(cfg)
            issuer.ensure()
            # Like Kafka and PostgreSQL: the environment (a real IdP) wins over the dev issuer.
            auth_env = {name: os.environ.get(name) or v for name, v in issuer.environment().items()}
            owner, app = stack_dsns(os.environ, cfg.pg_dsn, cfg.pg_app_dsn)
            stack = StackConfig(
                kafka_bootstrap=os.environ.get("DEALERFLOW_KAFKA_BOOTSTRAP", cfg.kafka_bootstrap),
                pg_dsn=owner,
                pg_app_dsn=app,
                topic_prefix=os.environ.get("DEALERFLOW_TOPIC_PREFIX", "dealerflow."),
                clock_speed=args.clock_speed,
                clock_start=os.environ.get("DEALERFLOW_CLOCK_START")
                or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                auth_env=auth_env,
                extra_env=dev_channel_env(os.environ),
            )
            start_detached(stack, state_dir)
            print("dealerflow services:")
            for spec in SERVICES:
                print(f"  {spec.name:<15} {stack.url(spec)}  (OpenAPI: {stack.url(spec)}/docs)")
            print(f"  logs: {state_dir / 'services'}/<service>.log")
            print("  tokens: uv run dealerflow-auth token --dealer <dealer_id> --role <role>")
        elif args.command == "down":
            stop_detached(state_dir)
        else:
            for name, pid, alive in status_detached(state_dir):
                print(f"{name:<15} {'running' if alive else 'stopped'}  pid={pid or '-'}")
    except InfraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
