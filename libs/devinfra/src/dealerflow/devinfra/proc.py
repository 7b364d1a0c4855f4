"""Process, port and file helpers shared by the Kafka and PostgreSQL runners."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from dealerflow.devinfra.config import InfraError

T = TypeVar("T")
Progress = Callable[[str], None]


def stderr_progress(message: str) -> None:
    """Default progress sink: one line on stderr, flushed (long steps stay visible)."""
    print(f"dealerflow-infra: {message}", file=sys.stderr, flush=True)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    """True when the process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs: trust kill(0)
    # Field 3 (after the parenthesised command name) is the state; Z = zombie, X = dead.
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in ("Z", "X")


def pid_cmdline(pid: int) -> list[str]:
    """The command line of a process, or [] when it cannot be read."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def read_pid(pid_file: Path) -> int | None:
    """The pid stored in a pid file, or None when missing or garbled."""
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file, for error messages."""
    try:
        content = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return "\n".join(content[-lines:])


def spawn_detached(cmd: Sequence[str], *, log_file: Path, cwd: Path) -> int:
    """Start ``cmd`` in its own session, outliving us, output appended to ``log_file``.

    A throwaway ``sh`` forks the real process into the background and prints its pid, so
    the server is reparented to init: no zombie or ResourceWarning is left in our process.
    """
    script = f'"$@" >>{shlex.quote(str(log_file))} 2>&1 </dev/null & echo $!'
    out = subprocess.run(
        ["sh", "-c", script, "sh", *cmd],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        start_new_session=True,
    )
    return int(out.stdout.strip())


def terminate(pid: int, *, timeout: float, progress: Progress, name: str) -> None:
    """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.2)
    progress(f"{name} (pid {pid}) ignored SIGTERM for {timeout:.0f}s; sending SIGKILL")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock, so two ``up`` calls never race on one state dir."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_coroutine(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on a fresh loop in a helper thread.

    Safe to call from synchronous code that may itself run inside an event loop (pytest
    fixtures, CLI), without disturbing that thread's current loop.
    """
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(factory()))
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)

    thread = threading.Thread(target=target, name="dealerflow-devinfra", daemon=True)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def run_logged(
    cmd: Sequence[str],
    *,
    log_file: Path,
    progress: Progress,
    what: str,
    count_prefix: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    heartbeat_s: float = 5.0,
) -> None:
    """Run a long command, its output to ``log_file``, a progress line every few seconds.

    With ``count_prefix``, lines containing it are counted (e.g. Maven's "Downloaded
    from") and the count shows in the progress line. Raises InfraError with the log tail
    when the command fails.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    last_report = started
    counted = 0
    with log_file.open("w") as log:
        try:
            proc = subprocess.Popen(
                list(cmd),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                env=env,
                cwd=cwd,
            )
        except FileNotFoundError as exc:
            raise InfraError(f"{what}: cannot run {cmd[0]!r}: {exc}") from exc
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            if count_prefix and count_prefix in line:
                counted += 1
            now = time.monotonic()
            if now - last_report >= heartbeat_s:
                last_report = now
                extra = f", {counted} downloaded" if count_prefix else ""
                progress(f"{what}: still working ({now - started:.0f}s{extra})")
        code = proc.wait()
    if code != 0:
        raise InfraError(
            f"{what} failed (exit {code}); full output in {log_file}:\n{tail(log_file)}"
        )
