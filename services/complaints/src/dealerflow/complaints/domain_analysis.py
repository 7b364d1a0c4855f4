"""Complaint analysis (GET /v1/complaints/analysis and the CSV export): the period a
manager asks for, and the shaping of what the repository counted into the answer. Pure:
no I/O; repository_analysis.py does the counting in SQL.

- The period is whole days in the dealer's time zone, both ends included.
- Counts by dimension; a complaint that has no value for a dimension yet (no cause before
  it is resolved, no department assigned) counts under ``NOT_RECORDED``, so each
  dimension adds up to the total. Causes are free text: spellings that differ only in
  case or spacing are one cause (`cause_key`).
- Months are the dealer's; every month of the period is listed, 0 included.
- Times to acknowledge / resolve are wall-clock (elapsed) seconds from opening, p50/p90
  as PostgreSQL's percentile_cont interpolates them; the SLA clocks themselves may count
  business time, the compliance rate says whether they were met.
- SLA compliance per clock kind: of the clocks whose (first) deadline falls in the
  period and that are decided (met, or breached at least once), the share met on time.
- The CSV export (`CSV_COLUMNS`): one row per complaint with the analysis columns, never
  the customer's contact or the complaint's free text; cells a spreadsheet would run as
  formulas are defused (`csv_cell`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

#: The key of complaints without a value for a dimension (no cause yet, no department).
NOT_RECORDED = "not_recorded"

#: Dimensions the analysis counts complaints by (the SQL groups by each).
DIMENSIONS: tuple[str, ...] = (
    "category",
    "cause",
    "department",
    "responsible_department",
    "responsible_staff",
    "responsibility",
    "handler",
    "channel",
    "severity",
    "status",
    "origin",
    "month",
)

#: How many repeat customers / vehicles the answer lists (the count covers them all).
REPEAT_LIST_LIMIT = 50


class PeriodInverted(ValueError):
    """An analysis period whose first day is after its last."""


@dataclass(frozen=True)
class Period:
    """An analysis period: [starts_at, ends_before) in UTC terms; None = open-ended."""

    first_day: date | None
    last_day: date | None
    starts_at: datetime | None
    ends_before: datetime | None


def period_of(first_day: date | None, last_day: date | None, tz: ZoneInfo) -> Period:
    """The days ``first_day`` .. ``last_day`` (both included) of the dealer's time zone."""
    if first_day is not None and last_day is not None and first_day > last_day:
        raise PeriodInverted(f"the period's start {first_day} is after its end {last_day}")
    starts = datetime.combine(first_day, time(), tz) if first_day else None
    ends = datetime.combine(last_day + timedelta(days=1), time(), tz) if last_day else None
    return Period(first_day, last_day, starts, ends)


def months_of(first_day: date, last_day: date) -> list[str]:
    """Every month (YYYY-MM) from ``first_day``'s to ``last_day``'s, in order."""
    months = []
    year, month = first_day.year, first_day.month
    while (year, month) <= (last_day.year, last_day.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def cause_key(cause: str | None) -> str | None:
    """The cause a free-text cause counts as: case and spacing do not make a new cause."""
    if cause is None:
        return None
    key = " ".join(cause.split()).casefold()
    return key or None


# -- what the repository counts ----------------------------------------------------------


@dataclass(frozen=True)
class DimensionCount:
    """``n`` complaints of the period have ``key`` (None: no value) for ``dimension``."""

    dimension: str
    key: str | None
    n: int


@dataclass(frozen=True)
class RepeatCount:
    """A customer (or vehicle) with ``n`` > 1 complaints in the period."""

    key: str
    n: int


@dataclass(frozen=True)
class Repeats:
    """Customers (or vehicles) with more than one complaint: how many, and the first ones
    (most complaints first)."""

    total: int
    top: list[RepeatCount]


@dataclass(frozen=True)
class Quantiles:
    """A duration over ``n`` complaints: p50 and p90 in seconds (None without any)."""

    n: int
    p50_s: float | None
    p90_s: float | None


@dataclass(frozen=True)
class ClockTally:
    """SLA clocks of one kind due in the period: met on time, breached, undecided."""

    kind: str
    met: int
    breached: int
    pending: int


@dataclass(frozen=True)
class ActionTally:
    """``n`` improvement actions against ``cause`` with ``status`` (open/done)."""

    cause: str
    status: str
    n: int


@dataclass(frozen=True)
class AnalysisFacts:
    """What the repository counted for a dealer and period."""

    total: int
    counts: list[DimensionCount]
    repeat_customers: Repeats
    repeat_vehicles: Repeats
    time_to_acknowledge: Quantiles
    time_to_resolve: Quantiles
    clocks: list[ClockTally]
    actions: list[ActionTally] = field(default_factory=list)


# -- the answer ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockCompliance:
    """One clock kind: decided = met + breached; rate = met / decided (None: none)."""

    met: int
    breached: int
    pending: int
    rate: float | None


@dataclass(frozen=True)
class ActionProgress:
    """Improvement actions against one cause."""

    open: int = 0
    done: int = 0


@dataclass(frozen=True)
class ComplaintAnalysis:
    """The analysis of a dealer's complaints over a period."""

    period: Period
    total: int
    by: dict[str, dict[str, int]]
    repeat_customers: Repeats
    repeat_vehicles: Repeats
    time_to_acknowledge: Quantiles
    time_to_resolve: Quantiles
    sla_compliance: dict[str, ClockCompliance]
    improvement_actions: dict[str, ActionProgress]


def analysis_of(facts: AnalysisFacts, period: Period) -> ComplaintAnalysis:
    """Shape the counted facts: per dimension a mapping key -> count, biggest first (ties
    by key), causes merged by `cause_key`, every month of a bounded period present."""
    by: dict[str, dict[str, int]] = {d: {} for d in DIMENSIONS}
    for c in facts.counts:
        key = cause_key(c.key) if c.dimension == "cause" else c.key
        bucket = by.setdefault(c.dimension, {})
        name = key if key is not None else NOT_RECORDED
        bucket[name] = bucket.get(name, 0) + c.n
    shaped = {d: _biggest_first(counts) for d, counts in by.items() if d != "month"}
    months = dict(sorted(by["month"].items()))
    if period.first_day is not None and period.last_day is not None:
        months = {m: months.get(m, 0) for m in months_of(period.first_day, period.last_day)}
    shaped["month"] = months
    return ComplaintAnalysis(
        period=period,
        total=facts.total,
        by=shaped,
        repeat_customers=facts.repeat_customers,
        repeat_vehicles=facts.repeat_vehicles,
        time_to_acknowledge=_rounded(facts.time_to_acknowledge),
        time_to_resolve=_rounded(facts.time_to_resolve),
        sla_compliance={t.kind: compliance_of(t) for t in sorted(facts.clocks, key=_kind)},
        improvement_actions=action_progress(facts.actions),
    )


def compliance_of(tally: ClockTally) -> ClockCompliance:
    """Met on time over decided clocks (pending ones are not counted either way)."""
    decided = tally.met + tally.breached
    rate = round(tally.met / decided, 4) if decided else None
    return ClockCompliance(tally.met, tally.breached, tally.pending, rate)


def action_progress(actions: Iterable[ActionTally]) -> dict[str, ActionProgress]:
    """Open and done improvement actions per cause (causes merged by `cause_key`)."""
    progress: dict[str, ActionProgress] = {}
    for a in actions:
        key = cause_key(a.cause) or NOT_RECORDED
        now = progress.get(key, ActionProgress())
        if a.status == "done":
            now = ActionProgress(now.open, now.done + a.n)
        else:
            now = ActionProgress(now.open + a.n, now.done)
        progress[key] = now
    return dict(sorted(progress.items()))


def _biggest_first(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _kind(tally: ClockTally) -> str:
    return tally.kind


def _rounded(q: Quantiles) -> Quantiles:
    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 1)

    return Quantiles(q.n, r(q.p50_s), r(q.p90_s))


# -- the CSV export ------------------------------------------------------------------------

#: Columns of the export, one row per complaint: the analysis dimensions and times, never
#: the customer's contact (no name, phone, e-mail) nor the complaint's free text.
CSV_COLUMNS: tuple[str, ...] = (
    "complaint_id",
    "opened_at",
    "month",
    "status",
    "channel",
    "category",
    "severity",
    "origin",
    "department",
    "handler_id",
    "responsibility",
    "responsible_department",
    "responsible_staff_id",
    "cause",
    "customer_id",
    "vin",
    "escalation_level",
    "reopen_count",
    "acknowledged_at",
    "first_resolved_at",
    "closed_at",
    "time_to_acknowledge_s",
    "time_to_resolve_s",
    "breached_clocks",
)

#: A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportRow:
    """One complaint as the export shows it."""

    complaint_id: str
    opened_at: datetime
    status: str
    channel: str
    category: str
    severity: str
    origin: str
    department: str | None
    handler_id: str
    responsibility: str | None
    responsible_department: str | None
    responsible_staff_id: str | None
    cause: str | None
    customer_id: str
    vin: str | None
    escalation_level: int
    reopen_count: int
    acknowledged_at: datetime | None
    first_resolved_at: datetime | None
    closed_at: datetime | None
    breached_clocks: Sequence[str] = ()


def csv_cell(value: object) -> str:
    """A value as a CSV cell; text a spreadsheet would run as a formula gets a leading
    apostrophe (OWASP CSV injection), numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def csv_fields(row: ExportRow, tz: ZoneInfo) -> list[str]:
    """The cells of one complaint, in `CSV_COLUMNS` order (month in the dealer's zone)."""
    values: dict[str, object] = {
        "complaint_id": row.complaint_id,
        "opened_at": row.opened_at,
        "month": row.opened_at.astimezone(tz).strftime("%Y-%m"),
        "status": row.status,
        "channel": row.channel,
        "category": row.category,
        "severity": row.severity,
        "origin": row.origin,
        "department": row.department,
        "handler_id": row.handler_id,
        "responsibility": row.responsibility,
        "responsible_department": row.responsible_department,
        "responsible_staff_id": row.responsible_staff_id,
        "cause": row.cause,
        "customer_id": row.customer_id,
        "vin": row.vin,
        "escalation_level": row.escalation_level,
        "reopen_count": row.reopen_count,
        "acknowledged_at": row.acknowledged_at,
        "first_resolved_at": row.first_resolved_at,
        "closed_at": row.closed_at,
        "time_to_acknowledge_s": _elapsed(row.opened_at, row.acknowledged_at),
        "time_to_resolve_s": _elapsed(row.opened_at, row.first_resolved_at),
        "breached_clocks": " ".join(sorted(row.breached_clocks)),
    }
    return [csv_cell(values[c]) for c in CSV_COLUMNS]


def csv_text(rows: Iterable[Sequence[str]]) -> str:
    """CSV text (RFC 4180: CRLF line ends, quoted where needed) of rows of cells."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def _elapsed(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds(), 1)
