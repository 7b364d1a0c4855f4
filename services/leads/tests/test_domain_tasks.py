"""What leads does about the notifier's tasks: the breach that reassigns a lead."""

import pytest

from dealerflow.leads.domain_tasks import reassigns_lead


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
