"""Bodies of the care calendar (GET /v1/care-calendar, POST /v1/care-calendar/preview)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from dealerflow.contracts.envelope import Envelope
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.notifier.domain_calendar import EffectiveRule
from dealerflow.notifier.usecases_calendar import CalendarView, PreviewView


class CareRuleOut(BaseModel):
    """One rule of the care calendar as the dealer has it."""

    key: str = Field(description="Rule key (what policy care.disabled names).")
    title: str
    enabled: bool = Field(description="False when the dealer turned it off (care.disabled).")
    can_turn_off: bool = Field(
        description="False for staff's own tasks and staff alerts (care.disabled ignores them)."
    )
    makes: str = Field(description="The TaskKind or ReminderKind it makes, or staff_alert.")
    purpose: str | None = Field(description="Consent purpose of a customer message.")
    who: str = Field(description="Staff role, or customer for a message.")
    triggers: list[str] = Field(description="Event types whose handler plans it.")
    cancels: list[str] = Field(description="Event types that cancel what it planned.")
    moved_by: list[str] = Field(description="Event types that move it to another assignee.")
    also_from: str | None = Field(description="Other sources (timers, routes, outcomes).")
    timing: str = Field(description="When, with the dealer's numbers.")
    policy_keys: dict[str, str] = Field(
        description="The policy keys that change the timing, with their current values."
    )
    hours: str = Field(description="How business and quiet hours move it.")

    @classmethod
    def of(cls, effective: EffectiveRule) -> CareRuleOut:
        rule = effective.rule
        return cls(
            key=rule.key,
            title=rule.title,
            enabled=effective.enabled,
            can_turn_off=rule.can_turn_off,
            makes=str(rule.makes),
            purpose=rule.purpose.value if rule.purpose is not None else None,
            who=str(rule.who),
            triggers=[t.__name__ for t in rule.triggers],
            cancels=[t.__name__ for t in rule.cancels],
            moved_by=[t.__name__ for t in rule.moved_by],
            also_from=rule.also_from,
            timing=effective.timing.text,
            policy_keys=dict(effective.timing.numbers),
            hours=rule.hours,
        )


class CareCalendarOut(BaseModel):
    """The dealer's effective care calendar."""

    dealer_id: str
    rules: list[CareRuleOut]
    unknown_disabled: list[str] = Field(
        description="Keys in the dealer's care.disabled that name no rule that can be "
        "turned off (ignored)."
    )

    @classmethod
    def of(cls, view: CalendarView) -> CareCalendarOut:
        return cls(
            dealer_id=view.dealer_id,
            rules=[CareRuleOut.of(r) for r in view.rules],
            unknown_disabled=view.unknown_disabled,
        )


class PreviewTaskOut(BaseModel):
    """A staff task the event would create (status open) or change (e.g. cancelled)."""

    business_key: str
    kind: str
    status: str
    assignee: str | None
    assignee_role: str | None
    due_at: datetime
    title: str


class PreviewReminderOut(BaseModel):
    """A customer message the event would plan (status scheduled) or withdraw."""

    business_key: str
    kind: str
    status: str
    channel: str
    purpose: str
    send_at: datetime


class PreviewMessageOut(BaseModel):
    """A message queued at once (a staff alert, or a suppressed/sent customer message)."""

    business_key: str
    kind: str
    audience: str
    channel: str
    status: str
    policy: str | None = Field(description="The contact policy that suppressed it, if any.")


class PreviewTimerOut(BaseModel):
    """A durable timer the event would arm (pending) or cancel."""

    key: str
    kind: str
    status: str
    due_at: datetime


class PreviewEventOut(BaseModel):
    """An event the notifier would publish."""

    type: str
    data: dict[str, Any]

    @classmethod
    def of(cls, envelope: Envelope[DomainEvent]) -> PreviewEventOut:
        return cls(type=envelope.meta.type, data=envelope.event.model_dump(mode="json"))


class CarePreviewOut(BaseModel):
    """What the notifier's handlers would do with the event (all rolled back)."""

    dealer_id: str
    event_type: str
    handled: bool = Field(description="False when the notifier has no handler for it.")
    rules: list[str] = Field(description="Keys of the care rules the event triggers.")
    disabled_rules: list[str] = Field(
        description="Of those, the rules the dealer turned off (they planned nothing)."
    )
    tasks: list[PreviewTaskOut]
    reminders: list[PreviewReminderOut]
    messages: list[PreviewMessageOut]
    timers: list[PreviewTimerOut]
    published: list[PreviewEventOut]
    suppressions: list[PreviewEventOut] = Field(
        description="The NotificationSuppressed events among those published."
    )

    @classmethod
    def of(cls, view: PreviewView) -> CarePreviewOut:
        published = [PreviewEventOut.of(e) for e in view.published]
        written = view.written
        return cls(
            dealer_id=view.dealer_id,
            event_type=view.event_type,
            handled=view.handlers > 0,
            rules=[r.key for r in view.rules],
            disabled_rules=[r.key for r in view.disabled],
            tasks=[PreviewTaskOut.model_validate(t, from_attributes=True) for t in written.tasks],
            reminders=[
                PreviewReminderOut.model_validate(r, from_attributes=True)
                for r in written.reminders
            ],
            messages=[
                PreviewMessageOut.model_validate(m, from_attributes=True) for m in written.messages
            ],
            timers=[
                PreviewTimerOut.model_validate(t, from_attributes=True) for t in written.timers
            ],
            published=published,
            suppressions=[p for p in published if p.type.endswith(".NotificationSuppressed.v1")],
        )
