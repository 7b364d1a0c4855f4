"""End-to-end benchmark (d): resident memory of every service process, idle (ready, before
any load) and after the other end-to-end benchmarks of the run.

RSS from ``/proc/<pid>/status`` (``VmRSS``, the process and any children). Baseline, same
run: a bare interpreter of the same virtual environment that has imported the libraries
every service runs on (FastAPI, uvicorn, FastStream, aiokafka, asyncpg, pydantic,
OpenTelemetry SDK, httpx) and does nothing: what a service costs before its own code.
"""

from __future__ import annotations

import subprocess
import sys
import time

from bench.common import BenchResult, Figure
from bench.e2e_stack import rss_mib

_LIBRARIES = (
    "import fastapi, uvicorn, faststream.kafka, aiokafka, asyncpg, pydantic, httpx, "
    "opentelemetry.sdk.trace; import sys; sys.stdout.write('ready\\n'); sys.stdout.flush(); "
    "sys.stdin.read()"
)

IDLE_TARGET_MIB = 150.0


def libraries_rss() -> float | None:
    """RSS (MiB) of an idle interpreter with the services' libraries imported."""
    process = subprocess.Popen(
        [sys.executable, "-c", _LIBRARIES],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()
        time.sleep(0.2)
        return rss_mib(process.pid)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(10)


def result(
    idle: dict[str, float | None], after: dict[str, float | None], baseline: float | None
) -> BenchResult:
    """The table of benchmark (d) from the two readings."""
    figures = []
    for name, rss in idle.items():
        figures.append(
            Figure(
                f"{name}: idle",
                rss,
                baseline,
                "MiB",
                target=f"<= {IDLE_TARGET_MIB:.0f} MB",
                met=None if rss is None else rss * 1.048576 <= IDLE_TARGET_MIB,
                lower_is_better=True,
            )
        )
    for name, rss in after.items():
        figures.append(
            Figure(f"{name}: after the runs", rss, baseline, "MiB", lower_is_better=True)
        )
    return BenchResult(
        name="memory",
        title="(d) resident memory per service process (RSS, MiB)",
        baseline=(
            "an idle interpreter of the same environment with the services' libraries "
            "imported (FastAPI, uvicorn, FastStream, aiokafka, asyncpg, pydantic, OTel SDK, httpx)"
        ),
        figures=figures,
        details={"idle": idle, "after": after, "libraries": baseline},
    )
