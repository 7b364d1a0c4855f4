"""The lead's follow-up cadence as a pure plan of what the notifier knows of the lead
(`plan_follow_up`), and the lost-lead review task (`plan_lost_review`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from dealerflow.contracts.care_enums import RecordKind, TaskKind
from dealerflow.notifier.domain_leads import (
    LeadFollowUp,
    grade_follow_up_prefixes,
    lost_review_prefix,
    plan_follow_up,
    plan_lost_review,
)
from dealerflow.notifier.domain_types import (
    LeadLostFacts,
    PlannedTask,
    RecordRef,
    StaffRole,
)
from dealerflow.policy import DealerPolicy, policy_with_overrides

POLICY = DealerPolicy()
CUSTOMER = UUID("6f1c2c1e-0000-4000-8000-000000000002")
GRADED = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def lead(**changes: object) -> LeadFollowUp:
    base = LeadFollowUp("d1", CUSTOMER, "L1", consultant_id="c7", grade="B", graded_at=GRADED)
    return replace(base, **changes)


def by_kind(tasks: list[PlannedTask]) -> dict[TaskKind, PlannedTask]:
    found = {t.kind: t for t in tasks}
    assert len(found) == len(tasks)
    return found


def test_the_cadence_counts_from_the_latest_grading_contact_or_reengagement() -> None:
    [graded] = plan_follow_up(lead(), POLICY)
    assert (graded.key, graded.due_at) == (
        "lead:L1:follow-up@20250303T020000Z",
        GRADED + timedelta(days=7),
    )
    contacted = GRADED + timedelta(days=2, hours=3)
    [after_contact] = plan_follow_up(lead(contacted_at=contacted), POLICY)
    assert (after_contact.key, after_contact.due_at) == (
        "lead:L1:follow-up@20250305T050000Z",
        contacted + timedelta(days=7),
    )
    # a contact older than the grading counts from the grading
    [older] = plan_follow_up(lead(contacted_at=GRADED - timedelta(days=1)), POLICY)
    assert older == graded
    back = GRADED + timedelta(days=20)
    declined_then_back = lead(contacted_at=contacted, declined_at=contacted, reengaged_at=back)
    [resumed] = plan_follow_up(declined_then_back, POLICY)
    assert resumed.due_at == back + timedelta(days=7)
    assert (resumed.assignee_role, resumed.assignee_id) == (StaffRole.CONSULTANT, "c7")
    assert resumed.related == RecordRef(RecordKind.LEAD, "L1")


def test_an_agreed_date_is_the_follow_up_at_the_reminder_time_of_that_day() -> None:
    agreed = lead(contacted_at=GRADED + timedelta(hours=1), next_contact_on=date(2025, 3, 20))
    [task] = plan_follow_up(agreed, POLICY)
    assert task.key == "lead:L1:follow-up@20250303T030000Z:2025-03-20"
    assert task.due_at == datetime(2025, 3, 20, 2, 0, tzinfo=UTC)  # 10:00 Shanghai
    assert task.kind is TaskKind.LEAD_FOLLOW_UP
    assert "2025-03-20" in task.script
    # a later grading keeps it; the same date agreed at a later contact is that contact's
    assert (
        plan_follow_up(replace(agreed, grade="A", graded_at=GRADED + timedelta(hours=2)), POLICY)[
            0
        ].key
        == task.key
    )
    again = replace(agreed, contacted_at=GRADED + timedelta(days=3))
    [later] = plan_follow_up(again, POLICY)
    assert (later.key, later.due_at) == (
        "lead:L1:follow-up@20250306T020000Z:2025-03-20",
        task.due_at,
    )
    # the dealer's reminder time
    late = policy_with_overrides({"contact": {"reminder_send_time": "15:30"}})
    [at_half_past_three] = plan_follow_up(agreed, late)
    assert at_half_past_three.due_at == datetime(2025, 3, 20, 7, 30, tzinfo=UTC)


def test_a_new_lead_is_followed_up_only_on_an_agreed_date() -> None:
    new = lead(grade=None, graded_at=None, contacted_at=GRADED)
    assert plan_follow_up(new, POLICY) == []
    assert plan_follow_up(replace(new, grade="N"), POLICY) == []
    [agreed] = plan_follow_up(replace(new, next_contact_on=date(2025, 3, 4)), POLICY)
    assert agreed.due_at == datetime(2025, 3, 4, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize("grade", ["O", "D", "F"])
def test_closed_grades_have_no_sales_follow_up_even_with_an_agreed_date(grade: str) -> None:
    closed = lead(grade=grade, contacted_at=GRADED, next_contact_on=date(2025, 3, 20))
    assert plan_follow_up(closed, POLICY) == []


def test_nothing_is_planned_while_a_declined_invitation_stands() -> None:
    hot = lead(grade="H", contacted_at=GRADED, next_contact_on=date(2025, 3, 20))
    assert len(plan_follow_up(hot, POLICY)) == 2
    declined_at = GRADED + timedelta(hours=2)
    declined = replace(hot, declined_at=declined_at)
    assert declined.invitation_declined
    assert plan_follow_up(declined, POLICY) == []
    # a re-engagement at (or before) the decline does not lift it; a later one does
    assert plan_follow_up(replace(declined, reengaged_at=declined_at), POLICY) == []
    back = replace(declined, reengaged_at=declined_at + timedelta(seconds=1))
    assert not back.invitation_declined
    resumed = by_kind(plan_follow_up(back, POLICY))
    assert set(resumed) == {TaskKind.LEAD_FOLLOW_UP, TaskKind.LEAD_REGRADE}
    # the prompt the decline cancelled comes back under a new key, due as before
    before = by_kind(plan_follow_up(hot, POLICY))[TaskKind.LEAD_REGRADE]
    after = resumed[TaskKind.LEAD_REGRADE]
    assert after.key != before.key
    assert after.due_at == before.due_at == GRADED + timedelta(days=7)


def test_a_contact_does_not_move_the_hot_lead_regrade_prompt() -> None:
    hot = lead(grade="H")
    contacted = GRADED + timedelta(days=1)
    tasks = by_kind(plan_follow_up(replace(hot, contacted_at=contacted), POLICY))
    regrade = tasks[TaskKind.LEAD_REGRADE]
    assert regrade.key == "lead:L1:regrade@20250303T020000Z"
    assert regrade.due_at == GRADED + timedelta(days=7)
    follow_up = tasks[TaskKind.LEAD_FOLLOW_UP]
    assert follow_up.due_at == contacted + timedelta(days=2)


def test_every_key_is_under_the_prefixes_a_replan_cancels() -> None:
    prefixes = grade_follow_up_prefixes("L1")
    states = [
        lead(grade="H"),
        lead(grade="H", contacted_at=GRADED + timedelta(days=1)),
        lead(grade="A", next_contact_on=date(2025, 3, 9), contacted_at=GRADED),
        lead(grade="H", declined_at=GRADED, reengaged_at=GRADED + timedelta(days=1)),
    ]
    keys = [task.key for state in states for task in plan_follow_up(state, POLICY)]
    assert len(keys) == 7
    assert all(key.startswith(prefixes) for key in keys)


def test_reopened_after_needs_a_later_live_grade() -> None:
    lost_at = GRADED
    assert not lead(grade="F", graded_at=lost_at).reopened_after(lost_at)
    assert not lead(grade="A", graded_at=lost_at).reopened_after(lost_at)
    assert lead(grade="A", graded_at=lost_at + timedelta(days=1)).reopened_after(lost_at)
    assert not lead(grade=None, graded_at=None).reopened_after(lost_at)


def test_a_lost_lead_goes_to_the_sales_manager_for_review_at_once() -> None:
    lost_at = datetime(2025, 3, 3, 13, 30, tzinfo=UTC)  # 21:30 in Shanghai: still at once
    lost = LeadLostFacts("d1", CUSTOMER, "L1", "bought_elsewhere", lost_at, "c7")
    task = plan_lost_review(lost)
    assert task.kind is TaskKind.LEAD_LOST_REVIEW
    assert task.due_at == lost_at
    assert (task.assignee_role, task.assignee_id) == (StaffRole.SALES_MANAGER, None)
    assert task.related == RecordRef(RecordKind.LEAD, "L1")
    assert task.key == f"{lost_review_prefix('L1')}20250303T133000Z"
    assert "bought elsewhere" in task.script
    # lost again after a reopening: another review
    again = plan_lost_review(replace(lost, lost_at=lost_at + timedelta(days=9)))
    assert again.key != task.key
    assert again.key.startswith(lost_review_prefix("L1"))
