"""Who complaint work goes to, from the dealer's people: the default handler, each
escalation rung, replacements while someone is away, and the placeholders. No I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from dealerflow.complaints.domain_people import (
    default_handler,
    escalation_target,
)
from dealerflow.contracts.care_enums import EscalationRole
from dealerflow.policy import (
    DealerPolicy,
    DealerSettings,
    placeholder_assignee,
    settings_with_overrides,
)

DEALER = "sh-pudong-01"
ON = date(2025, 3, 5)

STAFF: list[dict[str, Any]] = [
    {"staff_id": "cr-li", "roles": ["customer_relations"], "replaced_by": "cr-zhou"},
    {"staff_id": "cr-zhou", "roles": ["customer_relations"]},
    {"staff_id": "sm-chen", "roles": ["sales_manager"]},
    {"staff_id": "svc-wu", "roles": ["service_manager"]},
    {"staff_id": "gm-zhang", "roles": ["gm"]},
]
STAFFED = settings_with_overrides(
    {"people": {"staff": STAFF, "oem_region": {"name": "East region", "staff_id": "oem-east"}}}
)
NOBODY = DealerSettings()


def target(rung: EscalationRole, dealer: DealerSettings = STAFFED, **complaint: Any) -> str:
    facts = {"category": "after_sales_service", "department": None, **complaint}
    return escalation_target(rung, dealer=dealer, dealer_id=DEALER, on=ON, **facts)


def test_the_default_handler_is_customer_relations_or_the_placeholder() -> None:
    assert default_handler(STAFFED, DEALER, ON) == "cr-li"
    assert default_handler(NOBODY, DEALER, ON) == "customer-relations:sh-pudong-01"


def test_an_away_handler_s_complaints_go_to_their_replacement() -> None:
    away = [{**STAFF[0], "away_from": "2025-03-01", "away_until": "2025-03-09"}, *STAFF[1:]]
    dealer = settings_with_overrides({"people": {"staff": away}})
    assert default_handler(dealer, DEALER, ON) == "cr-zhou"
    assert default_handler(dealer, DEALER, date(2025, 3, 10)) == "cr-li"  # back


@pytest.mark.parametrize(
    ("category", "department", "manager"),
    [
        ("after_sales_service", None, "svc-wu"),
        ("product_quality", None, "svc-wu"),
        ("sales_service", None, "sm-chen"),
        ("sales_service", "after_sales", "svc-wu"),  # the department concerned decides
        ("product_quality", "sales", "sm-chen"),
        ("after_sales_service", "parts", "svc-wu"),
        ("other", None, "department-manager:sh-pudong-01"),
        ("other", "finance", "department-manager:sh-pudong-01"),
    ],
)
def test_the_department_manager_follows_department_then_category(
    category: str, department: str | None, manager: str
) -> None:
    got = target(EscalationRole.DEPARTMENT_MANAGER, category=category, department=department)
    assert got == manager


def test_gm_and_oem_region_come_from_people_else_placeholders() -> None:
    assert target(EscalationRole.GM) == "gm-zhang"
    assert target(EscalationRole.OEM_REGION) == "oem-east"
    assert target(EscalationRole.GM, NOBODY) == "gm:sh-pudong-01"
    assert target(EscalationRole.OEM_REGION, NOBODY) == "oem-region:sh-pudong-01"
    assert target(EscalationRole.DEPARTMENT_MANAGER, NOBODY) == "department-manager:sh-pudong-01"
    named = settings_with_overrides({"people": {"oem_region": {"name": "East region"}}})
    assert target(EscalationRole.OEM_REGION, named) == "East region"
    long_name = settings_with_overrides({"people": {"oem_region": {"name": "x" * 65}}})
    assert target(EscalationRole.OEM_REGION, long_name) == "oem-region:sh-pudong-01"


def test_placeholders_and_the_dealer_local_date() -> None:
    assert placeholder_assignee("customer_relations", "D1") == "customer-relations:D1"
    late = datetime(2025, 3, 4, 17, 0, tzinfo=UTC)  # 01:00 on the 5th in Shanghai
    assert NOBODY.local_today(late) == date(2025, 3, 5)


def test_the_policy_ladder_rungs_are_the_contract_s() -> None:
    assert DealerPolicy().complaints.escalation_ladder[1:] == [r.value for r in EscalationRole]


@pytest.mark.parametrize(
    "ladder",
    [["handler", "gm"], ["handler", "department_manager", "ceo"], ["handler", "gm", "gm"]],
)
def test_a_ladder_that_skips_or_renames_a_rung_is_refused(ladder: list[str]) -> None:
    with pytest.raises(ValidationError, match="escalation_ladder"):
        settings_with_overrides({"policy": {"complaints": {"escalation_ladder": ladder}}})
