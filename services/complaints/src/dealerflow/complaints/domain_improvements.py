"""Improvement actions: what the dealer does against a cause of complaints (closed loop:
the analysis shows the causes, managers record actions against them and track them to
done). Pure rules: a new action is due today or later (the dealer's today), is done
once, and is overdue while open after its due day."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from dealerflow.complaints.domain_analysis import cause_key


class ActionStatus(StrEnum):
    """Where an improvement action stands."""

    OPEN = "open"
    DONE = "done"


class DueInThePast(ValueError):
    """A new improvement action due before the dealer's today."""


class ActionAlreadyDone(ValueError):
    """Completing an improvement action that is done already."""


class ImprovementActionNotFound(LookupError):
    """No improvement action with that id at that dealer."""

    def __init__(self, action_id: uuid.UUID) -> None:
        super().__init__(f"No improvement action with id {action_id}")


class UnknownComplaints(LookupError):
    """An improvement action naming complaints the dealer does not have."""

    def __init__(self, missing: list[uuid.UUID]) -> None:
        super().__init__("no such complaints at this dealer: " + ", ".join(map(str, missing)))


@dataclass(frozen=True)
class ImprovementAction:
    """One improvement action (a row of improvement_actions)."""

    id: uuid.UUID
    dealer_id: str
    cause: str
    description: str
    owner_staff_id: str
    due_on: date
    status: ActionStatus
    complaint_ids: tuple[uuid.UUID, ...]
    created_at: datetime
    created_by: str | None = None
    completed_at: datetime | None = None
    completed_by: str | None = None
    completion_note: str | None = None

    @property
    def cause_key(self) -> str:
        """The cause as the analysis counts it."""
        return cause_key(self.cause) or self.cause

    def overdue(self, today: date) -> bool:
        """Still open after its due day."""
        return self.status is ActionStatus.OPEN and today > self.due_on


def new_action(
    *,
    action_id: uuid.UUID,
    dealer_id: str,
    cause: str,
    description: str,
    owner_staff_id: str,
    due_on: date,
    complaint_ids: tuple[uuid.UUID, ...],
    at: datetime,
    today: date,
    by: str | None,
) -> ImprovementAction:
    """An open action; refused when due before ``today`` (nobody plans to be late).
    The complaints it answers are kept once each, in the order given."""
    if due_on < today:
        raise DueInThePast(f"due_on {due_on} is before today ({today}) at the dealer")
    return ImprovementAction(
        id=action_id,
        dealer_id=dealer_id,
        cause=" ".join(cause.split()),
        description=description,
        owner_staff_id=owner_staff_id,
        due_on=due_on,
        status=ActionStatus.OPEN,
        complaint_ids=tuple(dict.fromkeys(complaint_ids)),
        created_at=at,
        created_by=by,
    )


def completed(
    action: ImprovementAction, *, at: datetime, by: str | None, note: str | None
) -> ImprovementAction:
    """The action done by ``by`` at ``at``; an action is done once."""
    if action.status is ActionStatus.DONE:
        raise ActionAlreadyDone(f"improvement action {action.id} was done at {action.completed_at}")
    return replace(
        action, status=ActionStatus.DONE, completed_at=at, completed_by=by, completion_note=note
    )
