"""Use cases of the complaints service: open a complaint, act on it, handle a breach.

Each takes a `Work` (the transaction's connection, how to publish, "now", settings) plus
plain data, applies the domain rules, writes through the repository and publishes events
to the outbox - all in the caller's transaction. Pure planning steps (`plan_*`) are
separate so they can be unit-tested without a database.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from dealerflow.complaints import repository, sla
from dealerflow.complaints.domain import (
    ComplaintAction,
    ComplaintStatus,
    IllegalTransition,
    clocks_stopped_by,
    default_severity,
    on_breach,
    resolve_clock_on_reopen,
    sla_clocks,
    transition,
)
from dealerflow.complaints.policy import policy_for
from dealerflow.complaints.records import ClockRecord, ClockStatus, ComplaintRecord
from dealerflow.complaints.settings import ComplaintsSettings
from dealerflow.contracts.care_enums import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintSeverity,
    Department,
    EscalationRole,
    SlaClock,
)
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.events.complaints import (
    ComplaintEscalated,
    ComplaintOpened,
    ComplaintOrigin,
    ComplaintSlaBreached,
)
from dealerflow.policy import DealerPolicy
from dealerflow.runtime.db import DbConnection

Publish = Callable[[DomainEvent], Awaitable[str]]


@dataclass(frozen=True)
class Work:
    """What a use case works with: one transaction and the time it happens at."""

    conn: DbConnection
    publish: Publish
    now: datetime
    settings: ComplaintsSettings


class ComplaintNotFound(LookupError):
    """No complaint with that id at that dealer."""

    def __init__(self, complaint_id: uuid.UUID) -> None:
        super().__init__(f"no complaint {complaint_id} at this dealer")
        self.complaint_id = complaint_id


class RequestConflict(ValueError):
    """An Idempotency-Key or client complaint id reused for a different request."""


class ActionNotAllowed(ValueError):
    """An action outside the status machine (pause, resume, assign) that the complaint's
    current state does not allow."""


# -- opening ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewComplaint:
    """A complaint to open, from staff (API) or an automatic trigger."""

    dealer_id: str
    customer_id: uuid.UUID
    channel: ComplaintChannel
    category: ComplaintCategory
    summary: str
    contact: ContactSnapshot
    origin: ComplaintOrigin
    severity: ComplaintSeverity | None = None
    safety: bool = False
    injury: bool = False
    details: str | None = None
    handler_id: str | None = None
    department: str | None = None
    vin: str | None = None
    #: unique trigger reference of an automatic complaint ("task:<id>", ...)
    origin_ref: str | None = None
    complaint_id: uuid.UUID | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None


@dataclass(frozen=True)
class Opened:
    """Result of `open_complaint`: the complaint and whether this call created it."""

    complaint: ComplaintRecord
    created: bool


def request_fingerprint(body: dict[str, Any]) -> str:
    """Stable hash of a request body (to tell a retry from a reused idempotency key)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def plan_opening(
    new: NewComplaint, now: datetime, policy: DealerPolicy, default_handler: str
) -> tuple[ComplaintRecord, list[ClockRecord], ComplaintOpened]:
    """The complaint row, its three armed clocks and the ComplaintOpened event."""
    severity = (
        ComplaintSeverity(new.severity)
        if new.severity
        else default_severity(
            new.channel, safety=new.safety, injury=new.injury, origin=new.origin.kind
        )
    )
    complaint_id = new.complaint_id or uuid.uuid4()
    complaint = ComplaintRecord(
        id=complaint_id,
        dealer_id=new.dealer_id,
        customer_id=new.customer_id,
        status=ComplaintStatus.OPENED,
        channel=new.channel.value,
        category=new.category.value,
        severity=severity.value,
        summary=new.summary,
        details=new.details,
        handler_id=new.handler_id or default_handler,
        department=new.department,
        vin=new.vin,
        origin_kind=new.origin.kind.value,
        origin_ref=new.origin_ref,
        origin=new.origin.model_dump(mode="json", exclude_none=True),
        contact=new.contact.model_dump(mode="json"),
        opened_at=now,
        idempotency_key=new.idempotency_key,
        request_hash=new.request_hash,
    )
    clocks = [
        ClockRecord.armed(complaint_id, new.dealer_id, clock)
        for clock in sla_clocks(severity.value, now, policy)
    ]
    due = {c.kind: c.due_at for c in clocks}
    event = ComplaintOpened(
        dealer_id=new.dealer_id,
        customer_id=new.customer_id,
        occurred_at=now,
        complaint_id=str(complaint_id),
        channel=new.channel,
        category=new.category,
        severity=severity,
        summary=new.summary,
        details=new.details,
        handler_id=complaint.handler_id,
        department=Department(new.department) if new.department else None,
        vin=new.vin,
        origin=new.origin,
        acknowledge_due_at=due[SlaClock.ACKNOWLEDGE],
        resolve_due_at=due[SlaClock.RESOLVE],
        opened_at=now,
        contact=new.contact,
    )
    return complaint, clocks, event


async def open_complaint(work: Work, new: NewComplaint) -> Opened:
    """Open a complaint: row + clocks (timers) + ComplaintOpened, once per idempotency key,
    client id or trigger (`origin_ref`); a repeat returns the existing complaint."""
    policy = await policy_for(work.conn, new.dealer_id, work.settings)
    complaint, clocks, event = plan_opening(
        new, work.now, policy, work.settings.handler_for(new.dealer_id)
    )
    if not await repository.insert_complaint(work.conn, complaint):
        return Opened(await _existing(work, new), created=False)
    await sla.arm(work.conn, clocks)
    await repository.add_history(
        work.conn,
        dealer_id=new.dealer_id,
        complaint_id=complaint.id,
        action="opened",
        actor=complaint.handler_id,
        at=work.now,
        details={"channel": complaint.channel, "severity": complaint.severity},
    )
    await work.publish(event)
    return Opened(complaint, created=True)


async def _existing(work: Work, new: NewComplaint) -> ComplaintRecord:
    """The complaint an insert conflicted with, if the request may see it."""
    found = None
    if new.idempotency_key is not None:
        found = await repository.find_by_idempotency_key(
            work.conn, new.dealer_id, new.idempotency_key
        )
    if found is None and new.origin_ref is not None:
        found = await repository.find_by_origin(work.conn, new.dealer_id, new.origin_ref)
        if found is not None:
            return found  # the same trigger again: nothing to compare
    if found is None and new.complaint_id is not None:
        found = await repository.get_complaint(work.conn, new.dealer_id, new.complaint_id)
        if found is None:
            raise RequestConflict(f"complaint id {new.complaint_id} is already taken")
    if found is None:
        raise RuntimeError("complaint insert conflicted with no visible complaint")
    if new.request_hash is not None and found.request_hash != new.request_hash:
        raise RequestConflict(
            "this Idempotency-Key / complaint id was used for a different request"
        )
    return found


# -- breach ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BreachPlan:
    """What a clock deadline passing causes."""

    events: list[DomainEvent]
    clock: ClockRecord  # updated: re-armed (running) or overdue
    escalation_level: int  # the complaint's level afterwards
    rearmed: bool


def plan_breach(
    complaint: ComplaintRecord, clock: ClockRecord, now: datetime, policy: DealerPolicy
) -> BreachPlan:
    """ComplaintSlaBreached, plus ComplaintEscalated one rung up while the ladder lasts,
    and the clock re-armed for another SLA period (or left overdue at the top)."""
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
    outcome = on_breach(clock.to_domain(), complaint.escalation_level, now, policy)
    level = complaint.escalation_level
    if outcome.escalation is not None:
        level = outcome.escalation.level
        events.append(
            ComplaintEscalated(
                **common,
                level=level,
                to_role=EscalationRole(outcome.escalation.role),
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
    work: Work, dealer_id: str, complaint_id: uuid.UUID, timer_key: str
) -> BreachPlan | None:
    """A clock timer fired: breach, escalate and re-arm. A timer of a clock that stopped
    meanwhile (or of an earlier arming) does nothing."""
    complaint = await repository.get_complaint(work.conn, dealer_id, complaint_id, for_update=True)
    if complaint is None:
        return None
    clocks = await repository.clocks_of(work.conn, dealer_id, complaint_id)
    clock = next((c for c in clocks if c.timer_key == timer_key), None)
    if clock is None or clock.status != ClockStatus.RUNNING:
        return None
    policy = await policy_for(work.conn, dealer_id, work.settings)
    plan = plan_breach(complaint, clock, work.now, policy)
    await repository.save_clock(work.conn, plan.clock)
    if plan.rearmed:
        await sla.rearm(work.conn, plan.clock)
    if plan.escalation_level != complaint.escalation_level:
        await repository.update_complaint(
            work.conn, dealer_id, complaint_id, escalation_level=plan.escalation_level
        )
    await repository.add_history(
        work.conn,
        dealer_id=dealer_id,
        complaint_id=complaint_id,
        action="sla_breached",
        actor=None,
        at=work.now,
        details={
            "clock": clock.kind.value,
            "due_at": clock.due_at,
            "escalation_level": plan.escalation_level,
            "rearmed_due_at": plan.clock.due_at if plan.rearmed else None,
        },
    )
    for event in plan.events:
        await work.publish(event)
    return plan


# -- shared by the actions -------------------------------------------------------------------


async def load_for_update(work: Work, dealer_id: str, complaint_id: uuid.UUID) -> ComplaintRecord:
    """The dealer's complaint, locked (after its timers, see `lock_complaint_timers`);
    `ComplaintNotFound` otherwise."""
    await repository.lock_complaint_timers(work.conn, dealer_id, complaint_id)
    complaint = await repository.get_complaint(work.conn, dealer_id, complaint_id, for_update=True)
    if complaint is None:
        raise ComplaintNotFound(complaint_id)
    return complaint


async def reload(work: Work, dealer_id: str, complaint_id: uuid.UUID) -> ComplaintRecord:
    """The dealer's complaint as this transaction now sees it."""
    complaint = await repository.get_complaint(work.conn, dealer_id, complaint_id)
    if complaint is None:
        raise ComplaintNotFound(complaint_id)
    return complaint


def next_status(complaint: ComplaintRecord, action: ComplaintAction) -> ComplaintStatus:
    """The status after ``action`` (raises the domain's `IllegalTransition`)."""
    return transition(complaint.status, action)


def reopened_resolve_clock(
    complaint: ComplaintRecord, now: datetime, policy: DealerPolicy
) -> ClockRecord:
    """The fresh resolve clock of a complaint being reopened."""
    clock = resolve_clock_on_reopen(complaint.severity, now, complaint.reopen_count + 1, policy)
    return ClockRecord.armed(complaint.id, complaint.dealer_id, clock)


def stopped_kinds(action: ComplaintAction) -> frozenset[SlaClock]:
    """The clocks an action satisfies."""
    return clocks_stopped_by(action)


__all__ = [
    "ActionNotAllowed",
    "BreachPlan",
    "ComplaintNotFound",
    "IllegalTransition",
    "NewComplaint",
    "Opened",
    "Publish",
    "RequestConflict",
    "Work",
    "handle_clock_deadline",
    "load_for_update",
    "next_status",
    "open_complaint",
    "plan_breach",
    "plan_opening",
    "reload",
    "reopened_resolve_clock",
    "request_fingerprint",
    "stopped_kinds",
]
