"""What managers read to improve: the analysis of a dealer's complaints over a period
(days of the dealer's time zone, both included), shaped by `domain_analysis`, and the
same complaints as CSV, one batch of rows per transaction (the export streams)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dealerflow.complaints import repository_analysis
from dealerflow.complaints.domain_analysis import (
    CSV_COLUMNS,
    REPEAT_LIST_LIMIT,
    ComplaintAnalysis,
    Period,
    analysis_of,
    csv_fields,
    csv_text,
    period_of,
)
from dealerflow.complaints.usecases import Uc


@dataclass(frozen=True)
class AnalysePeriod:
    """Analyse the dealer's complaints opened from ``first_day`` to ``last_day`` (both
    included; None: open-ended)."""

    dealer_id: str
    first_day: date | None = None
    last_day: date | None = None


async def _period(uc: Uc, cmd: AnalysePeriod) -> tuple[ZoneInfo, Period]:
    """The dealer's time zone and the period in it."""
    tz = (await uc.policy(cmd.dealer_id)).calendar.tz
    return tz, period_of(cmd.first_day, cmd.last_day, tz)


async def complaint_analysis(uc: Uc, cmd: AnalysePeriod) -> ComplaintAnalysis:
    """Counts by dimension and month, repeats, p50/p90 times and SLA compliance."""
    tz, period = await _period(uc, cmd)
    facts = await repository_analysis.analysis_facts(
        uc.conn,
        cmd.dealer_id,
        period,
        time_zone=tz.key,
        now=uc.now,
        repeat_limit=REPEAT_LIST_LIMIT,
    )
    return analysis_of(facts, period)


#: Complaints per batch of the CSV export (one transaction each).
EXPORT_BATCH = 500


@dataclass(frozen=True)
class ExportBatch:
    """One batch of the CSV export: its text (the header first in the first batch) and
    the keyset position of its last complaint (None: that was the last batch)."""

    text: str
    after: tuple[datetime, uuid.UUID] | None


async def export_batch(
    uc: Uc,
    cmd: AnalysePeriod,
    after: tuple[datetime, uuid.UUID] | None,
    *,
    limit: int | None = None,
) -> ExportBatch:
    """The CSV rows of the period's complaints after ``after`` (None: from the first, with
    the header line), oldest first."""
    limit = limit or EXPORT_BATCH
    tz, period = await _period(uc, cmd)
    rows = await repository_analysis.export_rows(
        uc.conn, cmd.dealer_id, period, after=after, limit=limit
    )
    lines = [csv_fields(r, tz) for r in rows]
    header = [list(CSV_COLUMNS)] if after is None else []
    last = (rows[-1].opened_at, uuid.UUID(rows[-1].complaint_id)) if len(rows) == limit else None
    return ExportBatch(csv_text([*header, *lines]), last)
