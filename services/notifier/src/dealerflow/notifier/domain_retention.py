"""The advisor's retention call (issue 12 item 6): opened by CustomerAtRisk (service-center's
daily retention scan). Pure rules, no I/O.

One task per VIN, level and spell without a visit (the last visit it counts from): a
redelivered event plans no second; the later ``lost`` of the same spell is a new call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from dealerflow.contracts.care_enums import RecordKind, TaskKind
from dealerflow.notifier.domain_task_texts import staff_text
from dealerflow.notifier.domain_types import PlannedTask, RecordRef, StaffRole


@dataclass(frozen=True, slots=True)
class AtRiskFacts:
    """What the notifier needs of CustomerAtRisk."""

    dealer_id: str
    customer_id: UUID
    level: str  # at_risk | lost
    vin: str | None
    last_visit_at: datetime | None
    months_since_last_visit: int
    tier: str
    advisor_id: str | None
    detected_at: datetime


def plan_retention_call(facts: AtRiskFacts) -> PlannedTask:
    """The retention call, due at once, for the last repair order's advisor (none: the
    dealer's holder of the advisor role, else the placeholder ``advisor:<dealer>``)."""
    since = facts.last_visit_at.astimezone(UTC).isoformat() if facts.last_visit_at else "never"
    vehicle = facts.vin or "no-vin"
    text = (
        staff_text(
            TaskKind.RETENTION_CALL,
            vehicle=vehicle,
            level=facts.level.replace("_", " "),
            tier=facts.tier,
            months=facts.months_since_last_visit,
        )
        if facts.last_visit_at
        else staff_text(
            "retention_call.never_serviced",
            vehicle=vehicle,
            level=facts.level.replace("_", " "),
            tier=facts.tier,
        )
    )
    return PlannedTask(
        key=f"retention-call:{vehicle}:{facts.level}:{since}",
        kind=TaskKind.RETENTION_CALL,
        dealer_id=facts.dealer_id,
        customer_id=facts.customer_id,
        due_at=facts.detected_at.astimezone(UTC),
        assignee_role=StaffRole.ADVISOR,
        assignee_id=facts.advisor_id,
        related=RecordRef(RecordKind.CUSTOMER, str(facts.customer_id)),
        **text,
    )
