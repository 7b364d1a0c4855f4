"""An SLA clock's deadline passing: ComplaintSlaBreached, one rung up the escalation
ladder (ComplaintEscalated) while it lasts, and the clock re-armed for another period.
The pure `plan_breach` decides; `handle_clock_deadline` (the timer's use case) applies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from dealerflow.complaints import repository, usecases_clocks
from dealerflow.complaints.domain import on_breach
from dealerflow.complaints.domain_people import escalation_target
from dealerflow.complaints.records import ClockRecord, ClockStatus, ComplaintRecord
from dealerflow.complaints.settings import ComplaintsSettings
from dealerflow.contracts.care_enums import ComplaintSeverity, EscalationRole
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.events.complaints import ComplaintEscalated, ComplaintSlaBreached
from dealerflow.policy import DealerSettings
from dealerflow.runtime.context import UseCaseContext


@dataclass(frozen=True)
class BreachPlan:
    """What a clock deadline passing causes."""

    events: list[DomainEvent]
    clock: ClockRecord  # updated: re-armed (running) or overdue
    escalation_level: int  # the complaint's level afterwards
    rearmed: bool


def plan_breach(
    complaint: ComplaintRecord, clock: ClockRecord, now: datetime, dealer: DealerSettings
) -> BreachPlan:
    """ComplaintSlaBreached, plus ComplaintEscalated one rung up while the ladder lasts
    (to the person holding that rung at the dealer, see `domain_people`), and the clock
    re-armed for another SLA period (or left overdue at the top)."""
    if clock.due_at is None:
        raise ValueError("only a running clock can breach")
    common = {
        "dealer_id": complaint.dealer_id,
        "customer_id": complaint.customer_id,
        "occurred_at": now,
        "complaint_id": str(complaint.id),
    }
    severity = ComplaintSeverity(complaint.severity)
    events: list[DomainEvent] = [
        ComplaintSlaBreached(
            **common,
            clock=clock.kind,
            severity=severity,
            handler_id=complaint.handler_id,
            due_at=clock.due_at,
            breached_at=now,
        )
    ]
    outcome = on_breach(clock.to_domain(), complaint.escalation_level, now, dealer.policy)
    level = complaint.escalation_level
    if outcome.escalation is not None:
        level = outcome.escalation.level
        rung = EscalationRole(outcome.escalation.role)
        events.append(
            ComplaintEscalated(
                **common,
                level=level,
                to_role=rung,
                to_staff_id=escalation_target(
                    rung,
                    category=complaint.category,
                    department=complaint.department,
                    dealer=dealer,
                    dealer_id=complaint.dealer_id,
                    on=dealer.local_today(now),
                ),
                clock=clock.kind,
                due_at=clock.due_at,
                severity=severity,
                escalated_at=now,
            )
        )
    breached = replace(
        clock, breaches=clock.breaches + 1, last_breached_at=now, escalation_level=level
    )
    if outcome.rearmed is not None:
        updated = breached.with_domain(outcome.rearmed, ClockStatus.RUNNING)
    else:
        updated = replace(breached, status=ClockStatus.OVERDUE, timer_key=None)
    return BreachPlan(events, updated, level, outcome.rearmed is not None)


async def handle_clock_deadline(
    uc: UseCaseContext[ComplaintsSettings], dealer_id: str, complaint_id: uuid.UUID, timer_key: str
) -> BreachPlan | None:
    """A clock timer fired: breach, escalate and re-arm. A timer of a clock that stopped
    meanwhile (or of an earlier arming) does nothing."""
    complaint = await repository.get_complaint(uc.conn, dealer_id, complaint_id, for_update=True)
    if complaint is None:
        return None
    clocks = await repository.clocks_of(uc.conn, dealer_id, complaint_id)
    clock = next((c for c in clocks if c.timer_key == timer_key), None)
    if clock is None or clock.status != ClockStatus.RUNNING:
        return None
    plan = plan_breach(complaint, clock, uc.now, await uc.dealer(dealer_id))
    await repository.save_clock(uc.conn, plan.clock)
    if plan.rearmed:
        await usecases_clocks.rearm(uc.conn, plan.clock)
    if plan.escalation_level != complaint.escalation_level:
        await repository.update_complaint(
            uc.conn, dealer_id, complaint_id, escalation_level=plan.escalation_level
        )
    await repository.add_history(
        uc.conn,
        dealer_id=dealer_id,
        complaint_id=complaint_id,
        action="sla_breached",
        actor=None,
        at=uc.now,
        details={
            "clock": clock.kind.value,
            "due_at": clock.due_at,
            "escalation_level": plan.escalation_level,
            "rearmed_due_at": plan.clock.due_at if plan.rearmed else None,
        },
    )
    for event in plan.events:
        await uc.publish(event)
    return plan
