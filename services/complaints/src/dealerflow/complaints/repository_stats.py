"""SQL of complaint analysis (GET /v1/complaints/stats). Scoped by dealer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dealerflow.complaints.records import ComplaintCounts
from dealerflow.runtime.db import DbConnection


async def complaint_stats(
    conn: DbConnection,
    dealer_id: str,
    *,
    opened_from: datetime | None,
    opened_to: datetime | None,
    time_zone: str,
) -> ComplaintCounts:
    """Counts and mean times of the dealer's complaints opened in [from, to)."""
    scope = (
        "dealer_id = $1 AND ($2::timestamptz IS NULL OR opened_at >= $2) "
        "AND ($3::timestamptz IS NULL OR opened_at < $3)"
    )
    args = (dealer_id, opened_from, opened_to)
    totals = await conn.fetchrow(
        f"""
        SELECT count(*) AS total,
               count(*) FILTER (WHERE escalation_level > 0) AS escalated,
               count(*) FILTER (WHERE reopen_count > 0) AS reopened,
               avg(extract(epoch FROM acknowledged_at - opened_at)) AS ack_s,
               avg(extract(epoch FROM first_resolved_at - opened_at)) AS resolve_s
        FROM complaints WHERE {scope}
        """,
        *args,
    )
    assert totals is not None  # an aggregate always returns a row
    counts: dict[str, dict[str, int]] = {}
    for column in ("category", "status", "severity", "origin_kind", "channel"):
        rows = await conn.fetch(
            f"SELECT {column} AS k, count(*) AS n FROM complaints WHERE {scope} GROUP BY 1",
            *args,
        )
        counts[column] = {r["k"]: r["n"] for r in rows}
    months = await conn.fetch(
        f"SELECT to_char(opened_at AT TIME ZONE $4, 'YYYY-MM') AS k, count(*) AS n "
        f"FROM complaints WHERE {scope} GROUP BY 1 ORDER BY 1",
        *args,
        time_zone,
    )
    breaches = await conn.fetch(
        f"""
        SELECT k.kind AS k, count(*) AS n FROM complaint_clocks k
        JOIN complaints c ON c.id = k.complaint_id AND c.dealer_id = k.dealer_id
        WHERE k.dealer_id = $1 AND k.breaches > 0 AND c.id IN (
            SELECT id FROM complaints WHERE {scope})
        GROUP BY 1
        """,
        *args,
    )
    repeat = await conn.fetchval(
        f"""
        SELECT count(*) FROM (
            SELECT customer_id FROM complaints WHERE {scope}
            GROUP BY customer_id HAVING count(*) > 1) repeaters
        """,
        *args,
    )
    return ComplaintCounts(
        total=totals["total"],
        escalated=totals["escalated"],
        reopened=totals["reopened"],
        mean_time_to_acknowledge_s=_seconds(totals["ack_s"]),
        mean_time_to_resolve_s=_seconds(totals["resolve_s"]),
        by_category=counts["category"],
        by_status=counts["status"],
        by_severity=counts["severity"],
        by_origin=counts["origin_kind"],
        by_channel=counts["channel"],
        by_month={r["k"]: r["n"] for r in months},
        breached_clocks={r["k"]: r["n"] for r in breaches},
        customers_with_repeat_complaints=repeat,
    )


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)
