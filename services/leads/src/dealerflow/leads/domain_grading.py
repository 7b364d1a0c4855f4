"""Intent grades and the grade transitions the handbook allows (pure rules).

The follow-up cadence per grade and the re-grade horizon are dealer settings
(``LeadPolicy``) that the notifier acts on (it schedules the follow-ups and re-grade
prompts); leads only checks a reported next contact against the cadence
(``domain_contact``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from dealerflow.contracts.enums import LeadGrade, LostReason

#: The intent grade is the contracts vocabulary (N H A B C O D F).
Grade = LeadGrade

#: Grades a consultant actively follows up on a cadence.
ACTIVE_GRADES: frozenset[Grade] = frozenset({Grade.H, Grade.A, Grade.B, Grade.C})
#: Grades after which the lead is closed: a later submission starts a new lead.
CLOSED_GRADES: frozenset[Grade] = frozenset({Grade.D, Grade.F})


class LeadRejected(ValueError):
    """Input the lead rules refuse; the message says why (a 422 over HTTP, a dead letter
    on the inbound topic)."""


class InvalidGradeTransition(LeadRejected):
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


def expected_order_by(
    grade: str, graded_at: datetime | None, horizons: Mapping[str, timedelta]
) -> datetime | None:
    """When a lead of an intent grade said it would order: its grading plus the dealer's
    purchase horizon of that grade (H 7 days, A 15, B 30, C 90 by default); None for the
    grades without one (N, O, D, F) or a lead never graded."""
    horizon = horizons.get(grade)
    if horizon is None or graded_at is None:
        return None
    return graded_at + horizon
