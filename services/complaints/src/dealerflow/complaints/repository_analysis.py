"""SQL of the complaint analysis (GET /v1/complaints/analysis): counts, repeats, duration
percentiles and SLA compliance of a dealer's complaints opened in [starts_at, ends_before)
(None: open-ended). What a resolution recorded (cause, responsible department and person)
is read from the complaint's ``resolution``: the latest resolve's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dealerflow.complaints.domain_analysis import (
    AnalysisFacts,
    ClockTally,
    DimensionCount,
    Quantiles,
    RepeatCount,
    Repeats,
)
from dealerflow.runtime.db import DbConnection

#: The SQL expression each analysis dimension groups by ($4: the dealer's time zone).
DIMENSION_SQL: dict[str, str] = {
    "category": "category",
    "cause": "resolution->>'cause'",
    "department": "department",
    "responsible_department": "resolution->>'responsible_department'",
    # recorded by resolve once it names the responsible person; before that: not recorded
    "responsible_staff": "resolution->>'responsible_staff_id'",
    "responsibility": "resolution->>'responsibility'",
    "handler": "handler_id",
    "channel": "channel",
    "severity": "severity",
    "status": "status",
    "origin": "origin_kind",
    "month": "to_char(opened_at AT TIME ZONE $4, 'YYYY-MM')",
}

_SCOPE = (
    "dealer_id = $1 AND ($2::timestamptz IS NULL OR opened_at >= $2) "
    "AND ($3::timestamptz IS NULL OR opened_at < $3)"
)


async def analysis_facts(
    conn: DbConnection,
    dealer_id: str,
    *,
    starts_at: datetime | None,
    ends_before: datetime | None,
    time_zone: str,
    now: datetime,
    repeat_limit: int,
) -> AnalysisFacts:
    """What the analysis of the dealer's complaints opened in the period is made of."""
    args = (dealer_id, starts_at, ends_before)
    union = " UNION ALL ".join(
        f"SELECT '{name}' AS dimension, ({expression})::text AS k, count(*) AS n "
        f"FROM complaints WHERE {_SCOPE} GROUP BY 2"
        for name, expression in DIMENSION_SQL.items()
    )
    counts = await conn.fetch(union, *args, time_zone)
    times = await conn.fetchrow(
        f"""
        SELECT count(*) AS total,
            count(acknowledged_at) AS ack_n,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY {_secs("acknowledged_at")}) AS ack_p50,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY {_secs("acknowledged_at")}) AS ack_p90,
            count(first_resolved_at) AS res_n,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY {_secs("first_resolved_at")}) AS res_p50,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY {_secs("first_resolved_at")}) AS res_p90
        FROM complaints WHERE {_SCOPE}
        """,
        *args,
    )
    assert times is not None  # an aggregate always answers one row
    return AnalysisFacts(
        total=times["total"],
        counts=[DimensionCount(r["dimension"], r["k"], r["n"]) for r in counts],
        repeat_customers=await _repeats(conn, "customer_id::text", args, repeat_limit),
        repeat_vehicles=await _repeats(conn, "vin", args, repeat_limit),
        time_to_acknowledge=Quantiles(times["ack_n"], _f(times["ack_p50"]), _f(times["ack_p90"])),
        time_to_resolve=Quantiles(times["res_n"], _f(times["res_p50"]), _f(times["res_p90"])),
        clocks=await _clock_tallies(conn, args, now),
    )


async def _repeats(conn: DbConnection, key: str, args: tuple[Any, ...], limit: int) -> Repeats:
    rows = await conn.fetch(
        f"""
        SELECT {key} AS k, count(*) AS n, count(*) OVER () AS repeaters
        FROM complaints WHERE {_SCOPE} AND {key} IS NOT NULL
        GROUP BY 1 HAVING count(*) > 1
        ORDER BY 2 DESC, 1 LIMIT $4
        """,
        *args,
        limit,
    )
    total = rows[0]["repeaters"] if rows else 0
    return Repeats(total, [RepeatCount(r["k"], r["n"]) for r in rows])


async def _clock_tallies(
    conn: DbConnection, args: tuple[Any, ...], now: datetime
) -> list[ClockTally]:
    """Per clock kind, the clocks first due in the period (and by ``now``, unless already
    decided): met on time (never breached, stopped by its deadline as it stood), breached
    at least once, or still undecided. A clock stopped as moot (resolved without it) and
    never breached counts for nothing."""
    rows = await conn.fetch(
        """
        SELECT kind,
            count(*) FILTER (WHERE status = 'met' AND breaches = 0
                AND (due_at IS NULL OR stopped_at <= due_at)) AS met,
            count(*) FILTER (WHERE breaches > 0
                OR (status = 'met' AND due_at IS NOT NULL AND stopped_at > due_at)) AS breached,
            count(*) FILTER (WHERE breaches = 0 AND status IN ('running', 'paused', 'overdue')
                AND first_due_at <= $4) AS pending
        FROM complaint_clocks
        WHERE dealer_id = $1 AND ($2::timestamptz IS NULL OR first_due_at >= $2)
            AND ($3::timestamptz IS NULL OR first_due_at < $3)
        GROUP BY kind ORDER BY kind
        """,
        *args,
        now,
    )
    return [ClockTally(r["kind"], r["met"], r["breached"], r["pending"]) for r in rows]


def _secs(column: str) -> str:
    return f"extract(epoch FROM {column} - opened_at)"


def _f(value: Any) -> float | None:
    return None if value is None else float(value)
