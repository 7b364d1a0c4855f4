"""Response bodies of the complaint analysis (GET /v1/complaints/analysis)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from dealerflow.complaints.domain_analysis import (
    NOT_RECORDED,
    ActionProgress,
    ClockCompliance,
    ComplaintAnalysis,
    Quantiles,
    Repeats,
)


class PeriodView(BaseModel):
    first_day: date | None = Field(description="First day (dealer's time zone), included.")
    last_day: date | None = Field(description="Last day (dealer's time zone), included.")
    starts_at: datetime | None
    ends_before: datetime | None


class RepeatView(BaseModel):
    key: str
    complaints: int


class RepeatsView(BaseModel):
    total: int = Field(description="How many have more than one complaint in the period.")
    top: list[RepeatView] = Field(description="The first ones, most complaints first.")

    @classmethod
    def of(cls, r: Repeats) -> RepeatsView:
        return cls(total=r.total, top=[RepeatView(key=t.key, complaints=t.n) for t in r.top])


class DurationView(BaseModel):
    """Wall-clock (elapsed) seconds from opening, over the complaints that got there."""

    complaints: int
    p50_s: float | None
    p90_s: float | None

    @classmethod
    def of(cls, q: Quantiles) -> DurationView:
        return cls(complaints=q.n, p50_s=q.p50_s, p90_s=q.p90_s)


class ComplianceView(BaseModel):
    met: int = Field(description="Met by the deadline, never breached.")
    breached: int = Field(description="Breached at least once (or met late).")
    pending: int = Field(description="Past their first deadline, not decided yet.")
    rate: float | None = Field(description="met / (met + breached); null when none decided.")

    @classmethod
    def of(cls, c: ClockCompliance) -> ComplianceView:
        return cls(met=c.met, breached=c.breached, pending=c.pending, rate=c.rate)


class ActionProgressView(BaseModel):
    open: int
    done: int

    @classmethod
    def of(cls, a: ActionProgress) -> ActionProgressView:
        return cls(open=a.open, done=a.done)


class ComplaintAnalysisView(BaseModel):
    """A dealer's complaints opened in the period, counted and timed."""

    dealer_id: str
    period: PeriodView
    total: int
    by: dict[str, dict[str, int]] = Field(
        description="Per dimension (category, cause, department, responsible_department, "
        "responsible_staff, responsibility, handler, channel, severity, status, origin, "
        f"month), complaints per value, biggest first; {NOT_RECORDED!r} = no value yet. "
        "Months (YYYY-MM, dealer's time zone) in order, every month of the period."
    )
    repeat_customers: RepeatsView
    repeat_vehicles: RepeatsView = Field(description="By VIN.")
    time_to_acknowledge: DurationView
    time_to_resolve: DurationView = Field(description="To the first resolution.")
    sla_compliance: dict[str, ComplianceView] = Field(
        description="Per clock kind, the clocks whose first deadline falls in the period."
    )
    improvement_actions: dict[str, ActionProgressView] = Field(
        description="Improvement actions per cause (all, whenever recorded)."
    )

    @classmethod
    def of(cls, dealer_id: str, a: ComplaintAnalysis) -> ComplaintAnalysisView:
        return cls(
            dealer_id=dealer_id,
            period=PeriodView(
                first_day=a.period.first_day,
                last_day=a.period.last_day,
                starts_at=a.period.starts_at,
                ends_before=a.period.ends_before,
            ),
            total=a.total,
            by=a.by,
            repeat_customers=RepeatsView.of(a.repeat_customers),
            repeat_vehicles=RepeatsView.of(a.repeat_vehicles),
            time_to_acknowledge=DurationView.of(a.time_to_acknowledge),
            time_to_resolve=DurationView.of(a.time_to_resolve),
            sla_compliance={k: ComplianceView.of(c) for k, c in a.sla_compliance.items()},
            improvement_actions={
                k: ActionProgressView.of(p) for k, p in a.improvement_actions.items()
            },
        )
