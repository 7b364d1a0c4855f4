"""PostgreSQL run natively from the system packages (Debian ``postgresql``).

PostgreSQL refuses to run as root, so when we are root every server command runs as the
``postgres`` OS user (created by the Debian package) and the data directory belongs to
it. If that user cannot reach the state dir (e.g. it sits under a 0700 home or pytest's
temp dir) the data moves to ``~postgres/dealerflow/<profile>-<hash>``.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from dealerflow.devinfra.config import (
    DATABASE,
    PG_APP_PASSWORD,
    PG_APP_ROLE,
    PG_SUPERUSER,
    InfraConfig,
    InfraError,
)
from dealerflow.devinfra.proc import (
    Progress,
    file_lock,
    pid_alive,
    pid_cmdline,
    port_open,
    run_coroutine,
    run_logged,
    stderr_progress,
    tail,
)
from dealerflow.devinfra.status import ComponentStatus, State
from dealerflow.devinfra.versions import POSTGRES_MAJOR

# Dev/test settings: durability traded for speed (a crash may lose the dev database).
_SERVER_CONF = """\
# Written by dealerflow-infra on every start; edit dealerflow.devinfra.postgres instead.
listen_addresses = '127.0.0.1'
max_connections = 300
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
"""
# A durable cluster (InfraConfig.pg_durable) keeps PostgreSQL's defaults: with
# synchronous_commit off a crash of the server itself (kill -9 of the postmaster, not
# only of the machine) forgets commits it already acknowledged.
_DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


def server_conf(cfg: InfraConfig) -> str:
    """The settings written to ``dealerflow.conf`` on every start."""
    if not cfg.pg_durable:
        return _SERVER_CONF
    lines = []
    for line in _SERVER_CONF.splitlines():
        name = line.split(" = ", 1)[0]
        lines.append(f"{name} = {_DURABLE[name]}" if name in _DURABLE else line)
    return "\n".join(lines) + "\n"


_INCLUDE_LINE = "include_if_exists = 'dealerflow.conf'\n"
_SOCKET_NAME_ROOM = len("/.s.PGSQL.65535.lock")
_MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux


@dataclass(frozen=True)
class PgLayout:
    """Where one profile's cluster lives and which OS user runs it."""

    base: Path
    data: Path
    socket_dir: Path
    log: Path
    user: pwd.struct_passwd | None  # None: run as ourselves (we are not root)


def find_bin_dir() -> Path | None:
    """Directory with ``initdb`` and ``pg_ctl``: $DEALERFLOW_PG_BIN_DIR, Debian's
    /usr/lib/postgresql/<major>/bin (our major first, else the newest), or PATH."""
    override = os.environ.get("DEALERFLOW_PG_BIN_DIR")
    if override:
        return Path(override) if (Path(override) / "pg_ctl").exists() else None
    versions: list[tuple[int, Path]] = []
    for candidate in Path("/usr/lib/postgresql").glob("*/bin"):
        if candidate.parent.name.isdigit() and (candidate / "initdb").exists():
            versions.append((int(candidate.parent.name), candidate))
    for major, candidate in versions:
        if major == POSTGRES_MAJOR:
            return candidate
    if versions:
        return max(versions)[1]
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        directory = Path(pg_ctl).resolve().parent
        if (directory / "initdb").exists():
            return directory
    return None


def ensure_installed(progress: Progress = stderr_progress) -> Path:
    """The server binaries' directory; installs Debian's ``postgresql`` when root."""
    found = find_bin_dir()
    if found:
        return found
    hint = "install it with `apt-get install -y postgresql` (or set DEALERFLOW_PG_BIN_DIR)"
    if os.geteuid() != 0:
        raise InfraError(f"PostgreSQL server binaries not found; as root, {hint}")
    apt = shutil.which("apt-get")
    if not apt:
        raise InfraError(f"PostgreSQL server binaries not found and no apt-get here; {hint}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    logs = Path("/var/log") if os.access("/var/log", os.W_OK) else Path("/tmp")
    progress("PostgreSQL server not found: apt-get update && apt-get install postgresql")
    run_logged(
        [apt, "update"],
        log_file=logs / "dealerflow-apt.log",
        progress=progress,
        what="apt-get update",
        env=env,
    )
    run_logged(
        [apt, "install", "-y", "--no-install-recommends", "postgresql"],
        log_file=logs / "dealerflow-apt.log",
        progress=progress,
        what="apt-get install postgresql",
        env=env,
    )
    _stop_package_clusters(progress)
    found = find_bin_dir()
    if not found:
        raise InfraError(f"apt-get installed postgresql but no server binaries were found; {hint}")
    progress(f"PostgreSQL installed ({found})")
    return found


def _stop_package_clusters(progress: Progress) -> None:
    """Stop a cluster the Debian package may have just started, so it holds no port."""
    lsclusters = shutil.which("pg_lsclusters")
    if not lsclusters:
        return
    out = subprocess.run([lsclusters, "-h"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[3].startswith("online"):
            progress(f"stopping the package's default cluster {fields[0]}/{fields[1]}")
            subprocess.run(["pg_ctlcluster", fields[0], fields[1], "stop"], check=False)


def _server_user(*, required: bool) -> pwd.struct_passwd | None:
    """The OS user that runs the server: ``postgres`` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        if not required:
            return None
        raise InfraError(
            "running as root but there is no `postgres` OS user to run the server "
            "(the Debian package creates it: apt-get install -y postgresql)"
        ) from None


def _short_hash(cfg: InfraConfig) -> str:
    return hashlib.sha256(str(cfg.state_dir).encode()).hexdigest()[:10]


def _as_user(user: pwd.struct_passwd | None, cmd: list[str]) -> str:
    """Run ``cmd`` (as ``user`` when given); return its output or raise InfraError."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C"}
    if user is None:
        result = subprocess.run(
            cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env, cwd="/"
        )
    else:
        env["HOME"] = user.pw_dir
        result = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd="/",
            user=user.pw_uid,
            group=user.pw_gid,
            extra_groups=[],
        )
    if result.returncode != 0:
        raise InfraError(f"`{' '.join(cmd)}` failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def _can_write(user: pwd.struct_passwd, path: Path) -> bool:
    try:
        _as_user(user, ["test", "-w", str(path)])
    except InfraError:
        return False
    return True


def layout(cfg: InfraConfig, *, create: bool = False) -> PgLayout:
    """This profile's cluster directories (created and owned right when ``create``)."""
    user = _server_user(required=create)
    preferred = cfg.state_dir / "postgres"
    relocated = (
        Path(user.pw_dir) / "dealerflow" / f"{cfg.profile}-{_short_hash(cfg)}" if user else None
    )
    base = preferred
    if relocated is not None and not (preferred / "data").exists():
        if (relocated / "data").exists():
            base = relocated
        elif create and user is not None:
            preferred.mkdir(parents=True, exist_ok=True)
            os.chown(preferred, user.pw_uid, user.pw_gid)
            if not _can_write(user, preferred):
                base = relocated
    socket_dir = base / "sock"
    if len(str(socket_dir)) + _SOCKET_NAME_ROOM > _MAX_SOCKET_PATH:
        socket_dir = Path("/tmp") / f"dealerflow-pg-{_short_hash(cfg)}"
    if create:
        for directory in (base, socket_dir):
            directory.mkdir(parents=True, exist_ok=True)
            if user is not None:
                os.chown(directory, user.pw_uid, user.pw_gid)
        if user is not None and base == relocated:
            os.chown(base.parent, user.pw_uid, user.pw_gid)
    return PgLayout(base, base / "data", socket_dir, base / "postgres.log", user)


def _postmaster(lay: PgLayout) -> tuple[int, int] | None:
    """(pid, port) of the running server of this data dir, from postmaster.pid."""
    try:
        lines = (lay.data / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None
    if pid_alive(pid) and any("postgres" in part for part in pid_cmdline(pid)[:1]):
        return pid, port
    return None


def status(cfg: InfraConfig) -> ComponentStatus:
    """Whether this profile's server runs (ours), something else answers, or nothing."""
    lay = layout(cfg)
    running = _postmaster(lay)
    if running is not None:
        address = f"{cfg.host}:{running[1]}"
        return ComponentStatus("postgres", "running", address, running[0], lay.log)
    state: State = "external" if port_open(cfg.host, cfg.pg_port) else "stopped"
    return ComponentStatus("postgres", state, f"{cfg.host}:{cfg.pg_port}", None, lay.log)


async def _ensure_database(admin_dsn: str) -> None:
    conn = await asyncpg.connect(admin_dsn, timeout=5)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{DATABASE}"')
    except asyncpg.DuplicateDatabaseError:
        pass  # created concurrently
    finally:
        await conn.close()


async def ensure_app_role(
    admin_dsn: str, role: str = PG_APP_ROLE, password: str = PG_APP_PASSWORD
) -> bool:
    """Create the application role (LOGIN, with ``password``; no superuser, no
    BYPASSRLS, owns nothing) unless it exists; True when it was created now. Migrations
    grant it each schema's tables (``pg_app_role``). Cluster-wide and idempotent."""
    conn = await asyncpg.connect(admin_dsn, timeout=5)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
            return False
        quoted = '"' + role.replace('"', '""') + '"'
        literal = "'" + password.replace("'", "''") + "'"
        await conn.execute(f"CREATE ROLE {quoted} LOGIN PASSWORD {literal} NOBYPASSRLS")
        return True
    except (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
        return False  # created concurrently
    finally:
        await conn.close()


async def _answers(dsn: str) -> bool:
    try:
        conn = await asyncpg.connect(dsn, timeout=2)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


def server_answers(dsn: str) -> bool:
    """True when a PostgreSQL server accepts a connection with this DSN."""
    return run_coroutine(lambda: _answers(dsn))


def start(
    cfg: InfraConfig, *, timeout_s: float = 90.0, progress: Progress = stderr_progress
) -> ComponentStatus:
    """Start the server unless it runs; create database ``dealerflow`` and the
    application role (:func:`ensure_app_role`). Idempotent.

    A server someone else started on the port is reused when it lets ``postgres`` in.
    """
    with file_lock(cfg.state_dir / "postgres.lock"):
        current = status(cfg)
        if current.state == "running" and current.address != f"{cfg.host}:{cfg.pg_port}":
            raise InfraError(
                f"this profile's PostgreSQL already runs at {current.address}, not on port "
                f"{cfg.pg_port}; run `dealerflow-infra down` first"
            )
        if current.state == "external":
            try:
                run_coroutine(lambda: _ensure_database(cfg.pg_admin_dsn))
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                raise InfraError(
                    f"port {cfg.pg_port} is in use by something that does not let "
                    f"{PG_SUPERUSER} in without a password ({exc}); free it or choose "
                    "another port (--pg-port)"
                ) from exc
            run_coroutine(lambda: ensure_app_role(cfg.pg_admin_dsn))
            progress(f"a PostgreSQL not started by us answers at {current.address}")
            return current
        if current.state == "stopped":
            _start_server(cfg, timeout_s, progress)
        _wait_ready(cfg, timeout_s)
        run_coroutine(lambda: _ensure_database(cfg.pg_admin_dsn))
        run_coroutine(lambda: ensure_app_role(cfg.pg_admin_dsn))
        return status(cfg)


def _start_server(cfg: InfraConfig, timeout_s: float, progress: Progress) -> None:
    bin_dir = ensure_installed(progress)
    lay = layout(cfg, create=True)
    if not (lay.data / "PG_VERSION").exists():
        progress(f"initdb {lay.data}")
        _as_user(
            lay.user,
            [
                str(bin_dir / "initdb"),
                "-D",
                str(lay.data),
                "-U",
                PG_SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-instructions",
            ],
        )
        conf = lay.data / "postgresql.conf"
        conf.write_text(conf.read_text() + "\n" + _INCLUDE_LINE)
    (lay.data / "dealerflow.conf").write_text(server_conf(cfg))
    if lay.user is not None:
        os.chown(lay.data / "dealerflow.conf", lay.user.pw_uid, lay.user.pw_gid)
    progress(f"starting PostgreSQL on {cfg.host}:{cfg.pg_port} (data {lay.data})")
    options = f"-p {cfg.pg_port} -k {lay.socket_dir}"
    try:
        _as_user(
            lay.user,
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(lay.data),
                "-l",
                str(lay.log),
                "-w",
                "-t",
                str(int(timeout_s)),
                "-o",
                options,
                "start",
            ],
        )
    except InfraError as exc:
        raise InfraError(f"{exc}\nserver log {lay.log}:\n{tail(lay.log)}") from exc


def _wait_ready(cfg: InfraConfig, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server_answers(cfg.pg_admin_dsn):
            return
        time.sleep(0.3)
    log = layout(cfg).log
    raise InfraError(f"PostgreSQL did not answer at {cfg.pg_admin_dsn}; log {log}:\n{tail(log)}")


def stop(
    cfg: InfraConfig, *, timeout_s: float = 60.0, progress: Progress = stderr_progress
) -> bool:
    """Stop this profile's server with ``pg_ctl -m fast``. True when one was running."""
    with file_lock(cfg.state_dir / "postgres.lock"):
        lay = layout(cfg)
        running = _postmaster(lay)
        if running is None:
            return False
        bin_dir = find_bin_dir()
        progress(f"stopping PostgreSQL (pid {running[0]})")
        if bin_dir is None:
            raise InfraError("PostgreSQL runs but pg_ctl is gone; stop it by hand")
        _as_user(
            lay.user,
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(lay.data),
                "-m",
                "fast",
                "-w",
                "-t",
                str(int(timeout_s)),
                "stop",
            ],
        )
        return True


def purge(cfg: InfraConfig) -> None:
    """Delete this profile's cluster (the server must be stopped)."""
    lay = layout(cfg)
    if _postmaster(lay) is not None:
        raise InfraError("PostgreSQL is still running; stop it first")
    # Only paths layout() derives for this profile: the state dir or its relocated twin.
    for directory in (cfg.state_dir / "postgres", lay.base, lay.socket_dir):
        shutil.rmtree(directory, ignore_errors=True)
