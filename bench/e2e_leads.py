"""End-to-end benchmark (b): ``POST /v1/leads`` at a fixed rate -> latency of the request
and of the notifier's first-contact task existing, with all six services running.

Open loop: request ``i`` of a step is due at ``start + i / rate`` and sent then, whatever
the earlier ones are doing (at most 256 in flight), so a slow server cannot slow the load
down and hide its own latency; both latencies are measured **from the due time**. Each
lead is a new customer of one dealer (its own phone, an ``Idempotency-Key``), as a website
form sends it. A watcher polls the notifier's ``tasks`` (every 5 ms, for the leads answered
whose task it has not seen yet) and notes when each lead's ``lead_first_contact`` task is
first seen: that is when it exists for a consultant's task list. (A task committed before
its lead's answer arrived is seen at the first poll after the answer.)

A request still waiting for one of the 256 slots when three times the step's duration has
passed is shed (not sent, counted): past the knee a step would otherwise run for minutes.

Steps: the fixed rate (200/s) first, then a sweep of rates to find the knee: the highest
rate served at >= 95% of the offered rate with a request p99 under 500 ms.

Baseline, same run, same client and rates: ``GET /healthz`` of the leads service (the
floor of one HTTP round trip through its middleware on this machine).

Error answers (a 503 when the service's pool is exhausted) and shed requests are counted
and shown. Correctness (asserted, and by the smoke test): every lead answered 201 has
exactly one first-contact task.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import BenchResult, Figure, percentile, progress
from bench.e2e_stack import DEALER_ID, connect, profiled, schema_of
from chaos.harness import Harness

CONSULTANT = "consultant-bench"
MAX_IN_FLIGHT = 256
#: The knee: served at >= this share of the offered rate, with a request p99 under ...
KNEE_SHARE = 0.95
KNEE_P99_S = 0.5
#: A step's requests not in flight after this many times its duration are shed (a server
#: far past its knee would otherwise keep the step going for minutes)
BUDGET_FACTOR = 3.0


@dataclass
class Step:
    """One rate held for a while: what was sent and when each answer/task came."""

    rate: float
    seconds: float
    due: dict[int, float] = field(default_factory=dict)
    answered: dict[int, float] = field(default_factory=dict)
    lead_of: dict[int, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    first_sent: float = 0.0
    last_answer: float = 0.0
    #: requests still waiting for a free slot when the step's time was up: not sent
    shed: int = 0
    budget_end: float = 0.0

    def request_latencies(self) -> list[float]:
        return [self.answered[i] - self.due[i] for i in self.answered]

    def served_rate(self) -> float:
        span = self.last_answer - self.first_sent
        return len(self.answered) / span if span > 0 else 0.0


class TaskWatcher:
    """Notes when each first-contact task is first seen in the notifier's tasks."""

    def __init__(self, conn: asyncpg.Connection, schema: str) -> None:
        self.conn = conn
        self.schema = schema
        self.seen: dict[str, float] = {}
        self.tasks: dict[str, int] = {}
        self.wanted: set[str] = set()  # leads answered (the sender adds them)
        self._stop = asyncio.Event()

    async def run(self) -> None:
        """Every 5 ms, the leads answered whose task was not seen yet (by the related
        index; a scan of the recent tasks every 5 ms loaded the database itself)."""
        sql = (
            f"SELECT DISTINCT related_id FROM {self.schema}.tasks WHERE dealer_id = $1"
            " AND related_kind = 'lead' AND related_id = ANY($2)"
            " AND kind = 'lead_first_contact'"
        )
        while not self._stop.is_set():
            waiting = [lead for lead in self.wanted if lead not in self.seen]
            if waiting:
                rows = await self.conn.fetch(sql, DEALER_ID, waiting)
                now = time.perf_counter()
                for row in rows:
                    self.seen.setdefault(row["related_id"], now)
            await asyncio.sleep(0.005)

    def stop(self) -> None:
        self._stop.set()

    async def count_all(self, conn: asyncpg.Connection, leads: list[str]) -> dict[str, int]:
        rows = await conn.fetch(
            f"SELECT related_id, count(*) AS n FROM {self.schema}.tasks WHERE dealer_id = $1"
            " AND kind = 'lead_first_contact' AND related_id = ANY($2) GROUP BY 1",
            DEALER_ID,
            leads,
        )
        return {row["related_id"]: row["n"] for row in rows}


class LeadSender:
    """Sends the steps' requests with one HTTP client (a token for every dealer)."""

    def __init__(self, harness: Harness, answered: set[str] | None = None) -> None:
        self.harness = harness
        #: every lead answered 201 is added here (the task watcher's wanted set)
        self.answered = answered if answered is not None else set()
        self.client = httpx.AsyncClient(
            timeout=30.0,
            headers={"Authorization": f"Bearer {harness.token()}"},
            limits=httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=64),
        )
        self._seq = 0
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)

    async def close(self) -> None:
        await self.client.aclose()

    async def setup(self) -> None:
        """The dealer's consultant (leads are assigned to one on duty)."""
        url = self.harness.urls["dealers"] + f"/v1/dealers/{DEALER_ID}/people"
        staff = [{"staff_id": CONSULTANT, "roles": ["consultant"], "on_duty": True}]
        answer = await self.client.put(url, json={"staff": staff})
        answer.raise_for_status()

    def _lead_body(self, n: int) -> dict[str, Any]:
        return {
            "dealer_id": DEALER_ID,
            "channel": "online",
            "source": "website",
            "customer": {"name": f"顾客{n}", "phones": [f"+86138{n:08d}"]},
            "vehicles": [{"interest": "buy", "model": "Aurora X5"}],
        }

    async def _one(self, step: Step, i: int, *, probe: bool) -> None:
        try:
            remaining = max(0.0, step.budget_end - time.perf_counter())
            await asyncio.wait_for(self._slots.acquire(), remaining)
        except TimeoutError:
            step.shed += 1
            return
        try:
            try:
                if probe:
                    answer = await self.client.get(self.harness.urls["leads"] + "/healthz")
                else:
                    self._seq += 1
                    n = self._seq
                    answer = await self.client.post(
                        self.harness.urls["leads"] + "/v1/leads",
                        json=self._lead_body(n),
                        headers={"Idempotency-Key": f"bench-lead-{n}"},
                    )
            except httpx.HTTPError as exc:
                step.failures.append(f"{type(exc).__name__}: {exc}"[:200])
                return
            now = time.perf_counter()
            if answer.status_code not in (200, 201):
                step.failures.append(f"{answer.status_code}: {answer.text[:200]}")
                return
            step.answered[i] = now
            step.last_answer = max(step.last_answer, now)
            if not probe:
                step.lead_of[i] = lead = str(answer.json()["lead_id"])
                self.answered.add(lead)
        finally:
            self._slots.release()

    async def step(self, rate: float, seconds: float, *, probe: bool) -> Step:
        """Hold ``rate`` requests/s for ``seconds`` (open loop), wait for every answer."""
        step = Step(rate, seconds)
        count = max(1, round(rate * seconds))
        sending: list[asyncio.Task[None]] = []
        start = time.perf_counter() + 0.05
        step.first_sent = start
        step.budget_end = start + BUDGET_FACTOR * seconds
        for i in range(count):
            due = start + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            step.due[i] = due
            sending.append(asyncio.create_task(self._one(step, i, probe=probe)))
        await asyncio.gather(*sending)
        return step


async def _wait_tasks(watcher: TaskWatcher, step: Step, timeout_s: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout_s
    wanted = set(step.lead_of.values())
    while not wanted <= watcher.seen.keys():
        if time.perf_counter() > deadline:
            missing = len(wanted - watcher.seen.keys())
            raise TimeoutError(f"{missing} first-contact tasks not seen after {timeout_s:.0f} s")
        await asyncio.sleep(0.05)


def _summary(step: Step, watcher: TaskWatcher | None) -> dict[str, Any]:
    latencies = step.request_latencies()
    out: dict[str, Any] = {
        "rate": step.rate,
        "sent": len(step.due) - step.shed,
        "shed": step.shed,
        "answered": len(step.answered),
        "failures": len(step.failures),
        "errors": dict(Counter(f.split(":", 1)[0] for f in step.failures)),
        "served_per_s": step.served_rate(),
        "request_p50_s": percentile(latencies, 50),
        "request_p99_s": percentile(latencies, 99),
        "request_max_s": max(latencies, default=None),
    }
    if watcher is not None:
        task_latencies = [
            watcher.seen[lead] - step.due[i]
            for i, lead in step.lead_of.items()
            if lead in watcher.seen
        ]
        out["task_p50_s"] = percentile(task_latencies, 50)
        out["task_p99_s"] = percentile(task_latencies, 99)
        out["task_max_s"] = max(task_latencies, default=None)
    return out


def _at_knee(summary: dict[str, Any]) -> bool:
    p99 = summary["request_p99_s"]
    return (
        summary["failures"] == 0
        and summary["shed"] == 0
        and summary["served_per_s"] >= KNEE_SHARE * summary["rate"]
        and p99 is not None
        and p99 < KNEE_P99_S
    )


async def run(
    harness: Harness,
    *,
    rate: float,
    seconds: float,
    sweep: list[float],
    sweep_seconds: float,
    profile: Path | None = None,
) -> BenchResult:
    """Run benchmark (b) and its baseline; see the module docstring."""
    conn = await connect(harness)
    watcher = TaskWatcher(await connect(harness), schema_of(harness, "notifier"))
    sender = LeadSender(harness, watcher.wanted)
    watching = asyncio.create_task(watcher.run())
    steps: list[dict[str, Any]] = []
    probes: list[dict[str, Any]] = []
    leads: list[str] = []
    try:
        await sender.setup()
        await sender.step(5, 1.0, probe=False)  # warm: connections, caches, the dealer
        for index, step_rate in enumerate([rate, *sweep]):
            held = seconds if index == 0 else sweep_seconds
            progress(f"e2e leads: POST /v1/leads at {step_rate:,.0f}/s for {held:.0f} s")
            output = None if profile is None or index else profile / "leads-leads.txt"
            with profiled(harness.handles["leads"].pid, output):
                step = await sender.step(step_rate, held, probe=False)
            await _wait_tasks(watcher, step)
            leads.extend(step.lead_of.values())
            steps.append(_summary(step, watcher))
            probes.append(_summary(await sender.step(step_rate, held, probe=True), None))
            if step.failures:
                progress(f"e2e leads: {len(step.failures)} failed, e.g. {step.failures[0]}")
            if index > 0 and not _at_knee(steps[-1]):
                break  # past the knee: higher rates only queue up
        counts = await watcher.count_all(conn, leads)
    finally:
        watcher.stop()
        await watching
        await watcher.conn.close()
        await conn.close()
        await sender.close()
    # an error answer (e.g. 503 when the pool is exhausted) is a figure, not a failure of
    # the benchmark; a lead answered 201 without exactly one first-contact task is
    if len(counts) != len(leads) or any(n != 1 for n in counts.values()):
        twice = sum(1 for n in counts.values() if n != 1)
        raise AssertionError(
            f"{len(leads) - len(counts)} leads without and {twice} with >1 first-contact task"
        )
    fixed, fixed_probe = steps[0], probes[0]
    knee = [s["rate"] for s in steps[1:] if _at_knee(s)]
    figures = [
        Figure(
            f"at {rate:,.0f}/s: request p50",
            fixed["request_p50_s"],
            fixed_probe["request_p50_s"],
            "s",
            lower_is_better=True,
        ),
        Figure(
            f"at {rate:,.0f}/s: request p99",
            fixed["request_p99_s"],
            fixed_probe["request_p99_s"],
            "s",
            target="< 0.050 s",
            met=fixed["request_p99_s"] < 0.05,
            lower_is_better=True,
        ),
        Figure(
            f"at {rate:,.0f}/s: first-contact task p50",
            fixed["task_p50_s"],
            None,
            "s",
            lower_is_better=True,
        ),
        Figure(
            f"at {rate:,.0f}/s: first-contact task p99",
            fixed["task_p99_s"],
            None,
            "s",
            target="< 0.150 s",
            met=fixed["task_p99_s"] < 0.15,
            lower_is_better=True,
        ),
        Figure(
            f"at {rate:,.0f}/s: served", fixed["served_per_s"], fixed_probe["served_per_s"], "req/s"
        ),
    ]
    for step_summary, probe in zip(steps[1:], probes[1:], strict=True):
        r = f"sweep {step_summary['rate']:,.0f}/s"
        figures += [
            Figure(f"{r}: served", step_summary["served_per_s"], probe["served_per_s"], "req/s"),
            Figure(
                f"{r}: request p99",
                step_summary["request_p99_s"],
                probe["request_p99_s"],
                "s",
                lower_is_better=True,
            ),
            Figure(f"{r}: first-contact task p99", step_summary["task_p99_s"], None, "s"),
        ]
    figures.append(
        Figure(
            "knee (highest rate at >= 95% served, p99 < 0.5 s)",
            max(knee) if knee else None,
            None,
            "req/s",
        )
    )
    return BenchResult(
        name="leads",
        title="(b) end to end: POST /v1/leads at a fixed rate -> request and first-contact task",
        baseline=(
            "GET /healthz of the leads service, same client, same rates (latencies from the "
            "due time)"
        ),
        figures=figures,
        params={"rate": rate, "seconds": seconds, "sweep": sweep, "sweep_seconds": sweep_seconds},
        details={"steps": steps, "probes": probes},
    )
