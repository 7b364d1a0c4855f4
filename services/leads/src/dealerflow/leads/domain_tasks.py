"""What leads does about the notifier's tasks (pure rules).

The first-contact SLA is the notifier's rule: it warns, escalates, and publishes the
first-contact task's TaskDue again at the dealer's reassign watch with the breaches
counted (``TaskDue.breaches``). Leads only acts on that count: at
``reassign_after_breaches`` the lead goes to the next on-duty consultant.
"""

from __future__ import annotations

from dealerflow.contracts.care_enums import TaskKind


def reassigns_lead(task_kind: str, breaches: int, reassign_after_breaches: int) -> bool:
    """Whether a due task of a lead takes the lead from its consultant: a first-contact
    task open past ``reassign_after_breaches`` SLA periods (the dealer's policy)."""
    return task_kind == TaskKind.LEAD_FIRST_CONTACT.value and breaches >= reassign_after_breaches
