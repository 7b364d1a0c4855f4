"""What managers read to improve: the analysis of a dealer's complaints over a period
(days of the dealer's time zone, both included), shaped by `domain_analysis`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dealerflow.complaints import repository_analysis
from dealerflow.complaints.domain_analysis import (
    REPEAT_LIST_LIMIT,
    ComplaintAnalysis,
    analysis_of,
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


async def complaint_analysis(uc: Uc, cmd: AnalysePeriod) -> ComplaintAnalysis:
    """Counts by dimension and month, repeats, p50/p90 times and SLA compliance."""
    policy = await uc.policy(cmd.dealer_id)
    period = period_of(cmd.first_day, cmd.last_day, policy.calendar.tz)
    facts = await repository_analysis.analysis_facts(
        uc.conn,
        cmd.dealer_id,
        starts_at=period.starts_at,
        ends_before=period.ends_before,
        time_zone=policy.calendar.time_zone,
        now=uc.now,
        repeat_limit=REPEAT_LIST_LIMIT,
    )
    return analysis_of(facts, period)
