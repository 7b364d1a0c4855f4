"""What leads does about the notifier's tasks: the breach that reassigns a lead, the call
tasks that are contacts."""

import pytest

from dealerflow.contracts.care_enums import TaskOutcome
from dealerflow.contracts.enums import ContactOutcome
from dealerflow.leads.domain_tasks import contact_outcome_of_task, logs_contact, reassigns_lead


@pytest.mark.parametrize(
    ("kind", "breaches", "after", "expected"),
    [
        ("lead_first_contact", 2, 2, True),
        ("lead_first_contact", 3, 2, True),
        ("lead_first_contact", 1, 2, False),  # the first breach: the manager escalates
        ("lead_first_contact", 1, 1, True),  # a dealer reassigning at the first breach
        ("lead_follow_up", 5, 2, False),  # only the first contact has this SLA
    ],
)
def test_the_dealers_breach_count_reassigns_a_first_contact(
    kind: str, breaches: int, after: int, expected: bool
) -> None:
    assert reassigns_lead(kind, breaches, after) is expected


@pytest.mark.parametrize(
    ("kind", "contacted_before", "expected"),
    [
        ("lead_first_contact", False, True),  # the first contact, made from the task list
        ("lead_first_contact", True, False),  # completed by that contact: already logged
        ("lead_follow_up", True, True),
        ("lead_regrade", False, True),
        ("lead_lost_review", False, False),  # the manager's, not a call
        ("delivery_callback", False, False),
    ],
)
def test_which_completed_tasks_are_new_contacts(
    kind: str, contacted_before: bool, expected: bool
) -> None:
    assert logs_contact(kind, contacted_before) is expected


def test_task_outcomes_as_contact_outcomes() -> None:
    assert contact_outcome_of_task(TaskOutcome.UNREACHABLE) is ContactOutcome.UNREACHABLE
    for reached in (TaskOutcome.REACHED, TaskOutcome.SATISFIED, TaskOutcome.DISSATISFIED):
        assert contact_outcome_of_task(reached) is ContactOutcome.REACHED
