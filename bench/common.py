"""Shared plumbing of the benchmarks: infrastructure, isolation, results, tables.

Every run gets a random id; schemas are ``bench_<id>_<name>`` and topics
``bench.<id>.<name>``, all dropped/deleted at the end (also after a failure).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from dealerflow.runtime.db import create_pool, quote_ident
from dealerflow.runtime.kafka_admin import ensure_topics
from dealerflow.runtime.migrations import migrate, runtime_migrations

DEFAULT_KAFKA = "127.0.0.1:9092"
DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def progress(message: str) -> None:
    """A progress line on stderr (the tables go to stdout)."""
    print(f"  .. {message}", file=sys.stderr, flush=True)


@dataclass
class Figure:
    """One measured figure next to its baseline and target."""

    metric: str
    value: float | None
    baseline: float | None
    unit: str
    target: str = ""
    met: bool | None = None
    #: for lateness-like figures a smaller value is better (the ratio reads the other way)
    lower_is_better: bool = False
    note: str = ""
    #: median over the repeats of (figure / baseline) measured back to back; steadier than
    #: the ratio of the two medians when the machine's load changes during a run
    paired_ratio: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.paired_ratio is not None:
            return self.paired_ratio
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline


@dataclass
class BenchResult:
    """The outcome of one benchmark: its figures and what they were measured with."""

    name: str
    title: str
    baseline: str
    figures: list[Figure] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for fig, raw in zip(self.figures, data["figures"], strict=True):
            raw["ratio"] = fig.ratio
        return data


def fmt_number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "ms":
        return f"{value:,.1f} ms"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def render_table(result: BenchResult) -> str:
    """A plain-text table: metric, figure, baseline, ratio, target, met?"""
    header = ("metric", "figure", "baseline", "ratio", "target", "met?")
    rows = [header]
    for f in result.figures:
        ratio = f.ratio
        ratio_text = "-" if ratio is None else f"{ratio:.2f}x"
        met = "-" if f.met is None else ("yes" if f.met else "NO")
        metric = f"{f.metric} ({f.unit})" if f.unit and f.unit not in ("s", "ms") else f.metric
        rows.append(
            (
                metric,
                fmt_number(f.value, f.unit),
                fmt_number(f.baseline, f.unit),
                ratio_text,
                f.target or "-",
                met,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [f"== {result.title} =="]
    for index, row in enumerate(rows):
        cells = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append(f"baseline: {result.baseline}")
    for f in result.figures:
        if f.note:
            lines.append(f"note ({f.metric}): {f.note}")
    return "\n".join(lines)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summarize(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The median of every numeric figure over repeated runs, plus the runs themselves."""
    summary: dict[str, Any] = {}
    for key, first in runs[0].items():
        if isinstance(first, int | float) and not isinstance(first, bool):
            values = sorted(r[key] for r in runs if r.get(key) is not None)
            summary[key] = statistics.median(values) if values else None
        else:
            summary[key] = first
    if len(runs) > 1:
        summary["runs"] = list(runs)
    return summary


def paired_ratio(
    runs: Sequence[dict[str, Any]], baselines: Sequence[dict[str, Any]], key: str
) -> float | None:
    """Median of ``run[key] / baseline[key]`` over runs paired by repeat."""
    ratios = [
        r[key] / b[key]
        for r, b in zip(runs, baselines, strict=False)
        if r.get(key) is not None and b.get(key)
    ]
    return statistics.median(ratios) if ratios else None


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Infra:
    """Kafka + PostgreSQL of one run, with everything it creates cleaned up in ``close``."""

    def __init__(self, kafka: str, dsn: str) -> None:
        self.kafka = kafka
        self.dsn = dsn
        self.run_id = uuid.uuid4().hex[:8]
        self._schemas: list[str] = []
        self._topics: list[str] = []
        self._pools: list[asyncpg.Pool] = []

    def schema_name(self, name: str) -> str:
        return f"bench_{self.run_id}_{name}"

    def topic_name(self, name: str) -> str:
        return f"bench.{self.run_id}.{name}"

    async def schema(self, name: str) -> str:
        """A fresh schema with the runtime's tables (outbox, inbox, timers)."""
        schema = self.schema_name(name)
        self._schemas.append(schema)
        await migrate(self.dsn, schema, runtime_migrations())
        return schema

    async def pool(self, schema: str, *, size: int = 10) -> asyncpg.Pool:
        """A runtime pool on ``schema``; 10 connections like a service (pg_pool_max_size)."""
        pool = await create_pool(self.dsn, schema, min_size=1, max_size=size)
        self._pools.append(pool)
        return pool

    async def topic(self, name: str, *, partitions: int = 6) -> str:
        topic = self.topic_name(name)
        self._topics.append(topic)
        await ensure_topics(self.kafka, [topic], partitions=partitions)
        await self._wait_for_leaders(topic, partitions)
        return topic

    async def _wait_for_leaders(self, topic: str, partitions: int) -> None:
        # a topic is visible in metadata before its partitions have leaders; producing
        # then costs NotLeaderForPartition retries inside the measured time
        admin = AIOKafkaAdminClient(bootstrap_servers=self.kafka)
        await admin.start()
        try:
            deadline = time.perf_counter() + 30
            while True:
                (described,) = await admin.describe_topics([topic])
                parts = described.get("partitions") or []
                if len(parts) == partitions and all(p.get("leader", -1) >= 0 for p in parts):
                    break
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"topic {topic}: partitions without a leader")
                await asyncio.sleep(0.05)
        finally:
            await admin.close()
        await asyncio.sleep(0.5)  # let the leaders settle before the clock starts

    async def topic_offsets(self, topic: str) -> int:
        """Records in ``topic`` (sum over partitions of end - beginning offsets)."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.kafka)
        await consumer.start()
        try:
            parts = consumer.partitions_for_topic(topic)
            if not parts:
                await consumer._client.force_metadata_update()
                parts = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in parts]
            end = await consumer.end_offsets(tps)
            begin = await consumer.beginning_offsets(tps)
            return sum(end[tp] - begin[tp] for tp in tps)
        finally:
            await consumer.stop()

    async def close(self) -> None:
        """Drop the schemas and delete the topics of this run; say what could not be."""
        for pool in self._pools:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pool.close(), 10)
        try:
            await self._drop_schemas()
        except Exception as exc:
            progress(f"cleanup: could not drop schemas {self._schemas}: {exc!r}")
        try:
            await self._delete_topics()
        except Exception as exc:
            progress(f"cleanup: could not delete topics {self._topics}: {exc!r}")

    async def _drop_schemas(self) -> None:
        if not self._schemas:
            return
        conn = await asyncpg.connect(self.dsn)
        try:
            for schema in self._schemas:
                await conn.execute(f"DROP SCHEMA IF EXISTS {quote_ident(schema)} CASCADE")
        finally:
            await conn.close()

    async def _delete_topics(self) -> None:
        if not self._topics:
            return
        admin = AIOKafkaAdminClient(bootstrap_servers=self.kafka)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            doomed = [t for t in self._topics if t in existing]
            if doomed:
                await admin.delete_topics(doomed)
        finally:
            await admin.close()


def _cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


async def machine_info(infra: Infra) -> dict[str, Any]:
    """Where and with what the figures were measured."""
    versions = {}
    for dist in ("aiokafka", "asyncpg", "faststream", "pydantic", "opentelemetry-sdk"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[dist] = importlib.metadata.version(dist)
    conn = await asyncpg.connect(infra.dsn)
    try:
        pg_version = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    from dealerflow.devinfra.versions import KAFKA_VERSION

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": pg_version,
        "kafka": f"{KAFKA_VERSION} (devinfra pin) at {infra.kafka}",
        "packages": versions,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def write_json(path: str, payload: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, indent=2, default=str)
        fh.write("\n")
