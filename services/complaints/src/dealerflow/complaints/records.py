"""What the complaints service stores, as plain data (rows of repository.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from dealerflow.complaints.domain import Clock, ComplaintStatus
from dealerflow.contracts.care_enums import SlaClock
from dealerflow.policy import SlaSpec


@dataclass(frozen=True)
class ComplaintRecord:
    """One complaint row."""

    id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    status: ComplaintStatus
    channel: str
    category: str
    severity: str
    summary: str
    details: str | None
    handler_id: str
    department: str | None
    vin: str | None
    origin_kind: str
    origin_ref: str | None
    origin: dict[str, Any]
    contact: dict[str, Any]
    opened_at: datetime
    escalation_level: int = 0
    reopen_count: int = 0
    paused_at: datetime | None = None
    pause_reason: str | None = None
    acknowledged_at: datetime | None = None
    informed_at: datetime | None = None
    first_resolved_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reopened_at: datetime | None = None
    resolution: dict[str, Any] | None = None
    #: the customer's tier when the complaint was opened (None: opened before tiers)
    customer_tier: str | None = None

    @property
    def paused(self) -> bool:
        """True while the complaint waits on the customer (its clocks are paused)."""
        return self.paused_at is not None


class ClockStatus:
    """Status values of a stored clock."""

    RUNNING = "running"  # a timer is pending for due_at
    PAUSED = "paused"  # waiting on the customer; remaining holds what is left
    OVERDUE = "overdue"  # breached at the top of the ladder: no further re-arm
    MET = "met"  # the action it measures happened (maybe late: see breaches)
    STOPPED = "stopped"  # no longer relevant (the complaint was resolved without it)

    OPEN = frozenset({RUNNING, PAUSED, OVERDUE})


@dataclass(frozen=True)
class ClockRecord:
    """One arming of an SLA clock of a complaint (see complaint_clocks)."""

    complaint_id: uuid.UUID
    dealer_id: str
    kind: SlaClock
    reopen_count: int
    status: str
    sla: SlaSpec
    pausable: bool
    attempt: int
    started_at: datetime
    due_at: datetime | None
    first_due_at: datetime
    paused_at: datetime | None = None
    remaining: timedelta | None = None
    timer_key: str | None = None
    breaches: int = 0
    last_breached_at: datetime | None = None
    escalation_level: int = 0
    stopped_at: datetime | None = None
    stopped_by: str | None = None

    @classmethod
    def armed(cls, complaint_id: uuid.UUID, dealer_id: str, clock: Clock) -> ClockRecord:
        """The record of a freshly started domain clock."""
        if clock.due_at is None:
            raise ValueError("a freshly armed clock has a due time")
        return cls(
            complaint_id=complaint_id,
            dealer_id=dealer_id,
            kind=clock.kind,
            reopen_count=clock.reopen_count,
            status=ClockStatus.RUNNING,
            sla=clock.sla,
            pausable=clock.pausable,
            attempt=clock.attempt,
            started_at=clock.started_at,
            due_at=clock.due_at,
            first_due_at=clock.due_at,
            timer_key=clock.key(str(complaint_id)),
        )

    def to_domain(self) -> Clock:
        """The domain clock (for pause, resume and breach rules)."""
        return Clock(
            kind=self.kind,
            sla=self.sla,
            started_at=self.started_at,
            due_at=self.due_at,
            pausable=self.pausable,
            reopen_count=self.reopen_count,
            attempt=self.attempt,
            paused_at=self.paused_at,
            remaining=self.remaining,
        )

    def with_domain(self, clock: Clock, status: str) -> ClockRecord:
        """This record updated from a domain clock after pause/resume/re-arm."""
        return replace(
            self,
            status=status,
            started_at=clock.started_at,
            due_at=clock.due_at,
            attempt=clock.attempt,
            paused_at=clock.paused_at,
            remaining=clock.remaining,
            timer_key=clock.key(str(self.complaint_id)),
        )

    @property
    def label(self) -> str:
        """ "<kind>:<reopen_count>": which arming of which clock (as pauses name them)."""
        return f"{self.kind.value}:{self.reopen_count}"

    @property
    def timer_prefix(self) -> str:
        """Prefix of every timer key of this clock kind and arming (all its re-arms)."""
        return f"complaint:{self.complaint_id}:clock:{self.kind.value}:{self.reopen_count}."


@dataclass(frozen=True)
class HistoryRecord:
    """One entry of a complaint's history (complaint_history)."""

    action: str
    actor: str | None
    at: datetime
    details: dict[str, Any]
    trigger_ref: str | None = None


@dataclass(frozen=True)
class PauseRecord:
    """One pause of a complaint's clocks (complaint_pauses): who paused it and why, the
    clocks it paused ("<kind>:<reopen_count>"), and when and how it ended (None: open)."""

    id: int
    complaint_id: uuid.UUID
    dealer_id: str
    paused_at: datetime
    paused_by: str | None
    reason: str
    clocks: list[str]
    resumed_at: datetime | None = None
    resumed_by: str | None = None
    ended_by: str | None = None  # "resume", or "resolve" (resolved while paused)


@dataclass(frozen=True)
class ComplaintCase:
    """A complaint with every clock (each arming) and its history: what staff see; with
    its pauses and, per open clock (by `ClockRecord.label`), the time left at `as_of`."""

    complaint: ComplaintRecord
    clocks: list[ClockRecord]
    history: list[HistoryRecord]
    pauses: list[PauseRecord] = field(default_factory=list)
    time_left: dict[str, timedelta] = field(default_factory=dict)
    as_of: datetime | None = None


@dataclass(frozen=True)
class ParkedTrigger:
    """An automatic complaint's triggering event waiting for the customer's contact
    (awaiting_contact), with where it was consumed from, to dead-letter it faithfully."""

    dealer_id: str
    trigger_ref: str
    customer_id: uuid.UUID
    event_type: str
    event: str  # the event's JSON
    event_id: str
    source: str
    correlation_id: str | None
    causation_id: str | None
    event_time: datetime
    traceparent: str | None
    tracestate: str | None
    topic: str
    kafka_partition: int
    kafka_offset: int
    consumer: str
    received_at: datetime


@dataclass(frozen=True)
class ComplaintCounts:
    """Complaint analysis of a dealer over a period (GET /v1/complaints/stats)."""

    total: int
    escalated: int
    reopened: int
    mean_time_to_acknowledge_s: float | None
    mean_time_to_resolve_s: float | None
    by_category: dict[str, int]
    by_status: dict[str, int]
    by_severity: dict[str, int]
    by_origin: dict[str, int]
    by_channel: dict[str, int]
    by_month: dict[str, int]
    breached_clocks: dict[str, int]
    customers_with_repeat_complaints: int


@dataclass(frozen=True)
class ComplaintPersonalData:
    """What of a complaint row is about the person (what erasure rewrites; the rest of the
    row is the business record and stays)."""

    id: uuid.UUID
    contact: dict[str, Any]
    summary: str
    details: str | None
    pause_reason: str | None
    resolution: dict[str, Any] | None
    #: unused since migration 0004 (a hash of the opening request, contact included)
    request_hash: str | None


@dataclass(frozen=True)
class HistoryText:
    """One history entry's details, by row id (what erasure rewrites)."""

    id: int
    action: str
    details: dict[str, Any]


@dataclass(frozen=True)
class ParkedEvent:
    """The event of a parked trigger (awaiting_contact), as stored."""

    trigger_ref: str
    event_type: str
    event: str  # the event's JSON


@dataclass(frozen=True)
class SaleRecord:
    """One sale of the customer at the dealer, as the sales topic told it (a delivery seen
    without its contract has no price or signing date)."""

    contract_id: str
    model: str | None
    vin: str | None
    price_amount: Decimal | None
    price_currency: str | None
    consultant_id: str | None
    signed_at: datetime | None
    delivery_id: str | None
    delivered_at: datetime | None
    cancelled_at: datetime | None


@dataclass(frozen=True)
class RepairVisit:
    """One repair order of the customer (or of a vehicle of theirs) at the dealer, as the
    service topic told it (rows kept before migration 0007 have no advisor or work type)."""

    repair_order_id: str
    vin: str
    concerns: tuple[str, ...]
    advisor_id: str | None
    work_type: str | None
    opened_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class ConfirmationRecord:
    """The customer's answer to a resolution (complaint_confirmations)."""

    reopen_count: int
    confirmed: bool
    channel: str | None
    note: str | None
    recorded_by: str | None
    at: datetime


@dataclass(frozen=True)
class Investigation:
    """What staff investigating a complaint read: the customer's history at the dealer
    (sales and repair orders, from the read models) and the complaint's responsibility,
    measures and the customer's confirmations."""

    complaint: ComplaintRecord
    sales: list[SaleRecord]
    repairs: list[RepairVisit]
    confirmations: list[ConfirmationRecord]
