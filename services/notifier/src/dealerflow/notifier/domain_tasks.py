"""Staff task rules: a task is done only when an outcome is recorded; front-line staff
(consultants, advisors) see and complete only their own tasks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from dealerflow.contracts.care_enums import TaskOutcome
from dealerflow.policy import BusinessCalendar


class TaskStatus(StrEnum):
    """Life cycle of a staff task."""

    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class TaskRuleError(ValueError):
    """A task change the rules do not allow (the API answers 409/422 with the message)."""


#: Roles whose holders work only their own tasks (role names as in the tokens).
FRONT_LINE = frozenset({"consultant", "advisor"})


def own_tasks_only(roles: Iterable[str], subject: str) -> str | None:
    """The one assignee whose tasks a caller may list, read and complete: ``subject``, when
    every role the caller holds is a front-line one (consultant, advisor); None when the
    caller may see everyone's (customer relations, managers, administrators)."""
    held = {str(role) for role in roles}
    return subject if held and held <= FRONT_LINE else None


def is_dissatisfied(outcome: TaskOutcome | str | None) -> bool:
    """True when the customer said they are dissatisfied (this opens a complaint)."""
    return outcome == TaskOutcome.DISSATISFIED


def needs_retry(outcome: TaskOutcome | str | None) -> bool:
    """True when the customer could not be reached and another attempt is due."""
    return outcome == TaskOutcome.UNREACHABLE


def complete_task(
    status: TaskStatus | str, outcome: TaskOutcome | str | None, note: str | None = None
) -> TaskStatus:
    """The status after recording `outcome` on a task; raises `TaskRuleError` when:
    the task is not open, no (or an unknown) outcome is given, or a dissatisfied outcome
    comes without a note saying why."""
    if TaskStatus(status) is not TaskStatus.OPEN:
        raise TaskRuleError(f"a {TaskStatus(status).value} task cannot be completed")
    if outcome is None:
        raise TaskRuleError("a task is done only when an outcome is recorded")
    try:
        recorded = TaskOutcome(outcome)
    except ValueError as exc:
        raise TaskRuleError(f"unknown task outcome {outcome!r}") from exc
    if is_dissatisfied(recorded) and not (note and note.strip()):
        raise TaskRuleError("a dissatisfied outcome needs a note saying why")
    return TaskStatus.DONE


def consecutive_unreachable_days(
    attempts: Iterable[tuple[datetime, TaskOutcome | str]], calendar: BusinessCalendar
) -> int:
    """Distinct dealer-local days with an unreachable attempt since the customer was last
    reached (attempts in any order). Days without an attempt do not break the run: the
    retries are planned on business days, so a closed day in between is not a reach."""
    ordered = sorted(attempts, key=lambda attempt: attempt[0], reverse=True)
    days = set()
    for at, outcome in ordered:
        if outcome != TaskOutcome.UNREACHABLE:
            break
        days.add(calendar.local(at).date())
    return len(days)
