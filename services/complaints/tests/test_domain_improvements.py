"""Improvement actions: due today or later, done once, overdue while open after the due
day; the cause is the analysis's. No I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from dealerflow.complaints.domain_improvements import (
    ActionAlreadyDone,
    ActionStatus,
    DueInThePast,
    ImprovementAction,
    completed,
    new_action,
)

AT = datetime(2025, 3, 5, 2, 0, tzinfo=UTC)
TODAY = date(2025, 3, 5)
C1, C2 = uuid.uuid4(), uuid.uuid4()


def action(due_on: date = date(2025, 3, 31), **overrides: object) -> ImprovementAction:
    facts: dict[str, object] = {
        "action_id": uuid.uuid4(),
        "dealer_id": "sh-pudong-01",
        "cause": "  Brake pads   worn ",
        "description": "Check pad wear at every service",
        "owner_staff_id": "svc-wu",
        "due_on": due_on,
        "complaint_ids": (C1, C2, C1),
        "at": AT,
        "today": TODAY,
        "by": "gm-zhang",
    }
    facts.update(overrides)
    return new_action(**facts)  # type: ignore[arg-type]


def test_a_new_action_is_open_with_its_cause_tidied_and_complaints_once_each() -> None:
    a = action()
    assert a.status is ActionStatus.OPEN
    assert a.cause == "Brake pads worn"
    assert a.cause_key == "brake pads worn"
    assert a.complaint_ids == (C1, C2)
    assert a.created_by == "gm-zhang"


def test_an_action_is_due_today_or_later() -> None:
    assert action(due_on=TODAY).due_on == TODAY
    with pytest.raises(DueInThePast, match="before today"):
        action(due_on=date(2025, 3, 4))


def test_an_open_action_is_overdue_after_its_due_day_a_done_one_never() -> None:
    a = action(due_on=TODAY)
    assert not a.overdue(TODAY)
    assert a.overdue(date(2025, 3, 6))
    done = completed(a, at=AT, by="svc-wu", note="Checklist updated")
    assert not done.overdue(date(2025, 4, 1))


def test_an_action_is_done_once() -> None:
    done = completed(action(), at=AT, by="svc-wu", note=None)
    assert done.status is ActionStatus.DONE
    assert done.completed_at == AT
    assert done.completed_by == "svc-wu"
    with pytest.raises(ActionAlreadyDone):
        completed(done, at=AT, by="svc-wu", note=None)
