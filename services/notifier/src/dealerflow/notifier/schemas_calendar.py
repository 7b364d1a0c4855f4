"""Bodies of the care calendar (GET /v1/care-calendar, POST /v1/care-calendar/preview)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from dealerflow.notifier.domain_calendar import EffectiveRule
from dealerflow.notifier.usecases_calendar import CalendarView


class CareRuleOut(BaseModel):
    """One rule of the care calendar as the dealer has it."""

    key: str = Field(description="Rule key (what policy care.disabled names).")
    title: str
    enabled: bool = Field(description="False when the dealer turned it off (care.disabled).")
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
        description="Keys in the dealer's care.disabled that name no rule (ignored)."
    )

    @classmethod
    def of(cls, view: CalendarView) -> CareCalendarOut:
        return cls(
            dealer_id=view.dealer_id,
            rules=[CareRuleOut.of(r) for r in view.rules],
            unknown_disabled=view.unknown_disabled,
        )
