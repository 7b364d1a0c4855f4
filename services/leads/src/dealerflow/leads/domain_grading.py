"""Intent grades, follow-up cadence, re-grade horizon and grade transitions (pure rules).

Defaults come from DOMAIN.md section 1; every number is a per-dealer setting, so each
function takes the dealer's value as a parameter and only falls back to the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from dealerflow.contracts.enums import LeadGrade, LostReason
from dealerflow.policy import LeadPolicy

#: The intent grade is the contracts vocabulary (N H A B C O D F).
Grade = LeadGrade

#: Grades a consultant actively follows up on a cadence.
ACTIVE_GRADES: frozenset[Grade] = frozenset({Grade.H, Grade.A, Grade.B, Grade.C})
#: Grades after which the lead is closed: a later submission starts a new lead.
CLOSED_GRADES: frozenset[Grade] = frozenset({Grade.D, Grade.F})


def cadence_from_policy(lead_policy: LeadPolicy) -> dict[Grade, timedelta]:
    """The dealer's follow-up cadence (LeadPolicy.follow_up_every) keyed by Grade."""
    return {Grade(grade): every for grade, every in lead_policy.follow_up_every.items()}


def horizons_from_policy(lead_policy: LeadPolicy) -> dict[Grade, timedelta]:
    """The dealer's grade horizons: LeadPolicy.purchase_horizon, with H taken from
    LeadPolicy.hot_regrade_after (the setting DOMAIN.md names for H)."""
    horizons = {Grade(grade): within for grade, within in lead_policy.purchase_horizon.items()}
    horizons[Grade.H] = lead_policy.hot_regrade_after
    return horizons


DEFAULT_LEAD_POLICY = LeadPolicy()
#: H 2 days, A 3, B 7, C 14 (DOMAIN.md defaults, via dealerflow.policy).
DEFAULT_FOLLOW_UP_CADENCE: Mapping[Grade, timedelta] = cadence_from_policy(DEFAULT_LEAD_POLICY)
#: How long a grade's promise lasts ("orders within N days"): H 7, A 15, B 30, C 90.
DEFAULT_GRADE_HORIZON: Mapping[Grade, timedelta] = horizons_from_policy(DEFAULT_LEAD_POLICY)


class FollowUpKind(StrEnum):
    CONSULTANT_FOLLOW_UP = "consultant_follow_up"
    MANAGER_REVIEW = "manager_review"


@dataclass(frozen=True)
class FollowUp:
    kind: FollowUpKind
    due_at: datetime


def next_follow_up(
    grade: Grade,
    last_contact_at: datetime,
    cadence: Mapping[Grade, timedelta] = DEFAULT_FOLLOW_UP_CADENCE,
) -> FollowUp | None:
    """The next follow-up a lead at `grade` needs after a contact at `last_contact_at`.

    H/A/B/C: a consultant follow-up one cadence interval later. F: a manager review, due
    at once (the manager reviews lost leads daily). N: None, because an ungraded lead is
    driven by the first-contact SLA, not a cadence. O/D: None (no sales cadence; owner
    care after delivery is scheduled by the sales service).
    """
    if grade is Grade.F:
        return FollowUp(FollowUpKind.MANAGER_REVIEW, last_contact_at)
    if grade not in ACTIVE_GRADES:
        return None
    try:
        interval = cadence[grade]
    except KeyError:
        raise ValueError(f"no follow-up cadence configured for grade {grade}") from None
    if interval <= timedelta(0):
        raise ValueError(f"follow-up cadence for grade {grade} must be positive")
    return FollowUp(FollowUpKind.CONSULTANT_FOLLOW_UP, last_contact_at + interval)


def regrade_due_at(
    grade: Grade,
    graded_at: datetime,
    horizons: Mapping[Grade, timedelta] = DEFAULT_GRADE_HORIZON,
) -> datetime | None:
    """When a lead kept at `grade` has outlived its promise (None if grade has none)."""
    horizon = horizons.get(grade)
    return None if horizon is None else graded_at + horizon


def needs_regrade(
    grade: Grade,
    graded_at: datetime,
    now: datetime,
    horizons: Mapping[Grade, timedelta] = DEFAULT_GRADE_HORIZON,
) -> bool:
    """True once a lead has stayed at `grade` past its horizon (H: 7 days).

    At exactly the horizon the promise still holds ("within 7 days"), so only a strictly
    later `now` prompts a re-grade.
    """
    due = regrade_due_at(grade, graded_at, horizons)
    return due is not None and now > due


class InvalidGradeTransition(ValueError):
    """A grade change the handbook does not allow; the message says why."""


# Which grades a lead may move to from each grade (keeping a grade re-confirms it).
# Nothing moves back to N (an unreached lead may stay there);
# D (delivered) and F (lost) close the lead: a returning customer becomes a new lead.
_ALLOWED_TRANSITIONS: Mapping[Grade, frozenset[Grade]] = {
    Grade.N: frozenset({Grade.N, Grade.H, Grade.A, Grade.B, Grade.C, Grade.O, Grade.F}),
    Grade.H: frozenset({Grade.H, Grade.A, Grade.B, Grade.C, Grade.O, Grade.F}),
    Grade.A: frozenset({Grade.H, Grade.A, Grade.B, Grade.C, Grade.O, Grade.F}),
    Grade.B: frozenset({Grade.H, Grade.A, Grade.B, Grade.C, Grade.O, Grade.F}),
    Grade.C: frozenset({Grade.H, Grade.A, Grade.B, Grade.C, Grade.O, Grade.F}),
    # A cancelled contract either goes back to negotiating or is lost.
    Grade.O: frozenset({Grade.O, Grade.H, Grade.A, Grade.B, Grade.C, Grade.D, Grade.F}),
    Grade.D: frozenset(),
    Grade.F: frozenset(),
}


def validate_grade_transition(
    current: Grade,
    new: Grade,
    lost_reason: LostReason | None = None,
    lost_note: str | None = None,
) -> None:
    """Raise InvalidGradeTransition unless `current` -> `new` is allowed.

    F needs a lost reason (and OTHER needs a note saying what it was); any other grade
    must not carry one. D is reachable only from O (a signed contract).
    """
    if new not in _ALLOWED_TRANSITIONS[current]:
        raise InvalidGradeTransition(f"grade {current} cannot change to {new}")
    if new is Grade.F:
        if lost_reason is None:
            raise InvalidGradeTransition("grade F needs a lost reason")
        if lost_reason is LostReason.OTHER and not (lost_note and lost_note.strip()):
            raise InvalidGradeTransition("lost reason 'other' needs a note")
    elif lost_reason is not None:
        raise InvalidGradeTransition(f"a lost reason is only recorded with grade F, not {new}")
