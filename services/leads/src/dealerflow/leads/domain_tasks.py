"""What leads does about the notifier's tasks (pure rules).

The first-contact SLA is the notifier's rule: it warns, escalates, and publishes the
first-contact task's TaskDue again at the dealer's reassign watch with the breaches
counted (``TaskDue.breaches``). Leads only acts on that count: at
``reassign_after_breaches`` the lead goes to the next on-duty consultant.

A lead's call task done in the notifier (TaskCompleted of a first-contact, follow-up or
re-grade task) is a call with the prospect: leads writes it into the contact log as a
phone contact. The notifier in turn completes the open first-contact task on the first
LeadContacted, so a first-contact task completed while the lead already has a contact is
that contact coming back, not a new one (:func:`logs_contact`): nothing loops.
"""

from __future__ import annotations

from dealerflow.contracts.care_enums import TaskKind, TaskOutcome
from dealerflow.contracts.enums import ContactOutcome

#: The notifier's tasks that are calls with the lead's prospect.
CONTACT_TASK_KINDS: frozenset[str] = frozenset(
    {TaskKind.LEAD_FIRST_CONTACT, TaskKind.LEAD_FOLLOW_UP, TaskKind.LEAD_REGRADE}
)

_CONTACT_OUTCOMES = {
    TaskOutcome.REACHED: ContactOutcome.REACHED,
    TaskOutcome.UNREACHABLE: ContactOutcome.UNREACHABLE,
    # a satisfaction answer means the prospect was reached
    TaskOutcome.SATISFIED: ContactOutcome.REACHED,
    TaskOutcome.DISSATISFIED: ContactOutcome.REACHED,
}


def contact_outcome_of_task(outcome: TaskOutcome) -> ContactOutcome:
    """A call task's outcome as the contact log's."""
    return _CONTACT_OUTCOMES[outcome]


def logs_contact(task_kind: str, lead_contacted_before: bool) -> bool:
    """Whether a completed task of a lead is a new line of its contact log: a call task,
    except a first-contact task of a lead already contacted (that contact completed it)."""
    if task_kind not in CONTACT_TASK_KINDS:
        return False
    return not (task_kind == TaskKind.LEAD_FIRST_CONTACT.value and lead_contacted_before)


def reassigns_lead(task_kind: str, breaches: int, reassign_after_breaches: int) -> bool:
    """Whether a due task of a lead takes the lead from its consultant: a first-contact
    task open past ``reassign_after_breaches`` SLA periods (the dealer's policy)."""
    return task_kind == TaskKind.LEAD_FIRST_CONTACT.value and breaches >= reassign_after_breaches
