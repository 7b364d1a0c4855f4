"""A lead's follow-up cadence from Kafka, through the whole notifier on real Kafka and
PostgreSQL with a ManualClock: LeadContacted with a next-contact date re-plans the
follow-up, InvitationDeclined cancels the sales follow-ups until LeadUpdated re_engaged
(which also refreshes the contact snapshot), and LeadLost sends the lead to the sales
manager's review at once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.enums import LeadGrade, LeadUpdateReason
from dealerflow.contracts.events.leads import (
    InvitationDeclined,
    LeadContacted,
    LeadCreated,
    LeadGraded,
    LeadLost,
    LeadLostReviewed,
    LeadUpdated,
)
from dealerflow.contracts.examples import example_for
from dealerflow.notifier import repository as repo

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"
LEAD = "L-20"


def about_the_lead(event_type: type[Any], at: datetime, **changes: Any) -> Any:
    return example_for(event_type).model_copy(
        update={"dealer_id": DEALER, "lead_id": LEAD, "occurred_at": at, **changes}
    )


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_contact_decline_reengagement_and_loss_drive_the_lead_follow_ups(notifier) -> None:
    graded = about_the_lead(
        LeadGraded, START, grade=LeadGrade.H, graded_at=START, consultant_id="c-li-na"
    )
    customer = graded.customer_id
    await notifier.produce(graded)

    async def open_tasks(count: int) -> dict[str, dict[str, Any]]:
        found = {
            t["kind"]: t
            for t in await notifier.tasks(customer_id=str(customer))
            if t["status"] in ("scheduled", "due")
        }
        return found if len(found) == count else {}

    hot = await notifier.eventually(lambda: open_tasks(2), "grade H's call and re-grade prompt")
    assert parse(hot["lead_follow_up"]["due_at"]) == START + timedelta(days=2)

    # the consultant calls and agrees Wednesday: the call moves there, the prompt stays
    called = START + timedelta(hours=1)
    contact_logged = about_the_lead(
        LeadContacted,
        called,
        contacted_at=called,
        grade_after=LeadGrade.H,
        next_contact_on=date(2025, 3, 5),
        consultant_id="c-li-na",
    )
    await notifier.produce(contact_logged)

    async def moved() -> dict[str, dict[str, Any]]:
        found = await open_tasks(2)
        call = found.get("lead_follow_up")
        return found if call and call["id"] != hot["lead_follow_up"]["id"] else {}

    agreed = await notifier.eventually(moved, "the call on the agreed date")
    assert parse(agreed["lead_follow_up"]["due_at"]) == datetime(2025, 3, 5, 2, 0, tzinfo=UTC)
    assert agreed["lead_follow_up"]["assignee"] == "c-li-na"
    assert agreed["lead_regrade"]["id"] == hot["lead_regrade"]["id"]

    # the customer declines the invitation: no sales follow-up any more
    declined_at = START + timedelta(hours=2)
    await notifier.produce(about_the_lead(InvitationDeclined, declined_at, declined_at=declined_at))
    await notifier.eventually(lambda: _none_open(notifier, customer), "the follow-ups to stop")
    reasons = {
        e["event"].task_id: e["event"].reason.value
        for e in await notifier.published("TaskCancelled")
    }
    assert reasons == {
        hot["lead_follow_up"]["id"]: "superseded",
        agreed["lead_follow_up"]["id"]: "customer_declined",
        agreed["lead_regrade"]["id"]: "customer_declined",
    }

    # a day later the customer calls back (leads: LeadUpdated re_engaged, new number)
    back = START + timedelta(days=1)
    refreshed = example_for(LeadCreated).contact.model_copy(update={"phone": "+8613911112222"})
    reengaged = about_the_lead(
        LeadUpdated,
        back,
        reason=LeadUpdateReason.RE_ENGAGED,
        changed_fields=["reengaged_at"],
        contact=refreshed,
        updated_at=back,
    )
    await notifier.produce(reengaged)
    resumed = await notifier.eventually(lambda: open_tasks(2), "the follow-ups to resume")
    assert parse(resumed["lead_follow_up"]["due_at"]) == back + timedelta(days=2)
    assert parse(resumed["lead_regrade"]["due_at"]) == START + timedelta(days=7)
    async with notifier.pool.acquire() as conn:
        kept = await repo.get_contact(conn, DEALER, customer)
    assert kept is not None
    assert kept.phone == "+8613911112222"

    # lost two days in: the follow-ups go and the sales manager reviews it at once
    lost_at = START + timedelta(days=2)
    notifier.clock.set(lost_at)
    await notifier.produce(
        about_the_lead(
            LeadGraded,
            lost_at,
            grade=LeadGrade.F,
            previous_grade=LeadGrade.H,
            graded_at=lost_at,
            consultant_id="c-li-na",
        )
    )
    await notifier.produce(about_the_lead(LeadLost, lost_at, lost_at=lost_at))

    async def review_due() -> list[dict[str, Any]]:
        return [
            e
            for e in await notifier.published("TaskDue", within_s=0.5)
            if e["event"].kind.value == "lead_lost_review"
        ]

    [due] = await notifier.eventually(review_due, "the review task to be due at once")
    [review] = [
        t
        for t in await notifier.tasks(customer_id=str(customer))
        if t["kind"] == "lead_lost_review"
    ]
    assert review["id"] == due["event"].task_id
    assert review["assignee"] == f"sales-manager:{DEALER}"
    assert parse(review["due_at"]) == lost_at
    assert review["related"] == {"kind": "lead", "id": LEAD}
    assert [
        t["kind"] for t in await notifier.tasks(customer_id=str(customer), status="scheduled")
    ] == []

    # the sales manager approves the loss in leads' review queue: the review task is done
    reviewed = lost_at + timedelta(hours=1)
    await notifier.produce(
        about_the_lead(LeadLostReviewed, reviewed, lost_at=lost_at, reviewed_at=reviewed)
    )

    async def review_closed() -> list[dict[str, Any]] | None:
        found = [
            t
            for t in await notifier.tasks(customer_id=str(customer))
            if t["kind"] == "lead_lost_review" and t["status"] == "cancelled"
        ]
        return found or None

    [closed] = await notifier.eventually(review_closed, "the review task closed")
    assert closed["id"] == review["id"]


async def _none_open(notifier: Any, customer: Any) -> bool:
    tasks = await notifier.tasks(customer_id=str(customer))
    return bool(tasks) and all(t["status"] not in ("scheduled", "due") for t in tasks)
