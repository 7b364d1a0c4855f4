"""The advisor's retention call planned from CustomerAtRisk."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from dealerflow.contracts.care_enums import RecordKind, TaskKind
from dealerflow.notifier.domain_retention import AtRiskFacts, plan_retention_call
from dealerflow.notifier.domain_types import StaffRole

AT = datetime(2026, 3, 3, 19, 0, tzinfo=UTC)
VISIT = datetime(2025, 2, 1, 2, 0, tzinfo=UTC)
FACTS = AtRiskFacts("D001", uuid.uuid4(), "at_risk", "VIN1", VISIT, 13, "C", "adv-7", AT)


def test_the_retention_call_is_for_the_last_advisor_at_once() -> None:
    task = plan_retention_call(FACTS)
    assert task.kind is TaskKind.RETENTION_CALL
    assert (task.assignee_role, task.assignee_id) == (StaffRole.ADVISOR, "adv-7")
    assert task.due_at == AT
    assert (task.related.kind, task.related.id) == (RecordKind.CUSTOMER, str(FACTS.customer_id))
    assert "no visit for 13 months" in task.script
    assert "tier C" in task.script


def test_one_call_per_vin_level_and_spell() -> None:
    again = replace(FACTS, detected_at=AT.replace(day=4), months_since_last_visit=14)
    assert plan_retention_call(again).key == plan_retention_call(FACTS).key  # redelivered
    lost = replace(FACTS, level="lost")
    new_spell = replace(FACTS, last_visit_at=AT)
    keys = {plan_retention_call(f).key for f in (FACTS, lost, new_spell)}
    assert len(keys) == 3


def test_no_advisor_leaves_it_to_the_role_and_never_serviced_says_so() -> None:
    task = plan_retention_call(replace(FACTS, advisor_id=None, last_visit_at=None))
    assert task.assignee_id is None
    assert "never serviced here" in task.script
