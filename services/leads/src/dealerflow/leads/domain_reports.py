"""Pure rules of the sales manager's views of leads (``usecases_reports``): the dealer-local
day a report covers, and where a lead stands on a consultant's worklist."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class WorkItemState(StrEnum):
    """Why a lead is on a consultant's worklist today."""

    #: never contacted: the first contact is owed (its SLA runs in the notifier)
    FIRST_CONTACT = "first_contact"
    #: the planned next contact is already past
    OVERDUE = "overdue"
    #: the planned next contact falls later today (dealer-local)
    DUE_TODAY = "due_today"


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants (aware) at which ``day`` starts and the next day starts in ``tz`` (a
    DST day is 23 or 25 hours long)."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def work_item_state(
    *, last_contacted_at: datetime | None, next_contact_at: datetime | None, now: datetime
) -> WorkItemState | None:
    """Where an open lead stands today: a first contact owed, overdue, due later today, or
    nothing to do yet (None; a lead planned for a later day is not on today's list, and
    the caller selected only leads due before the day ends)."""
    if last_contacted_at is None and next_contact_at is None:
        return WorkItemState.FIRST_CONTACT
    if next_contact_at is None:
        return None
    return WorkItemState.OVERDUE if next_contact_at < now else WorkItemState.DUE_TODAY


#: The funnel's stages, in order; each counts the period's new leads that reached it.
FUNNEL_STAGES: tuple[str, ...] = (
    "new",
    "contacted",
    "appointment",
    "visit",
    "test_drive",
    "contract",
    "delivered",
)
