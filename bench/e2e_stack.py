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
def running_services(kafka: str, owner_dsn: str) -> Iterator[Harness]:
    """The six services for the ``with`` block, stopped and their data dropped after."""
    with running_harness(
        kafka_bootstrap=kafka,
        pg_dsn=owner_dsn,
        clock_speed=1.0,
        run_name="bench",
        extra_env=BENCH_ENV,
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


async def access_counts(conn: asyncpg.Connection, schema: str) -> dict[str, int]:
    """Cumulative table accesses of ``schema`` (PostgreSQL's statistics): scans (index
    and sequential, i.e. the reads of statements) and rows inserted, updated, deleted."""
    row = await conn.fetchrow(
        "SELECT coalesce(sum(idx_scan), 0) + coalesce(sum(seq_scan), 0) AS scans,"
        " coalesce(sum(n_tup_ins), 0) AS inserted, coalesce(sum(n_tup_upd), 0) AS updated,"
        " coalesce(sum(n_tup_del), 0) AS deleted"
        " FROM pg_stat_user_tables WHERE schemaname = $1",
        schema.strip('"'),
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


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system, s) used so far by ``pid`` and its children (None: no such
    process): what a process did, whatever share of the machine it got."""
    total, seen = 0, False
    for one in [pid, *_children(pid)]:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
            seen = True
    return total / os.sysconf("SC_CLK_TCK") if seen else None


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
