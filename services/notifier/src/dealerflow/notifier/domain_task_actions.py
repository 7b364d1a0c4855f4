"""Rules of staff working their tasks: who may claim one, how far a snooze may move it,
who may reassign, what a manual task is, and who an overdue task escalates to. Pure:
contracts, policy and stdlib only.

Choices (documented in docs/services.md, "notifier: staff working their tasks"):
- a consultant or advisor claims only a task that is already theirs or still in the
  pool of a role they hold: assigned to the role's placeholder (``consultant:D001``,
  what `domain_people` gives a task when the dealer lists nobody for the role); anyone
  else on the staff (customer relations, managers) may claim any open task;
- a snooze moves the due time forward, never past the task's hard SLA: the due time it
  was planned with plus the dealer's ``owner_care.task_snooze_max``, and for the kinds
  bound by an SLA (:data:`SLA_BOUND`) the planned due time itself; the reason is a code
  (:data:`SNOOZE_REASONS`), not free text;
- only managers (sales/service manager, GM) reassign, to any staff id;
- a delivery, satisfaction, retention or manual callback found the customer
  unreachable: another attempt the next business day (same assignee, key
  ``<first attempt's key>:attempt-<n>``) until the customer was unreachable
  ``owner_care.unreachable_attempts_before_fallback`` times (counted over the attempts:
  :func:`count_unreachable`), then a task for customer relations to reach them another
  way (:func:`plan_unreachable_follow_up`); service callbacks keep their rule of days
  (`domain.plan_unreachable_retry`);
- an overdue task escalates to the manager of the assignee's role
  (:func:`escalation_role`) once, ``owner_care.task_overdue_escalate_after`` past its due
  time, unless it is a first-contact task (its own warning/escalation/reassign watches)
  or an escalation itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from dealerflow.contracts.care_enums import TaskKind, TaskOutcome
from dealerflow.notifier.domain_leads import FIRST_CONTACT_WATCH_SUFFIXES
from dealerflow.notifier.domain_task_texts import staff_text
from dealerflow.notifier.domain_tasks import FRONT_LINE, TaskRuleError
from dealerflow.notifier.domain_types import PlannedTask, StaffRole
from dealerflow.policy import BusinessCalendar, placeholder_assignee

#: Task kinds with an SLA of their own: a snooze may not pass their planned due time.
SLA_BOUND = frozenset(
    {
        TaskKind.LEAD_FIRST_CONTACT,
        TaskKind.DISCOUNT_APPROVAL,
        TaskKind.COMPLAINT_HANDLING,
        TaskKind.COMPLAINT_ESCALATION,
        TaskKind.COMPLAINT_VERIFICATION,
    }
)

#: Why a task is snoozed (codes, no free text: the task keeps no personal data for it).
SNOOZE_REASONS = ("customer_asked", "customer_away", "waiting_on_others", "other")

_MANUAL_ROLE_ORDER = (
    StaffRole.CONSULTANT,
    StaffRole.ADVISOR,
    StaffRole.SALES_MANAGER,
    StaffRole.SERVICE_MANAGER,
    StaffRole.GM,
)

#: Task kinds that never get an overdue escalation (see the module docstring).
NOT_ESCALATED = frozenset({TaskKind.LEAD_FIRST_CONTACT, TaskKind.COMPLAINT_ESCALATION})

#: The business key suffix of an overdue escalation (nested under the task's key, so
#: recording the task's outcome cancels it; see `domain_alerts.dependents_prefix`).
OVERDUE_SUFFIX = ":overdue"


def may_claim(roles: Iterable[str], subject: str, assignee: str, dealer_id: str) -> bool:
    """Whether the caller (token ``roles``, ``subject``) may take a task now assigned to
    ``assignee``: front-line staff only their own or their role's pool, others any."""
    held = {str(role) for role in roles}
    if not held or not held <= FRONT_LINE:
        return True
    if assignee == subject:
        return True
    return assignee in {placeholder_assignee(role, dealer_id) for role in held}


def manual_task_role(roles: Iterable[str]) -> StaffRole:
    """The role a manual task is filed under when the request names none: the caller's
    front-line role (consultant, then advisor), else their manager role (sales manager,
    service manager, GM), else customer relations."""
    held = {str(role) for role in roles}
    for role in _MANUAL_ROLE_ORDER:
        if role.value in held:
            return role
    return StaffRole.CUSTOMER_RELATIONS


def snooze_limit(kind: TaskKind | str, planned_due_at: datetime, snooze_max: timedelta) -> datetime:
    """The latest time a task of ``kind`` planned for ``planned_due_at`` may be snoozed to."""
    try:
        bound = TaskKind(kind) in SLA_BOUND
    except ValueError:
        bound = False
    return planned_due_at if bound else planned_due_at + snooze_max


def check_snooze(until: datetime, now: datetime, limit: datetime, reason: str) -> datetime:
    """``until`` when a snooze to it is allowed; raises TaskRuleError when it is not in the
    future, passes ``limit`` (the hard SLA) or the reason is unknown."""
    if reason not in SNOOZE_REASONS:
        raise TaskRuleError(f"unknown snooze reason {reason!r}")
    if until <= now:
        raise TaskRuleError("a task is snoozed to a time in the future")
    if until > limit:
        raise TaskRuleError(f"a snooze may not pass the task's hard SLA ({limit.isoformat()})")
    return until


def check_manual_due(due_at: datetime, now: datetime) -> datetime:
    """A manual task's due time: not in the past (a minute of clock skew is tolerated)."""
    if due_at < now - timedelta(minutes=1):
        raise TaskRuleError("a manual task is due now or later, not in the past")
    return due_at


def manual_task_key(task_id: object) -> str:
    """The business key of a task staff created by hand."""
    return f"manual:{task_id}"


def overdue_key(business_key: str) -> str:
    """The business key (and timer key suffix) of a task's overdue escalation."""
    return f"{business_key}{OVERDUE_SUFFIX}"


def escalates_when_overdue(kind: TaskKind | str, business_key: str) -> bool:
    """Whether a task of ``kind`` gets an overdue escalation (see the module docstring)."""
    if business_key.endswith((OVERDUE_SUFFIX, *FIRST_CONTACT_WATCH_SUFFIXES)):
        return False  # an escalation itself (overdue, or a first-contact watch's task)
    try:
        return TaskKind(kind) not in NOT_ESCALATED
    except ValueError:
        return True


def escalation_role(assignee_role: StaffRole | str) -> StaffRole:
    """The manager an overdue task of ``assignee_role`` escalates to."""
    try:
        role = StaffRole(assignee_role)
    except ValueError:
        return StaffRole.GM
    if role is StaffRole.CONSULTANT:
        return StaffRole.SALES_MANAGER
    if role in (StaffRole.ADVISOR, StaffRole.PARTS_MANAGER):
        return StaffRole.SERVICE_MANAGER
    return StaffRole.GM


#: Customer calls an unreachable outcome tries again (`plan_unreachable_follow_up`).
RETRIED_WHEN_UNREACHABLE = frozenset(
    {
        TaskKind.DELIVERY_CALLBACK,
        TaskKind.SATISFACTION_CALLBACK,
        TaskKind.RETENTION_CALL,
        TaskKind.MANUAL,
    }
)


def count_unreachable(outcomes: Iterable[TaskOutcome | str | None]) -> int:
    """How many of a task's attempts found the customer unreachable."""
    return sum(1 for outcome in outcomes if outcome == TaskOutcome.UNREACHABLE)


def plan_unreachable_follow_up(
    original: PlannedTask,
    unreachable: int,
    now: datetime,
    calendar: BusinessCalendar,
    before_fallback: int | None,
) -> PlannedTask | None:
    """What follows an unreachable outcome of a callback planned as ``original`` (its
    first attempt) after ``unreachable`` unreachable attempts (this one included): the
    next attempt the next business day, or once ``before_fallback`` is reached the
    fallback task for customer relations; None for other kinds or without a rule."""
    try:
        retried = TaskKind(original.kind) in RETRIED_WHEN_UNREACHABLE
    except ValueError:
        retried = False
    if not retried or before_fallback is None or unreachable < 1:
        return None
    if unreachable >= before_fallback:
        return replace(
            original,
            key=f"{original.key}:unreachable-fallback",
            kind=TaskKind.OTHER,
            due_at=now,
            assignee_role=StaffRole.CUSTOMER_RELATIONS,
            assignee_id=None,
            **staff_text("attempt.unreachable", unreachable=unreachable, script=original.script),
        )
    return replace(
        original,
        key=f"{original.key}:attempt-{unreachable + 1}",
        due_at=calendar.add_business_days(now, 1),
        **staff_text("attempt", attempt=unreachable + 1, script=original.script),
    )
