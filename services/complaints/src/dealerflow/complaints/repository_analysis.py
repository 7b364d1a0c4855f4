"""SQL of the complaint analysis (GET /v1/complaints/analysis): counts, repeats, duration
percentiles and SLA compliance of a dealer's complaints opened in a period
([starts_at, ends_before), None: open-ended), and the rows of the CSV export. What a
resolution recorded (cause, responsible department and person) is read from the
complaint's ``resolution``: the latest resolve's."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from dealerflow.complaints.domain_analysis import (
    ActionTally,
    AnalysisFacts,
    ClockTally,
    DimensionCount,
    ExportRow,
    Period,
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


def _scope(table: str = "") -> str:
    """The dealer's complaints opened in the period ($1 dealer, $2 from, $3 before)."""
    c = f"{table}." if table else ""
    return (
        f"{c}dealer_id = $1 AND ($2::timestamptz IS NULL OR {c}opened_at >= $2) "
        f"AND ($3::timestamptz IS NULL OR {c}opened_at < $3)"
    )


_SCOPE = _scope()


async def analysis_facts(
    conn: DbConnection,
    dealer_id: str,
    period: Period,
    *,
    time_zone: str,
    now: datetime,
    repeat_limit: int,
) -> AnalysisFacts:
    """What the analysis of the dealer's complaints opened in the period is made of."""
    args = (dealer_id, period.starts_at, period.ends_before)
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
        actions=await _action_tallies(conn, dealer_id),
    )


async def _action_tallies(conn: DbConnection, dealer_id: str) -> list[ActionTally]:
    """Every improvement action of the dealer (whenever recorded), by cause and status."""
    rows = await conn.fetch(
        "SELECT cause_key, status, count(*) AS n FROM improvement_actions "
        "WHERE dealer_id = $1 GROUP BY 1, 2 ORDER BY 1, 2",
        dealer_id,
    )
    return [ActionTally(r["cause_key"], r["status"], r["n"]) for r in rows]


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


async def export_rows(
    conn: DbConnection,
    dealer_id: str,
    period: Period,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[ExportRow]:
    """The next ``limit`` complaints of the period, oldest first, after a keyset position
    (opened_at, id), with the kinds of their clocks ever breached."""
    rows = await conn.fetch(
        f"""
        SELECT c.id::text AS complaint_id, c.opened_at, c.status, c.channel, c.category,
            c.severity, c.origin_kind, c.department, c.handler_id,
            c.resolution->>'responsibility' AS responsibility,
            c.resolution->>'responsible_department' AS responsible_department,
            c.resolution->>'responsible_staff_id' AS responsible_staff_id,
            c.resolution->>'cause' AS cause, c.customer_id::text AS customer_id, c.vin,
            c.escalation_level, c.reopen_count, c.acknowledged_at, c.first_resolved_at,
            c.closed_at,
            ARRAY(SELECT DISTINCT k.kind FROM complaint_clocks k
                  WHERE k.dealer_id = c.dealer_id AND k.complaint_id = c.id AND k.breaches > 0
                  ORDER BY 1) AS breached_clocks
        FROM complaints c
        WHERE {_scope("c")}
            AND ($4::timestamptz IS NULL OR (c.opened_at, c.id) > ($4, $5::uuid))
        ORDER BY c.opened_at, c.id
        LIMIT $6
        """,
        dealer_id,
        period.starts_at,
        period.ends_before,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [
        ExportRow(
            complaint_id=r["complaint_id"],
            opened_at=r["opened_at"],
            status=r["status"],
            channel=r["channel"],
            category=r["category"],
            severity=r["severity"],
            origin=r["origin_kind"],
            department=r["department"],
            handler_id=r["handler_id"],
            responsibility=r["responsibility"],
            responsible_department=r["responsible_department"],
            responsible_staff_id=r["responsible_staff_id"],
            cause=r["cause"],
            customer_id=r["customer_id"],
            vin=r["vin"],
            escalation_level=r["escalation_level"],
            reopen_count=r["reopen_count"],
            acknowledged_at=r["acknowledged_at"],
            first_resolved_at=r["first_resolved_at"],
            closed_at=r["closed_at"],
            breached_clocks=tuple(r["breached_clocks"]),
        )
        for r in rows
    ]


def _secs(column: str) -> str:
    return f"extract(epoch FROM {column} - opened_at)"


def _f(value: Any) -> float | None:
    return None if value is None else float(value)
