"""Reopening a lead and the manager's review of a lost one (pure rules).

A lost lead (F) waits in the sales manager's review queue until the manager approves the
loss or reopens the lead; a converted lead (O) whose contract is cancelled goes back to
being worked. Either way the lead returns to a *live* grade (H, A, B or C, the grades on
a follow-up cadence): the one asked for, else the last live grade it had, else A (a lead
converted or lost before anyone graded it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from dealerflow.leads.domain_grading import ACTIVE_GRADES, Grade, LeadRejected

#: What the manager decides about a lost lead.
ReviewDecision = Literal["approve", "reopen"]
#: Why a lead went back to a live grade.
ReopeningCause = Literal["review", "contract_cancelled"]

#: The grade a reopened lead gets when its history has no live grade.
DEFAULT_REOPEN_GRADE = Grade.A


def live_grade_before(history: Iterable[Grade]) -> Grade:
    """The last live grade of ``history`` (the lead's grades, oldest first), else A."""
    last = DEFAULT_REOPEN_GRADE
    for grade in history:
        if grade in ACTIVE_GRADES:
            last = grade
    return last


def reopen_grade(requested: Grade | None, history: Iterable[Grade]) -> Grade:
    """The live grade a reopened lead goes back to: ``requested`` (refused with
    LeadRejected unless it is live), else :func:`live_grade_before` of ``history``."""
    if requested is None:
        return live_grade_before(history)
    if requested not in ACTIVE_GRADES:
        live = ", ".join(sorted(ACTIVE_GRADES))
        raise LeadRejected(f"a reopened lead goes back to a live grade ({live}), not {requested}")
    return requested


#: The longest note a leads event carries (LeadGraded, LeadContacted).
NOTE_LIMIT = 2000


def fit_note(text: str, limit: int = NOTE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters (ending in an ellipsis when cut): other
    contexts' texts (a cancellation's reason, a task's note) may be longer."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def cancellation_note(contract_id: str, reason: str) -> str:
    """Why a converted lead was reopened, as its LeadGraded note."""
    return fit_note(f"contract {contract_id} cancelled: {reason.strip()}")


def check_review(decision: ReviewDecision, note: str | None, grade: Grade | None) -> None:
    """Raise LeadRejected for a review the rules refuse: reopening needs a note saying
    why (the consultant reads it), approving takes no grade."""
    if decision == "reopen" and not (note and note.strip()):
        raise LeadRejected("reopening a lost lead needs a note saying why")
    if decision == "approve" and grade is not None:
        raise LeadRejected("an approved loss keeps grade F: give a grade only to reopen")
