"""Who a staff task goes to, from the dealer's people: role holders, stand-ins for people
away, the OEM/region contact and the placeholders. No I/O."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from dealerflow.notifier.domain_people import assignee_for
from dealerflow.notifier.domain_types import StaffRole
from dealerflow.policy import DealerSettings, placeholder_assignee, settings_with_overrides

DEALER = "D001"
ON = date(2025, 3, 3)
AWAY = {"away_from": "2025-03-01", "away_until": "2025-03-07"}

STAFF: list[dict[str, Any]] = [
    {"staff_id": "c-wang", "roles": ["consultant"], **AWAY, "replaced_by": "c-li"},
    {"staff_id": "c-li", "roles": ["consultant"]},
    {"staff_id": "sa-zhao", "roles": ["advisor"]},
    {"staff_id": "cr-sun", "roles": ["customer_relations"]},
    {"staff_id": "sm-chen", "roles": ["sales_manager"]},
    {"staff_id": "svc-wu", "roles": ["service_manager"]},
    {"staff_id": "gm-zhang", "roles": ["gm", "sales_manager"]},
]
STAFFED = settings_with_overrides(
    {"people": {"staff": STAFF, "oem_region": {"name": "East", "staff_id": "oem-east"}}}
)


def to(role: StaffRole, named: str | None = None, dealer: DealerSettings = STAFFED) -> str:
    return assignee_for(role, named, dealer, DEALER, ON)


@pytest.mark.parametrize(
    ("role", "person"),
    [
        (StaffRole.SALES_MANAGER, "sm-chen"),  # the first listed holder
        (StaffRole.SERVICE_MANAGER, "svc-wu"),
        (StaffRole.GM, "gm-zhang"),
        (StaffRole.ADVISOR, "sa-zhao"),
        (StaffRole.CUSTOMER_RELATIONS, "cr-sun"),
        (StaffRole.COMPLAINT_HANDLER, "cr-sun"),
        (StaffRole.CONSULTANT, "c-li"),  # c-wang is away
        (StaffRole.OEM_REGION, "oem-east"),
        (StaffRole.DEPARTMENT_MANAGER, "department-manager:D001"),  # only complaints knows
    ],
)
def test_a_role_goes_to_the_person_holding_it(role: StaffRole, person: str) -> None:
    assert to(role) == person


def test_a_role_nobody_holds_goes_to_the_placeholder() -> None:
    nobody = DealerSettings()
    assert to(StaffRole.SALES_MANAGER, dealer=nobody) == "sales-manager:D001"
    assert to(StaffRole.OEM_REGION, dealer=nobody) == "oem-region:D001"
    assert placeholder_assignee(StaffRole.CUSTOMER_RELATIONS, "D2") == "customer-relations:D2"


def test_a_named_person_away_is_replaced_and_one_back_is_not() -> None:
    assert to(StaffRole.CONSULTANT, "c-wang") == "c-li"
    back = assignee_for(StaffRole.CONSULTANT, "c-wang", STAFFED, DEALER, date(2025, 3, 8))
    assert back == "c-wang"
    assert to(StaffRole.ADVISOR, "sa-unlisted") == "sa-unlisted"  # not in people: as named
