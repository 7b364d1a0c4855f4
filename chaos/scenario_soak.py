"""Scenario ``soak``: a steady load for a long stretch of the accelerated clock, the
services' memory, descriptors and tables sampled at a fixed interval.

The load is :mod:`chaos.load`'s mixed load in *waves* (:data:`WAVE_SCALE`, a dealer of
its own each, its effects counted until they settle, then the next wave) until
``soak_minutes`` of wall time have passed: at the default clock (x7200) 30 minutes are
150 days of the services' clock, so every retention the runtime applies on the services'
clock has elapsed many times over. Meanwhile a sampler records, every ``sample_s``:

- per service process: the resident memory (``VmRSS`` of ``/proc/<pid>/status``) and the
  open descriptors (the entries of ``/proc/<pid>/fd``);
- per service schema: the row count of every table (the runtime's ``outbox``, ``inbox``,
  ``timers`` (pending ones apart), ``idempotency_keys`` and the domain tables) and the
  schema's total size (``pg_total_relation_size`` over its tables).

The verdict (:func:`verdict`): every wave's effects there exactly once, none early; memory
flat (each service's mean RSS over the last third of the samples within
:data:`RSS_TOLERANCE` of its mean over the second third: the first third is the warm-up,
imports, caches and pools filling); descriptors bounded (the last third's maximum at most
:data:`FD_SLACK` above the second third's); the purged tables bounded (the last third's
maximum at most :data:`ROWS_TOLERANCE` above the second third's maximum plus one wave's
rows: a table that keeps only what retention allows plateaus, one that keeps everything
grows with the load). Domain tables grow with the load by design; they are reported.
And no row is older than its retention allows (:func:`age_checks`): at every sample taken
once a retention has passed since the soak started, the oldest inbox row, idempotency key
and fired or cancelled timer of every schema is at most its retention plus two purge
intervals (and :data:`AGE_SLACK_S`) old: a purge that runs but deletes the wrong rows, or
one interval late each time, fails it even while the table's size looks flat.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from statistics import mean

import asyncpg

from chaos.effects import Observation, Row
from chaos.harness import Harness
from chaos.load import Scale, Sent
from chaos.scenarios import RunSettings, ScenarioResult, run_with_faults
from dealerflow.runtime.settings import ServiceSettings

#: One wave: a little of every kind of action over 30 s (about one action a second).
WAVE_SCALE = Scale(
    leads=10, deliveries=4, repairs=4, outside_deliveries=4, test_drives=4, spread_s=30, workers=2
)
#: The runtime's tables a purge keeps bounded (per schema, those it has).
PURGED_TABLES = ("outbox", "inbox", "timers", "idempotency_keys", "idempotent_requests")
#: Memory is flat when the last third's mean RSS is within this fraction of the second's.
RSS_TOLERANCE = 0.10
#: Descriptors are bounded when the last third's maximum is at most this many above the
#: second third's (a connection or two opened late, a log rotation).
FD_SLACK = 8
#: A purged table is bounded when the last third's maximum is at most this fraction above
#: the second third's maximum (plus one wave of rows).
ROWS_TOLERANCE = 0.10
#: The slack of the row-age check beyond two purge intervals: a sample's own duration.
AGE_SLACK_S = 5.0
#: The tables the purge ages out, the setting of each one's retention (days of the
#: services' clock), and whether its stamps are on the services' clock (timers) or real
#: time (the database's ``now()``).
AGED_TABLES = {
    "inbox": ("purge_inbox_days", False),
    "idempotency_keys": ("purge_idempotency_days", False),
    "timers": ("purge_timers_days", True),
}
_OLDEST = {
    "inbox": "SELECT min(received_at) FROM {}",
    "idempotency_keys": "SELECT min(created_at) FROM {}",
    "timers": "SELECT min(coalesce(fired_at, due_at)) FROM {} "
    "WHERE status IN ('fired', 'cancelled')",
}


@dataclass
class Sample:
    """One sampling of every service process and schema."""

    at_s: float  # wall seconds since the soak started
    rss_kib: dict[str, int]
    fds: dict[str, int]
    #: "schema.table" -> rows ("schema.timers:pending" for the pending timers)
    rows: dict[str, int]
    #: schema -> bytes of all its tables (indexes and TOAST included)
    schema_bytes: dict[str, int]
    waves: int  # waves completed when it was taken
    #: "schema.table" -> wall seconds since its oldest row the purge ages out was stamped
    #: (:data:`AGED_TABLES`; a timer's stamp on the services' clock, converted)
    oldest_s: dict[str, float] = field(default_factory=dict)


@dataclass
class Check:
    """One line of the verdict."""

    what: str
    ok: bool
    detail: str


@dataclass
class SoakResult(ScenarioResult):
    """The soak's waves, merged, and its samples and verdict."""

    waves: list[ScenarioResult] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return super().ok and all(c.ok for c in self.checks)

    def table(self) -> str:
        lines = [super().table(), "", samples_table(self.samples), ""]
        lines.append(f"soak verdict ({len(self.waves)} waves, {len(self.samples)} samples):")
        lines.extend(f"  {'ok  ' if c.ok else 'FAIL'} {c.what}: {c.detail}" for c in self.checks)
        return "\n".join(lines)


# -- sampling -----------------------------------------------------------------------------


def _proc_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def process_figures(pids: dict[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """(RSS in KiB, open descriptors) of each process; -1 for one gone."""
    rss: dict[str, int] = {}
    fds: dict[str, int] = {}
    for name, pid in pids.items():
        try:
            rss[name] = _proc_rss_kib(pid)
            fds[name] = len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            rss[name], fds[name] = -1, -1
    return rss, fds


_TABLES = """
SELECT n.nspname AS schema, c.relname AS table, pg_total_relation_size(c.oid) AS bytes
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND starts_with(n.nspname, $1)
ORDER BY 1, 2
"""


async def table_figures(
    conn: asyncpg.Connection, harness: Harness
) -> tuple[dict[str, int], dict[str, int], dict[str, float]]:
    """(rows per "schema.table", bytes per schema, wall seconds since the oldest row the
    purge ages out per "schema.table") of the run's schemas."""
    schema_prefix = harness.config.schema_prefix
    rows: dict[str, int] = {}
    sizes: dict[str, int] = {}
    oldest: dict[str, float] = {}
    for rec in await conn.fetch(_TABLES, schema_prefix):
        schema, table = rec["schema"], rec["table"]
        short = schema.removeprefix(schema_prefix)
        sizes[short] = sizes.get(short, 0) + int(rec["bytes"])
        name = f'"{schema}"."{table}"'
        count = await conn.fetchval(f"SELECT count(*) FROM {name}")
        rows[f"{short}.{table}"] = int(count)
        if table == "timers":
            pending = await conn.fetchval(f"SELECT count(*) FROM {name} WHERE status = 'pending'")
            rows[f"{short}.timers:pending"] = int(pending)
        if table in _OLDEST and (stamp := await conn.fetchval(_OLDEST[table].format(name))):
            services_clock = AGED_TABLES[table][1]
            now = harness.now() if services_clock else datetime.now(UTC)
            age = (now - stamp).total_seconds()
            oldest[f"{short}.{table}"] = harness.real_seconds(age) if services_clock else age
    return rows, sizes, oldest


async def _sampler(
    harness: Harness,
    sample_s: float,
    samples: list[Sample],
    waves: list[ScenarioResult],
    stop: asyncio.Event,
) -> None:
    conn = await asyncpg.connect(harness.config.pg_dsn)
    started = time.monotonic()
    try:
        while True:
            pids = {name: h.pid for name, h in harness.handles.items()}
            rss, fds = process_figures(pids)
            rows, sizes, oldest = await table_figures(conn, harness)
            sample = Sample(time.monotonic() - started, rss, fds, rows, sizes, len(waves), oldest)
            samples.append(sample)
            print(sample_line(sample), flush=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), sample_s)
            if stop.is_set():
                return
    finally:
        await conn.close()


# -- the table and the verdict -------------------------------------------------------------


def _short(service: str) -> str:
    return {"service-center": "svc", "complaints": "cmpl", "notifier": "ntf"}.get(
        service, service[:5]
    )


def _purged(sample: Sample) -> dict[str, int]:
    """Rows of the purged tables summed over the schemas, by table."""
    out: dict[str, int] = {}
    for key, n in sample.rows.items():
        table = key.split(".", 1)[1]
        if table in PURGED_TABLES or table == "timers:pending":
            out[table] = out.get(table, 0) + n
    return out


def sample_line(s: Sample) -> str:
    mem = " ".join(f"{_short(k)}={v // 1024}M/{s.fds[k]}fd" for k, v in s.rss_kib.items())
    purged = " ".join(f"{k}={v}" for k, v in sorted(_purged(s).items()))
    return f"  soak sample {s.at_s:6.0f} s, {s.waves:3d} waves: {mem} | {purged}"


def samples_table(samples: Sequence[Sample]) -> str:
    """The per-sample table: minute, waves, RSS MiB and fds per service, the purged
    tables' rows (summed over the schemas), the main domain tables' rows, MiB of tables."""
    if not samples:
        return "no samples"
    services = list(samples[0].rss_kib)
    purged = sorted({k for s in samples for k in _purged(s)})
    domain = [k for k in MAIN_DOMAIN_TABLES if any(k in s.rows for s in samples)]
    head = ["min", "waves"]
    head += [f"{_short(n)} MiB/fd" for n in services]
    head += purged + [k.split(".", 1)[1] for k in domain] + ["tables MiB"]
    body = []
    for s in samples:
        line = [f"{s.at_s / 60:.1f}", str(s.waves)]
        line += [f"{s.rss_kib[n] / 1024:.0f}/{s.fds[n]}" for n in services]
        p = _purged(s)
        line += [str(p.get(k, 0)) for k in purged]
        line += [str(s.rows.get(k, 0)) for k in domain]
        line.append(f"{sum(s.schema_bytes.values()) / 2**20:.1f}")
        body.append(line)
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    return "\n".join(
        "  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *body]
    )


#: The domain tables shown in the table (per schema; grown by the load by design).
MAIN_DOMAIN_TABLES = (
    "leads.leads",
    "sales.contracts",
    "service_center.repair_orders",
    "notifier.tasks",
    "notifier.reminders",
)


def _thirds(samples: Sequence[Sample]) -> tuple[list[Sample], list[Sample]]:
    n = len(samples)
    return list(samples[n // 3 : 2 * n // 3]), list(samples[2 * n // 3 :])


def verdict(samples: Sequence[Sample], wave_rows: int) -> list[Check]:
    """The soak's checks over ``samples`` (at least six: thirds of two)."""
    if len(samples) < 6:
        return [Check("samples", False, f"{len(samples)} samples, at least 6 needed")]
    second, last = _thirds(samples)
    checks: list[Check] = []
    for name in samples[0].rss_kib:
        a = mean(s.rss_kib[name] for s in second) / 1024
        b = mean(s.rss_kib[name] for s in last) / 1024
        ok = min(s.rss_kib[name] for s in samples) > 0 and b <= a * (1 + RSS_TOLERANCE)
        checks.append(
            Check(f"{name} memory flat", ok, f"mean RSS {a:.1f} -> {b:.1f} MiB ({b / a - 1:+.1%})")
        )
        fa = max(s.fds[name] for s in second)
        fb = max(s.fds[name] for s in last)
        checks.append(
            Check(f"{name} descriptors bounded", fb <= fa + FD_SLACK, f"max fds {fa} -> {fb}")
        )
    for key in _purged_keys(samples):
        ra = max(_purged_rows(s, key) for s in second)
        rb = max(_purged_rows(s, key) for s in last)
        ok = rb <= ra * (1 + ROWS_TOLERANCE) + wave_rows
        what = f"{key} (fired and cancelled)" if key.endswith(".timers") else key
        checks.append(Check(f"{what} bounded", ok, f"max rows {ra} -> {rb}"))
    return checks


@dataclass(frozen=True)
class Retentions:
    """What the services' purge keeps, in wall seconds (the retentions are days of the
    services' clock), and how often it runs."""

    wall_s: dict[str, float]  # table -> its retention in wall seconds
    interval_s: float

    @classmethod
    def of(cls, harness: Harness) -> Retentions:
        """The retentions the stack's services run with (their environment, else the
        settings' defaults)."""
        env = harness.config.extra_env
        defaults = ServiceSettings.model_fields
        wall: dict[str, float] = {}
        for table, (setting, _) in AGED_TABLES.items():
            raw = env.get(f"DEALERFLOW_{setting.upper()}", defaults[setting].default)
            wall[table] = harness.real_seconds(float(raw) * 86_400)
        interval = env.get("DEALERFLOW_PURGE_INTERVAL_S", defaults["purge_interval_s"].default)
        return cls(wall, float(interval))

    def bound_s(self, table: str) -> float:
        """The oldest a row of ``table`` may be: its retention, two purge intervals (the
        purge that finds it due may start an interval after it is due) and a sample's
        duration."""
        return self.wall_s[table] + 2 * self.interval_s + AGE_SLACK_S


def age_checks(samples: Sequence[Sample], retentions: Retentions) -> list[Check]:
    """Per aged table: at every sample taken once its retention has passed since the
    first, no row older than :meth:`Retentions.bound_s` (the oldest seen is reported)."""
    if not samples:
        return []
    checks: list[Check] = []
    for table in AGED_TABLES:
        bound = retentions.bound_s(table)
        due = [s for s in samples if s.at_s - samples[0].at_s >= retentions.wall_s[table]]
        ages = [
            (age, s.at_s, key)
            for s in due
            for key, age in s.oldest_s.items()
            if key.split(".", 1)[1] == table
        ]
        what = f"{table} rows within retention"
        if not due:
            detail = f"not checked: no sample {retentions.wall_s[table]:.0f} s after the first"
            checks.append(Check(what, True, detail))
            continue
        worst = max(ages, default=(0.0, 0.0, "-"))
        detail = (
            f"oldest {worst[0]:.0f} s ({worst[2]} at {worst[1]:.0f} s) of at most {bound:.0f} s "
            f"(retention {retentions.wall_s[table]:.0f} s, purge every "
            f"{retentions.interval_s:g} s), {len(due)} samples"
        )
        checks.append(Check(what, worst[0] <= bound, detail))
    return checks


def _purged_rows(sample: Sample, key: str) -> int:
    """The rows of ``key`` the purge is for: of the timers, those fired or cancelled (a
    pending timer is business state: the next maintenance of every vehicle serviced, one
    per vehicle, grows with the customers, not with time, and is never purged)."""
    rows = sample.rows.get(key, 0)
    if key.endswith(".timers"):
        rows -= sample.rows.get(f"{key}:pending", 0)
    return rows


def _purged_keys(samples: Iterable[Sample]) -> list[str]:
    keys = {k for s in samples for k in s.rows}
    return sorted(k for k in keys if k.split(".", 1)[1] in PURGED_TABLES)


def merged(waves: Sequence[ScenarioResult]) -> tuple[Observation, Sent]:
    """The waves' observations as one (keys prefixed with the wave's number)."""
    rows: dict[str, Row] = {}
    sent = Sent()
    records = redelivered = 0
    for i, wave in enumerate(waves):
        records += wave.observation.records
        redelivered += wave.observation.redelivered
        sent.actions.extend(wave.sent.actions)
        sent.done.update({f"{i}:{k}": v for k, v in wave.sent.done.items()})
        sent.failed.update({f"{i}:{k}": v for k, v in wave.sent.failed.items()})
        sent.retries += wave.sent.retries
        for row in wave.observation.rows:
            into = rows.setdefault(row.effect, Row(row.effect, 0))
            into.sent += row.sent
            into.expected |= {f"{i}:{k}" for k in row.expected}
            into.observed.update({f"{i}:{k}": n for k, n in row.observed.items()})
            into.early += row.early
            into.late += row.late
            if row.settled_s is not None:
                into.settled_s = max(into.settled_s or 0.0, row.settled_s)
    return Observation(list(rows.values()), records, redelivered), sent


# -- the scenario ---------------------------------------------------------------------------


async def soak(harness: Harness, settings: RunSettings) -> SoakResult:
    """Waves of the mixed load for ``settings.soak_minutes``, sampled every
    ``settings.sample_s``; the verdict over the samples."""
    started = time.monotonic()
    first_fault = len(harness.faults)
    samples: list[Sample] = []
    waves: list[ScenarioResult] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(_sampler(harness, settings.sample_s, samples, waves, stop))
    try:
        end = started + settings.soak_minutes * 60
        # the next wave only if it can end in time (it takes about as long as the last)
        while time.monotonic() + (waves[-1].wall_s if waves else 0.0) < end:
            wave_settings = RunSettings(WAVE_SCALE, settings.seed * 1000 + len(waves))
            wave = await run_with_faults(f"soak-{len(waves)}", harness, wave_settings, None)
            waves.append(wave)
            totals = wave.observation.totals()
            print(
                f"  soak wave {len(waves)}: {len(wave.sent.actions)} actions, "
                f"{wave.wall_s:.0f} s, lost {totals['lost']} dup {totals['duplicated']} "
                f"early {totals['early']} late {totals['late']}, "
                f"{len(wave.sent.failed)} given up",
                flush=True,
            )
    finally:
        stop.set()
        await sampler
    observation, sent = merged(waves)
    wave_rows = sum(r.sent for r in waves[0].observation.rows) if waves else 0
    return SoakResult(
        "soak",
        settings.seed,
        observation,
        sent,
        harness.faults[first_fault:],
        time.monotonic() - started,
        waves=waves,
        samples=samples,
        checks=[*verdict(samples, wave_rows), *age_checks(samples, Retentions.of(harness))],
    )
