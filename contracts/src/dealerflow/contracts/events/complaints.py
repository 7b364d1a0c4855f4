"""Events of the complaints context (topic dealerflow.complaints)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from dealerflow.contracts.care_enums import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintOriginKind,
    ComplaintSeverity,
    Department,
    EscalationRole,
    Responsibility,
    SlaClock,
)
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import AssignmentReason, ContactChannel, CustomerTier
from dealerflow.contracts.events.base import DomainEvent, EventDoc
from dealerflow.contracts.types import EntityId, StaffId, Trimmed, UtcDatetime, Vin

Text = Annotated[str, StringConstraints(max_length=4000)]
Summary = Annotated[str, Trimmed(max_length=500)]
Line = Annotated[str, Trimmed(max_length=500)]

# The escalation ladder: level n goes to _LADDER[n - 1].
_LADDER = (EscalationRole.DEPARTMENT_MANAGER, EscalationRole.GM, EscalationRole.OEM_REGION)


class ComplaintOrigin(BaseModel):
    """What opened the complaint, with links to the triggering record."""

    model_config = ConfigDict(frozen=True)

    kind: ComplaintOriginKind = Field(description="Manual, or which automatic trigger.")
    task_id: EntityId | None = Field(
        default=None, description="Callback task whose outcome was dissatisfied."
    )
    survey_id: EntityId | None = Field(default=None, description="Survey scored 6 or less.")
    survey_score: int | None = Field(default=None, ge=0, le=10, description="That score, 0-10.")
    repair_order_id: EntityId | None = Field(
        default=None, description="Repair order concerned (repeat repair, failed check)."
    )
    previous_repair_order_id: EntityId | None = Field(
        default=None, description="Earlier RO with the same concern (repeat repair)."
    )
    contract_id: EntityId | None = Field(default=None, description="Sales contract concerned.")


class _ComplaintsBase(DomainEvent):
    context: ClassVar[str] = "complaints"


class ComplaintOpened(_ComplaintsBase):
    """A complaint was received and recorded; SLA clocks start."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="Staff record a complaint from any channel, or complaints opens one itself after "
        "a dissatisfied callback, a survey score <= 6, a repeat repair or a failed quality "
        "check that reached the customer.",
        emitted_by=("complaints",),
        reacted_by=(
            "notifier: handling task for handler_id due at the acknowledge deadline, and the "
            'customer\'s "we received it" message (service purpose, contact policy)',
            "notifier: suppresses marketing to the customer while the complaint is open "
            "(NotificationSuppressed open_complaint when each message falls due)",
        ),
    )
    type: Literal["ComplaintOpened"] = Field(default="ComplaintOpened", description="Event name.")
    complaint_id: EntityId = Field(description="Identifier of the complaint.")
    channel: ComplaintChannel = Field(description="Where the complaint came in.")
    category: ComplaintCategory = Field(
        description="Complaint category (product, sales, after-sales, other)."
    )
    severity: ComplaintSeverity = Field(description="Drives the SLA clocks.")
    summary: Summary = Field(description="One-line summary of the complaint.")
    details: Text | None = Field(default=None, description="The customer's account.")
    handler_id: StaffId = Field(description="Staff member handling the complaint.")
    department: Department | None = Field(default=None, description="Department concerned.")
    vin: Vin | None = Field(default=None, description="Vehicle concerned, if any.")
    origin: ComplaintOrigin = Field(description="What opened the complaint.")
    acknowledge_due_at: UtcDatetime | None = Field(
        default=None, description="Deadline to acknowledge, UTC, per severity and hours."
    )
    resolve_due_at: UtcDatetime | None = Field(
        default=None, description="Deadline to resolve, UTC."
    )
    opened_at: UtcDatetime = Field(description="When the complaint was received, UTC.")
    contact: ContactSnapshot = Field(description="How to reach the complainant.")
    first_update_due_at: UtcDatetime | None = Field(
        default=None,
        description="Deadline for the customer's first update on the handling, UTC.",
    )
    customer_tier: CustomerTier | None = Field(
        default=None,
        description="The customer's tier when the complaint was opened (shortens the "
        "acknowledge, first-update and resolve clocks by the dealer's tier factors).",
    )


class ComplaintAcknowledged(_ComplaintsBase):
    """The customer was thanked and told the complaint is being handled."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The handler acknowledges the complaint to the customer.",
        emitted_by=("complaints",),
        reacted_by=("notifier: cancels the escalation tasks the acknowledge clock raised",),
    )
    type: Literal["ComplaintAcknowledged"] = Field(
        default="ComplaintAcknowledged", description="Event name."
    )
    complaint_id: EntityId = Field(description="Identifier of the complaint.")
    handler_id: StaffId = Field(description="Who acknowledged.")
    channel: ContactChannel = Field(description="How the customer was told.")
    acknowledged_at: UtcDatetime = Field(description="When, UTC.")


class ComplaintAssigned(_ComplaintsBase):
    """The complaint got a (new) handler and department."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="Responsibility is determined or the complaint is reassigned.",
        emitted_by=("complaints",),
        reacted_by=("notifier: moves the open handling task to the new handler",),
    )
    type: Literal["ComplaintAssigned"] = Field(
        default="ComplaintAssigned", description="Event name."
    )
    complaint_id: EntityId = Field(description="Identifier of the complaint.")
    handler_id: StaffId = Field(description="New handler.")
    previous_handler_id: StaffId | None = Field(default=None, description="Handler before.")
    department: Department = Field(description="Department now responsible.")
    reason: AssignmentReason = Field(description="Why it was (re)assigned.")
    assigned_at: UtcDatetime = Field(description="When, UTC.")


class ComplaintEscalated(_ComplaintsBase):
    """A clock breached: the complaint climbs one rung of the ladder
    (handler -> department manager -> GM -> OEM/region)."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="An SLA clock breaches (one level per breach).",
        emitted_by=("complaints",),
        reacted_by=(
            "notifier: escalation alert task for to_role (to_staff_id when known); at the "
            "OEM/region rung the alert is POSTed to the dealer's oem_region.webhook_url "
            "when set",
        ),
    )
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"properties": {"level": {"const": level}, "to_role": {"const": role.value}}}
                for level, role in enumerate(_LADDER, start=1)
            ]
        }
    )
    type: Literal["ComplaintEscalated"] = Field(
        default="ComplaintEscalated", description="Event name."
    )
    complaint_id: EntityId = Field(description="Identifier of the complaint.")
    level: int = Field(ge=1, le=3, description="1 department manager, 2 GM, 3 OEM/region.")
    to_role: EscalationRole = Field(description="Rung escalated to; must match level.")
    to_staff_id: StaffId | None = Field(default=None, description="Person escalated to.")
    clock: SlaClock = Field(description="Clock whose breach caused the escalation.")
    due_at: UtcDatetime = Field(description="The deadline that was missed, UTC.")
    severity: ComplaintSeverity = Field(description="Severity of the complaint.")
    escalated_at: UtcDatetime = Field(description="When, UTC.")

    @model_validator(mode="after")
    def _level_matches_role(self) -> Self:
        expected = _LADDER[self.level - 1]
        if self.to_role != expected:
            raise ValueError(
                f"escalation level {self.level} goes to {expected}, not {self.to_role}"
            )
        return self


class ComplaintSlaBreached(_ComplaintsBase):
    """An SLA clock of the complaint passed its deadline."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="complaints' durable timer fires for a running clock.",
        emitted_by=("complaints",),
        reacted_by=("notifier: staff message to the handler (once per clock deadline)",),
    )
    type: Literal["ComplaintSlaBreached"] = Field(
        default="ComplaintSlaBreached", description="Event name."
    )
    complaint_id: EntityId = Field(description="Identifier of the complaint.")
    clock: SlaClock = Field(description="Clock that breached.")
    severity: ComplaintSeverity = Field(description="Severity of the complaint.")
    handler_id: StaffId = Field(description="Current handler.")
    due_at: UtcDatetime = Field(description="The deadline, UTC.")
    breached_at: UtcDatetime = Field(description="When the breach was detected, UTC.")


class ComplaintResolved(_ComplaintsBase):
    """Measures were agreed and carried out; the reply was given to the customer."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The handler records the resolution.",
        emitted_by=("complaints",),
        reacted_by=(
            "notifier: cancels the complaint's open tasks (handling, escalations) and alerts",
            "notifier: verification callback task for customer relations after the dealer's "
            "complaints.verification_callback_after (default 3 days); its satisfied outcome "
            "closes the complaint, dissatisfied reopens it (complaints)",
        ),
    )
    type: Literal["ComplaintResolved"] = Field(
        default="ComplaintResolved", description="Event name."
    )
    complaint_id: EntityId = Field(description="Identifier of the complaint.")
    handler_id: StaffId = Field(description="Handler.")
    responsibility: Responsibility = Field(description="Who was responsible.")
    responsible_department: Department | None = Field(
        default=None, description="Department responsible, if ours."
    )
    cause: Text | None = Field(default=None, description="Root cause found.")
    measures: list[Line] = Field(min_length=1, description="Measures taken.")
    resolution: Text = Field(description="What the customer was told.")
    resolved_at: UtcDatetime = Field(description="When, UTC.")
    responsible_staff_id: StaffId | None = Field(
        default=None, description="The responsible person's staff id, when one was named."
    )


class ComplaintReopened(_ComplaintsBase):
    """The customer was not satisfied with the resolution; the complaint is open again."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The verification callback or the customer rejects the resolution.",
        emitted_by=("complaints",),
        reacted_by=(
            "notifier: new handling task for the handler, due at once; marketing is "
            "suppressed again while it is open",
        ),
    )
    type: Literal["ComplaintReopened"] = Field(
        default="ComplaintReopened", description="Event name."
    )
    complaint_id: EntityId = Field(description="Identifier of the complaint.")
    handler_id: StaffId = Field(description="Handler.")
    reason: Text = Field(description="Why the customer is not satisfied.")
    reopen_count: int = Field(ge=1, description="How many times it has been reopened.")
    reopened_at: UtcDatetime = Field(description="When, UTC.")


class ComplaintClosed(_ComplaintsBase):
    """The customer confirmed the resolution; the loop is closed."""

    doc: ClassVar[EventDoc] = EventDoc(
        when="The customer confirms, or the dealer closes after verification.",
        emitted_by=("complaints",),
        reacted_by=(
            "notifier: cancels the complaint's open alert tasks",
            "notifier: lifts the open-complaint marketing suppression (once no other "
            "complaint of the customer is open)",
        ),
    )
    type: Literal["ComplaintClosed"] = Field(default="ComplaintClosed", description="Event name.")
    complaint_id: EntityId = Field(description="Identifier of the complaint.")
    customer_confirmed: bool = Field(description="The customer confirmed the resolution.")
    closed_by: StaffId = Field(description="Who closed it.")
    closed_at: UtcDatetime = Field(description="When, UTC.")


COMPLAINTS_EVENTS: tuple[type[DomainEvent], ...] = (
    ComplaintOpened,
    ComplaintAcknowledged,
    ComplaintAssigned,
    ComplaintEscalated,
    ComplaintSlaBreached,
    ComplaintResolved,
    ComplaintReopened,
    ComplaintClosed,
)
