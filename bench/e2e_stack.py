"""The running services of the end-to-end benchmarks: the six processes started the way
``make up`` and the e2e tests start them (:func:`chaos.harness.running_harness`, a run of
its own: topics ``bench<run>.dealerflow.*``, schemas ``bench<run>_*``, free ports), with
the services' default settings and the real clock, plus what the benchmarks read of them:
the notifier's tables and each process's resident memory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg

from chaos.harness import Harness, running_harness
from dealerflow.runtime.db import quote_ident
from dealerflow.runtime.settings import ServiceSettings

#: The settings the chaos harness shortens, back to the services' defaults (``make up``),
#: and probes without a token unthrottled (the HTTP baseline sends hundreds a second).
_DEFAULTS = ServiceSettings.model_fields
BENCH_ENV = {
    "DEALERFLOW_TIMER_POLL_INTERVAL_S": str(_DEFAULTS["timer_poll_interval_s"].default),
    "DEALERFLOW_RELAY_POLL_INTERVAL_S": str(_DEFAULTS["relay_poll_interval_s"].default),
    "DEALERFLOW_CONSUMER_BATCH_TIMEOUT_MS": str(_DEFAULTS["consumer_batch_timeout_ms"].default),
    "DEALERFLOW_LOG_LEVEL": str(_DEFAULTS["log_level"].default),
    "DEALERFLOW_HTTP_RATE_LIMIT_UNAUTHENTICATED": "1000000/minute",
}

#: The dealer every end-to-end benchmark writes for (unknown dealers get the defaults).
DEALER_ID = "BENCH01"


@contextlib.contextmanager
def running_services(kafka: str, owner_dsn: str, *, partitions: int = 3) -> Iterator[Harness]:
    """The six services for the ``with`` block, stopped and their data dropped after;
    ``partitions`` of every topic (the most replicas of a service with work)."""
    with running_harness(
        kafka_bootstrap=kafka,
        pg_dsn=owner_dsn,
        clock_speed=1.0,
        run_name="bench",
        extra_env=BENCH_ENV,
        partitions=partitions,
    ) as harness:
        yield harness


def schema_of(harness: Harness, service: str) -> str:
    """The quoted schema of ``service`` in this run."""
    return quote_ident(harness.config.schema_prefix + service.replace("-", "_"))


async def connect(harness: Harness) -> asyncpg.Connection:
    """A connection as the schemas' owner (reads every dealer's rows)."""
    return await asyncpg.connect(harness.config.pg_dsn)


async def table_counts(conn: asyncpg.Connection, schema: str) -> dict[str, int]:
    """Rows per table of ``schema`` (exact counts)."""
    names = await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename",
        schema.strip('"'),
    )
    counts = {}
    for row in names:
        table = row["tablename"]
        counts[table] = await conn.fetchval(f"SELECT count(*) FROM {schema}.{quote_ident(table)}")
    return counts


async def access_counts(
    conn: asyncpg.Connection, schema: str, *, besides: tuple[str, ...] = ()
) -> dict[str, int]:
    """Cumulative table accesses of ``schema`` (PostgreSQL's statistics), the tables
    ``besides`` left out: scans (index and sequential, i.e. the reads of statements) and
    rows inserted, updated, deleted."""
    row = await conn.fetchrow(
        "SELECT coalesce(sum(idx_scan), 0) + coalesce(sum(seq_scan), 0) AS scans,"
        " coalesce(sum(n_tup_ins), 0) AS inserted, coalesce(sum(n_tup_upd), 0) AS updated,"
        " coalesce(sum(n_tup_del), 0) AS deleted"
        " FROM pg_stat_user_tables WHERE schemaname = $1 AND NOT relname = ANY($2::text[])",
        schema.strip('"'),
        list(besides),
    )
    return {key: int(value) for key, value in dict(row).items()}


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                found.append(int(entry.name))
    return found


def rss_mib(pid: int) -> float | None:
    """Resident memory of ``pid`` and its children, MiB (None: no such process)."""
    total_kib = 0
    seen = False
    for one in [pid, *_children(pid)]:
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
                    seen = True
    return total_kib / 1024 if seen else None


def pg_connections(pid: int, pg_port: int) -> int | None:
    """Open TCP connections of ``pid`` (and its children) to PostgreSQL at ``pg_port``
    (its sockets in /proc/net/tcp*, matched by inode); None: no such process."""
    inodes = set()
    for one in [pid, *_children(pid)]:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{one}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = fd.readlink().as_posix()
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    if not inodes and not Path(f"/proc/{pid}").exists():
        return None
    count = 0
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                established = fields[3] == "01"
                if established and remote_port == pg_port and fields[9] in inodes:
                    count += 1
    return count


_TICKS = os.sysconf("SC_CLK_TCK")


def _own_seconds(pid: int) -> float:
    # utime + stime of the process itself (its threads, not its children); 0: gone
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS
    return 0.0


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) used so far by ``pids`` and their children, seconds."""
    return sum(_own_seconds(one) for pid in pids for one in [pid, *_children(pid)])


def runqueue_wait_seconds(pids: list[int]) -> float:
    """Time the main threads of ``pids`` spent runnable but waiting for a CPU so far,
    seconds (/proc/<pid>/schedstat): what a busy machine costs them."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[1])
    return total / 1e9


def postgres_pids() -> list[int]:
    """The PostgreSQL server's processes on this machine (postmaster and backends)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
    return found


def machine_busy_seconds() -> float:
    """CPU seconds the machine spent busy so far (every core; /proc/stat)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / _TICKS


class CpuMeter:
    """The cores in use while the ``with`` block runs: the whole machine, ``pids`` (and
    their children), PostgreSQL's processes (every client's: the server is shared); and
    how many of ``pids`` were, on average, runnable but waiting for a CPU."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.cores: dict[str, float] = {}

    def __enter__(self) -> CpuMeter:
        self._started = time.perf_counter()
        self._postgres = postgres_pids()
        self._before = self._sample()
        return self

    def __exit__(self, *_: object) -> None:
        wall = time.perf_counter() - self._started
        self._postgres = sorted({*self._postgres, *postgres_pids()})
        after = self._sample()
        machine, processes, postgres, waiting = (
            b - a for a, b in zip(self._before, after, strict=True)
        )
        self.cores = {
            "machine": round(machine / wall, 3),
            "processes": round(processes / wall, 3),
            "postgres": round(postgres / wall, 3),
            "processes_waiting": round(waiting / wall, 3),
        }

    def _sample(self) -> tuple[float, float, float, float]:
        return (
            machine_busy_seconds(),
            cpu_seconds(self.pids),
            self._pg_seconds(),
            runqueue_wait_seconds(self.pids),
        )

    def _pg_seconds(self) -> float:
        # each process's own time (the postmaster's children are the backends: no
        # double count)
        return sum(_own_seconds(pid) for pid in self._postgres)


def service_rss(harness: Harness) -> dict[str, float | None]:
    """Resident memory (MiB) of each service process now."""
    return {name: rss_mib(handle.pid) for name, handle in harness.handles.items()}


@contextlib.contextmanager
def profiled(pid: int, output: Path | None, *, rate: int = 100) -> Iterator[None]:
    """Sample ``pid`` with py-spy (``uvx py-spy record``, collapsed stacks) for the block
    when ``output`` is given; nothing otherwise. py-spy is not a dependency: uvx fetches it."""
    if output is None:
        yield
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    command = ["uvx", "py-spy", "record", "--pid", str(pid), "--rate", str(rate)]
    command += ["--format", "raw", "--output", str(output), "--nonblocking"]
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # let it attach
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        try:
            recorder.wait(30)
        except subprocess.TimeoutExpired:
            recorder.kill()
            recorder.wait(10)


def profile_summary(path: Path, *, top: int = 15) -> str:
    """The functions taking most samples of a py-spy collapsed-stack file: inclusive
    (anywhere on the stack) and self (the innermost frame), as percent of all samples."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [f.split(" (", 1)[0] + _where(f) for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
        own[frames[-1]] = own.get(frames[-1], 0) + count
    if not total:
        return f"{path}: no samples"
    lines = [f"{path.name}: {total:,} samples"]
    for title, table in (("inclusive", inclusive), ("self", own)):
        lines.append(f"  {title}:")
        for frame, count in sorted(table.items(), key=lambda kv: -kv[1])[:top]:
            lines.append(f"    {100 * count / total:5.1f}%  {frame}")
    return "\n".join(lines)


def _where(frame: str) -> str:
    # "name (path/file.py:123)" -> " (file.py)": one entry per function, not per line
    if " (" not in frame:
        return ""
    location = frame.split(" (", 1)[1].rstrip(")")
    return f" ({location.rsplit(':', 1)[0]})"
