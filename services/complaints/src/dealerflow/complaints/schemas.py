"""Request and response bodies of the complaints HTTP API."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated, Any, Self

from pydantic import BaseModel, Field, StringConstraints, model_validator

from dealerflow.complaints.domain import ComplaintStatus, allowed_actions
from dealerflow.complaints.records import (
    ClockRecord,
    ClockStatus,
    ComplaintCase,
    ComplaintCounts,
    ComplaintRecord,
    HistoryRecord,
    PauseRecord,
)
from dealerflow.contracts.care_enums import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintSeverity,
    Department,
    Responsibility,
)
from dealerflow.contracts.contact import ConsentSnapshot, ContactSnapshot
from dealerflow.contracts.enums import AssignmentReason, ContactChannel, Locale
from dealerflow.contracts.identity import normalize_phone
from dealerflow.contracts.types import DealerId, EmailAddress, EntityId, StaffId, Vin
from dealerflow.runtime.pagination import Page
from dealerflow.runtime.request_models import PersonName, RequestBody

Summary = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class ContactIn(RequestBody):
    """How to reach the complainant; the phone may be in a local format (read as CN)."""

    name: PersonName
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    email: EmailAddress | None = None
    wechat_openid: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    preferred_channel: ContactChannel = ContactChannel.PHONE
    consent: ConsentSnapshot = Field(
        default_factory=lambda: ConsentSnapshot(service=True, marketing=False),
        description="Defaults to service contact only (about this complaint), no marketing.",
    )
    locale: Locale = Locale.ZH_CN

    @model_validator(mode="after")
    def _normalise(self) -> Self:
        if self.phone:
            self.phone = normalize_phone(self.phone)  # InvalidPhoneNumber is a ValueError
        self.snapshot()  # at least one way to reach the customer
        return self

    def snapshot(self) -> ContactSnapshot:
        """The contracts' contact snapshot of this contact."""
        return ContactSnapshot(**self.model_dump(exclude_none=True))


class ComplaintIn(RequestBody):
    """A complaint received from a customer (staff recording it)."""

    dealer_id: DealerId
    complaint_id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id: a retry with it never opens twice."
    )
    customer_id: uuid.UUID | None = Field(
        default=None,
        description="Known customer id; else derived from the contact phone (or e-mail) by "
        "the contracts identity rule.",
    )
    dealer_group: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    contact: ContactIn | None = Field(
        default=None, description="Required unless the customer's contact is already known."
    )
    channel: ComplaintChannel
    category: ComplaintCategory
    severity: ComplaintSeverity | None = Field(
        default=None, description="Default: critical for safety/injury/media/regulator."
    )
    safety: bool = False
    injury: bool = False
    summary: Summary
    details: Text | None = None
    handler_id: StaffId | None = None
    department: Department | None = None
    vin: Vin | None = None
    repair_order_id: EntityId | None = None
    contract_id: EntityId | None = None

    @model_validator(mode="after")
    def _someone(self) -> Self:
        if self.contact is None and self.customer_id is None:
            raise ValueError("give the contact, or the customer_id of a known customer")
        return self


#: Who did it: a staff id, or by default the caller (the subject of the request's token).
Doer = Annotated[
    StaffId | None, Field(description="Staff id; default: the caller (the token's subject).")
]


class ActionIn(RequestBody):
    """What every staff action's body names: the dealer of the complaint."""

    dealer_id: DealerId


class AcknowledgeIn(ActionIn):
    channel: ContactChannel = Field(description="How the customer was told.")
    handler_id: StaffId | None = Field(
        default=None,
        description="Who acknowledged; default: the caller (the token's subject).",
    )


class AssignIn(ActionIn):
    handler_id: StaffId
    department: Department
    reason: AssignmentReason = AssignmentReason.MANUAL


class InformIn(ActionIn):
    by: Doer = None
    note: Text | None = None


class ResolveIn(ActionIn):
    handler_id: StaffId | None = None
    responsibility: Responsibility
    responsible_department: Department | None = None
    responsible_staff_id: StaffId | None = Field(
        default=None, description="The responsible person (staff id), when one is named."
    )
    cause: Text | None = None
    measures: list[Line] = Field(min_length=1)
    resolution: Text = Field(description="What the customer was told.")


class CloseIn(ActionIn):
    closed_by: Doer = None
    customer_confirmed: bool


class ReopenIn(ActionIn):
    reason: Text
    by: Doer = None


class PauseIn(ActionIn):
    by: Doer = None
    reason: Text


class ResumeIn(ActionIn):
    by: Doer = None


# -- responses -------------------------------------------------------------------------------


class PauseView(BaseModel):
    """One pause of a complaint's clocks (waiting on the customer)."""

    paused_at: datetime
    paused_by: str | None
    reason: str
    clocks: list[str] = Field(description='The clocks it paused, as "<kind>:<reopen_count>".')
    resumed_at: datetime | None = Field(description="When it ended; None while it lasts.")
    resumed_by: str | None
    ended_by: str | None = Field(description="resume, or resolve (resolved while paused).")

    @classmethod
    def of(cls, p: PauseRecord) -> PauseView:
        return cls(
            paused_at=p.paused_at,
            paused_by=p.paused_by,
            reason=p.reason,
            clocks=p.clocks,
            resumed_at=p.resumed_at,
            resumed_by=p.resumed_by,
            ended_by=p.ended_by,
        )


class ClockView(BaseModel):
    """One SLA clock (each arming of it: a reopened complaint has a new resolve clock)."""

    kind: str
    reopen_count: int
    status: str = Field(description="running, paused, overdue, met or stopped")
    due_at: datetime | None = Field(description="Current deadline (None while paused).")
    first_due_at: datetime
    started_at: datetime
    sla_seconds: float
    sla_mode: str
    pausable: bool
    attempt: int = Field(description="Re-arms after breaches.")
    paused_at: datetime | None
    remaining_seconds: float | None
    breaches: int
    last_breached_at: datetime | None
    escalation_level: int = Field(description="The complaint's level after this clock's breach.")
    stopped_at: datetime | None
    stopped_by: str | None
    time_left_seconds: float | None = Field(
        default=None,
        description="What is left now as the clock counts (sla_mode): real time for wall "
        "clocks, business (or statutory working) time otherwise; what it kept while "
        "paused; 0 once the deadline passed; None once met or stopped.",
    )
    breached: bool = Field(default=False, description="It missed a deadline at least once.")
    met: bool = Field(
        default=False, description="The action it measures happened (late if also breached)."
    )
    paused_intervals: list[PauseView] = Field(
        default_factory=list, description="The pauses that stopped this clock, oldest first."
    )

    @classmethod
    def of(
        cls,
        c: ClockRecord,
        time_left: timedelta | None = None,
        pauses: Sequence[PauseRecord] = (),
    ) -> ClockView:
        return cls(
            kind=c.kind.value,
            reopen_count=c.reopen_count,
            status=c.status,
            due_at=c.due_at,
            first_due_at=c.first_due_at,
            started_at=c.started_at,
            sla_seconds=c.sla.duration.total_seconds(),
            sla_mode=c.sla.mode.value,
            pausable=c.pausable,
            attempt=c.attempt,
            paused_at=c.paused_at,
            remaining_seconds=c.remaining.total_seconds() if c.remaining is not None else None,
            breaches=c.breaches,
            last_breached_at=c.last_breached_at,
            escalation_level=c.escalation_level,
            stopped_at=c.stopped_at,
            stopped_by=c.stopped_by,
            time_left_seconds=time_left.total_seconds() if time_left is not None else None,
            breached=c.breaches > 0,
            met=c.status == ClockStatus.MET,
            paused_intervals=[PauseView.of(p) for p in pauses if c.label in p.clocks],
        )

    @classmethod
    def all_of(cls, case: ComplaintCase) -> list[ClockView]:
        """Every clock of a complaint with its time left and pauses."""
        return [cls.of(c, case.time_left.get(c.label), case.pauses) for c in case.clocks]


class ComplaintView(BaseModel):
    id: uuid.UUID
    dealer_id: str
    customer_id: uuid.UUID
    status: ComplaintStatus
    allowed_actions: list[str]
    channel: str
    category: str
    severity: str
    summary: str
    details: str | None
    handler_id: str
    department: str | None
    vin: str | None
    origin: dict[str, Any]
    contact: dict[str, Any]
    escalation_level: int
    reopen_count: int
    paused: bool
    paused_at: datetime | None
    pause_reason: str | None
    opened_at: datetime
    acknowledged_at: datetime | None
    informed_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    reopened_at: datetime | None
    resolution: dict[str, Any] | None
    customer_tier: str | None = Field(
        default=None,
        description="The customer's tier (vip, key, regular) when the complaint was opened: "
        "it shortened the clocks; None for complaints opened before tiers were kept.",
    )

    @classmethod
    def fields_of(cls, c: ComplaintRecord) -> dict[str, Any]:
        return {
            "id": c.id,
            "dealer_id": c.dealer_id,
            "customer_id": c.customer_id,
            "status": c.status,
            "allowed_actions": sorted(a.value for a in allowed_actions(c.status)),
            "channel": c.channel,
            "category": c.category,
            "severity": c.severity,
            "summary": c.summary,
            "details": c.details,
            "handler_id": c.handler_id,
            "department": c.department,
            "vin": c.vin,
            "origin": c.origin,
            "contact": c.contact,
            "escalation_level": c.escalation_level,
            "reopen_count": c.reopen_count,
            "paused": c.paused,
            "paused_at": c.paused_at,
            "pause_reason": c.pause_reason,
            "opened_at": c.opened_at,
            "acknowledged_at": c.acknowledged_at,
            "informed_at": c.informed_at,
            "resolved_at": c.resolved_at,
            "closed_at": c.closed_at,
            "reopened_at": c.reopened_at,
            "resolution": c.resolution,
            "customer_tier": c.customer_tier,
        }

    @classmethod
    def of(cls, c: ComplaintRecord) -> ComplaintView:
        return cls(**cls.fields_of(c))


class HistoryEntry(BaseModel):
    action: str
    actor: str | None
    at: datetime
    details: dict[str, Any]

    @classmethod
    def of(cls, h: HistoryRecord) -> HistoryEntry:
        return cls(action=h.action, actor=h.actor, at=h.at, details=h.details)


class ComplaintDetail(ComplaintView):
    """A complaint with every clock (not only the nearest, each with its time left now),
    its history and its pauses."""

    clocks: list[ClockView]
    history: list[HistoryEntry]
    pauses: list[PauseView] = Field(default_factory=list, description="Oldest first.")

    @classmethod
    def of_case(cls, case: ComplaintCase) -> ComplaintDetail:
        return cls(
            **ComplaintView.fields_of(case.complaint),
            clocks=ClockView.all_of(case),
            history=[HistoryEntry.of(h) for h in case.history],
            pauses=[PauseView.of(p) for p in case.pauses],
        )


class ComplaintPage(Page[ComplaintView]):
    """A page of complaints, newest first."""


class ComplaintStats(BaseModel):
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
    by_month: dict[str, int] = Field(description="YYYY-MM in the dealer's time zone.")
    breached_clocks: dict[str, int] = Field(description="Clocks breached at least once, by kind.")
    customers_with_repeat_complaints: int

    @classmethod
    def of(cls, counts: ComplaintCounts) -> ComplaintStats:
        return cls(**asdict(counts))
