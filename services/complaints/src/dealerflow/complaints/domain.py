"""Complaint rules: default severity, the status machine, and when the system opens a
complaint by itself. SLA clocks and escalation live in `domain_clocks` (re-exported here).

Status machine::

    opened -> acknowledged -> resolved -> closed
                               resolved/closed -> reopened -> resolved

Acknowledging is required before resolving (the customer must first hear that the
complaint was received; a quick on-site fix acknowledges and resolves in one use case).
Recording that the customer was informed of the handling (the legal 7-working-day duty)
changes no status but stops the inform clock and the first-update clock (it is the update
to the customer); resolving stops both too, because the resolution is what the customer
is told.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from dealerflow.complaints.domain_clocks import (
    BreachOutcome,
    Clock,
    EscalationStep,
    escalation_step,
    on_breach,
    pause,
    resolve_clock_on_reopen,
    resume,
    sla_clocks,
    time_left,
)
from dealerflow.contracts.care_enums import (
    ComplaintChannel,
    ComplaintOriginKind,
    ComplaintSeverity,
    SlaClock,
    TaskOutcome,
)
from dealerflow.policy import DealerPolicy

__all__ = [
    "BreachOutcome",
    "Clock",
    "ComplaintAction",
    "ComplaintStatus",
    "EscalationStep",
    "IllegalTransition",
    "PreviousRepair",
    "allowed_actions",
    "clocks_stopped_by",
    "default_severity",
    "escalation_step",
    "find_repeat_repair",
    "normalise_concern",
    "on_breach",
    "pause",
    "resolve_clock_on_reopen",
    "resume",
    "should_open_complaint_from_quality_check",
    "should_open_complaint_from_survey",
    "should_open_complaint_from_task",
    "sla_clocks",
    "time_left",
    "transition",
]


class ComplaintStatus(StrEnum):
    """Where a complaint is in its life cycle."""

    OPENED = "opened"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


class ComplaintAction(StrEnum):
    """What staff (or the customer's answer) does to a complaint."""

    ACKNOWLEDGE = "acknowledge"
    INFORM_CUSTOMER = "inform_customer"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"


class IllegalTransition(ValueError):
    """The action is not allowed in the complaint's current status."""

    def __init__(self, status: ComplaintStatus, action: ComplaintAction) -> None:
        allowed = ", ".join(sorted(a.value for a in allowed_actions(status))) or "none"
        super().__init__(
            f"cannot {action.value} a complaint that is {status.value} (allowed: {allowed})"
        )
        self.status = status
        self.action = action

    @property
    def problem_extensions(self) -> dict[str, str]:
        """What the HTTP problem names besides the message: the status and the action."""
        return {"complaint_status": self.status.value, "action": self.action.value}


_S, _A = ComplaintStatus, ComplaintAction
_TRANSITIONS: dict[tuple[ComplaintStatus, ComplaintAction], ComplaintStatus] = {
    (_S.OPENED, _A.ACKNOWLEDGE): _S.ACKNOWLEDGED,
    (_S.OPENED, _A.INFORM_CUSTOMER): _S.OPENED,
    (_S.ACKNOWLEDGED, _A.INFORM_CUSTOMER): _S.ACKNOWLEDGED,
    (_S.ACKNOWLEDGED, _A.RESOLVE): _S.RESOLVED,
    (_S.REOPENED, _A.INFORM_CUSTOMER): _S.REOPENED,
    (_S.REOPENED, _A.RESOLVE): _S.RESOLVED,
    (_S.RESOLVED, _A.CLOSE): _S.CLOSED,
    (_S.RESOLVED, _A.REOPEN): _S.REOPENED,
    (_S.CLOSED, _A.REOPEN): _S.REOPENED,
}

_STOPS: dict[ComplaintAction, frozenset[SlaClock]] = {
    _A.ACKNOWLEDGE: frozenset({SlaClock.ACKNOWLEDGE}),
    _A.INFORM_CUSTOMER: frozenset({SlaClock.INFORM, SlaClock.FIRST_UPDATE}),
    _A.RESOLVE: frozenset({SlaClock.RESOLVE, SlaClock.INFORM, SlaClock.FIRST_UPDATE}),
    _A.CLOSE: frozenset(),
    _A.REOPEN: frozenset(),
}


def allowed_actions(status: ComplaintStatus | str) -> frozenset[ComplaintAction]:
    """Actions allowed in a status."""
    current = ComplaintStatus(status)
    return frozenset(action for (state, action) in _TRANSITIONS if state is current)


def transition(status: ComplaintStatus | str, action: ComplaintAction | str) -> ComplaintStatus:
    """The status after `action`; raises `IllegalTransition` when it is not allowed."""
    current, wanted = ComplaintStatus(status), ComplaintAction(action)
    try:
        return _TRANSITIONS[(current, wanted)]
    except KeyError:
        raise IllegalTransition(current, wanted) from None


def clocks_stopped_by(action: ComplaintAction | str) -> frozenset[SlaClock]:
    """SLA clocks an action satisfies (their timers are cancelled by key). Reopening starts
    a new resolve clock (`resolve_clock_on_reopen`)."""
    return _STOPS[ComplaintAction(action)]


# -- severity ------------------------------------------------------------------------------

_CRITICAL_CHANNELS = frozenset({ComplaintChannel.MEDIA, ComplaintChannel.REGULATOR})
_HIGH_ORIGINS = frozenset(
    {ComplaintOriginKind.REPEAT_REPAIR, ComplaintOriginKind.FAILED_QUALITY_CHECK}
)


def default_severity(
    channel: ComplaintChannel | str,
    *,
    safety: bool = False,
    injury: bool = False,
    origin: ComplaintOriginKind | str = ComplaintOriginKind.MANUAL,
) -> ComplaintSeverity:
    """Severity a new complaint gets unless staff choose otherwise.

    Critical: a safety issue, an injury, or received via the media or a regulator
    (DOMAIN.md). High (our choice): a repeat repair or a failed quality check that reached
    the customer - the vehicle already failed them twice. Everything else: normal.
    """
    if safety or injury or channel in _CRITICAL_CHANNELS:
        return ComplaintSeverity.CRITICAL
    if origin in _HIGH_ORIGINS:
        return ComplaintSeverity.HIGH
    return ComplaintSeverity.NORMAL


# -- automatic opening ---------------------------------------------------------------------


def should_open_complaint_from_task(outcome: TaskOutcome | str | None) -> bool:
    """A callback recorded as dissatisfied opens a complaint."""
    return outcome == TaskOutcome.DISSATISFIED


def should_open_complaint_from_survey(score: int, policy: DealerPolicy) -> bool:
    """A survey score at or below the threshold (default 6 of 0-10) opens a complaint."""
    rules = policy.complaints
    if not 0 <= score <= rules.survey_max_score:
        raise ValueError(f"survey score {score} outside 0-{rules.survey_max_score}")
    return score <= rules.survey_dissatisfied_max_score


def should_open_complaint_from_quality_check(failed: bool, reached_customer: bool) -> bool:
    """A failed quality check opens a complaint only once the customer was affected by it
    (caught in the workshop it is rework, not a complaint)."""
    return failed and reached_customer


@dataclass(frozen=True, slots=True)
class PreviousRepair:
    """An earlier repair of a vehicle, as service-center reports it."""

    repair_order_id: str
    vin: str
    concern: str
    completed_at: datetime


_PUNCTUATION = re.compile(r"[\W_]+", re.UNICODE)


def normalise_concern(concern: str) -> str:
    """A concern reduced for comparison: NFKC, case-folded, punctuation and spaces folded
    to single spaces (so "Brake noise!" and "brake  noise" match, and full-width Chinese
    punctuation does not matter)."""
    text = unicodedata.normalize("NFKC", concern).casefold()
    return _PUNCTUATION.sub(" ", text).strip()


def find_repeat_repair(
    vin: str,
    concern: str,
    previous: Iterable[PreviousRepair],
    at: datetime,
    policy: DealerPolicy,
) -> PreviousRepair | None:
    """The most recent earlier repair of the same vehicle for the same concern completed
    within the repeat window (default 30 days) before `at`, if any.

    The concern is compared after `normalise_concern`; pass a concern code instead of
    free text where the workshop system has one.
    """
    window = policy.complaints.repeat_repair_window
    wanted_vin, wanted_concern = vin.strip().upper(), normalise_concern(concern)
    matches = [
        repair
        for repair in previous
        if repair.vin.strip().upper() == wanted_vin
        and normalise_concern(repair.concern) == wanted_concern
        and at - window <= repair.completed_at < at
    ]
    return max(matches, key=lambda repair: repair.completed_at, default=None)
