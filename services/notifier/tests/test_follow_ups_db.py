"""The lead's follow-up cadence beyond its grade, as use cases against a real PostgreSQL
schema (no Kafka): a logged contact re-plans the next follow-up (on the agreed date, or a
cadence interval after it), a declined invitation stops the sales follow-ups and the
customer's marketing until the customer re-engages, LeadUpdated refreshes the contact
snapshot, and a lost lead goes to the sales manager's review."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from dealerflow.contracts.care_enums import RecordKind, ReminderKind
from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.contracts.enums import ConsentPurpose
from dealerflow.notifier import repository as repo
from dealerflow.notifier import repository_messages as msgs
from dealerflow.notifier import usecases_leads
from dealerflow.notifier.channels import ChannelRegistry, RecordingChannel
from dealerflow.notifier.domain import (
    LeadAssignmentFacts,
    LeadContactFacts,
    LeadGradeFacts,
    PlannedReminder,
    RecordRef,
)
from dealerflow.notifier.domain_types import (
    InvitationDeclinedFacts,
    LeadLostFacts,
    LeadUpdateFacts,
)
from dealerflow.notifier.records import TaskRow
from dealerflow.notifier.usecases_messages import schedule_reminder, send_reminder
from dealerflow.runtime.db import transaction

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"
CUSTOMER = uuid.UUID(int=11)
LEAD = "L-1"


async def run(db, use_case: Any, facts: Any, *args: Any) -> None:
    async with transaction(db.pool) as conn:
        await use_case(db.use_case(conn), facts, *args)


def graded(grade: str, at: datetime) -> LeadGradeFacts:
    return LeadGradeFacts(DEALER, CUSTOMER, LEAD, grade, at, "c-li-na")


def contacted(
    at: datetime, *, grade_after: str | None = None, next_on: date | None = None
) -> LeadContactFacts:
    return LeadContactFacts(DEALER, LEAD, "c-li-na", "reached", at, CUSTOMER, grade_after, next_on)


def declined(at: datetime) -> InvitationDeclinedFacts:
    return InvitationDeclinedFacts(DEALER, CUSTOMER, LEAD, at)


def reengaged(at: datetime) -> LeadUpdateFacts:
    return LeadUpdateFacts(DEALER, CUSTOMER, LEAD, "re_engaged", at)


async def open_tasks(db) -> dict[str, TaskRow]:
    async with db.pool.acquire() as conn:
        rows = await repo.list_tasks(conn, repo.TaskFilter(DEALER), after=None, limit=50)
    return {t.business_key: t for t in rows if t.is_open}


async def all_tasks(db) -> dict[str, TaskRow]:
    async with db.pool.acquire() as conn:
        rows = await repo.list_tasks(conn, repo.TaskFilter(DEALER), after=None, limit=50)
    return {t.business_key: t for t in rows}


def cancelled(db) -> dict[str, str]:
    return {e.task_id: e.reason.value for e in db.of_type("TaskCancelled")}


async def test_a_logged_contact_replans_the_follow_up_on_the_agreed_date_or_after_it(db) -> None:
    await run(db, usecases_leads.on_lead_graded, graded("B", START))
    [graded_key] = await open_tasks(db)
    assert graded_key == "lead:L-1:follow-up@20250303T020000Z"

    # a contact with a date agreed: the follow-up is that day at 10:00 local
    first = START + timedelta(days=1)
    await run(db, usecases_leads.on_lead_contacted, contacted(first, next_on=date(2025, 3, 14)))
    [agreed] = (await open_tasks(db)).values()
    assert agreed.business_key == "lead:L-1:follow-up@20250304T020000Z:2025-03-14"
    assert agreed.due_at == datetime(2025, 3, 14, 2, 0, tzinfo=UTC)
    assert agreed.assignee == "c-li-na"
    assert cancelled(db) == {str((await all_tasks(db))[graded_key].id): "superseded"}

    # the same contact again (redelivered) or an older one late: nothing changes
    await run(db, usecases_leads.on_lead_contacted, contacted(first, next_on=date(2025, 3, 14)))
    await run(db, usecases_leads.on_lead_contacted, contacted(START + timedelta(hours=1)))
    assert list(await open_tasks(db)) == [agreed.business_key]
    assert len(db.of_type("TaskScheduled")) == 2

    # a later contact without a date: grade B's 7 days from it
    second = START + timedelta(days=10)
    await run(db, usecases_leads.on_lead_contacted, contacted(second))
    [cadence] = (await open_tasks(db)).values()
    assert cadence.due_at == second + timedelta(days=7)
    assert cancelled(db)[str(agreed.id)] == "superseded"


async def test_a_contact_that_changes_the_grade_leaves_the_plan_to_the_grading(db) -> None:
    await run(db, usecases_leads.on_lead_graded, graded("C", START))
    contact_at = START + timedelta(days=1)
    # leads publishes LeadContacted(grade_after=H) and then LeadGraded(H)
    await run(db, usecases_leads.on_lead_contacted, contacted(contact_at, grade_after="H"))
    assert db.of_type("TaskCancelled") == []  # C's call stays until the grading
    regraded_at = contact_at + timedelta(minutes=1)
    await run(db, usecases_leads.on_lead_graded, graded("H", regraded_at))
    planned = {t.kind: t.due_at for t in (await open_tasks(db)).values()}
    assert planned == {
        "lead_follow_up": regraded_at + timedelta(days=2),
        "lead_regrade": regraded_at + timedelta(days=7),
    }
    assert len(db.of_type("TaskCancelled")) == 1  # only C's call: nothing planned twice
    assert len(db.of_type("TaskScheduled")) == 3


async def test_follow_ups_planned_after_a_reassignment_go_to_the_new_consultant(db) -> None:
    await run(db, usecases_leads.on_lead_graded, graded("A", START))
    await run(db, usecases_leads.on_lead_assigned, LeadAssignmentFacts(DEALER, LEAD, "c-zhao"))
    await run(db, usecases_leads.on_lead_contacted, contacted(START + timedelta(days=1)))
    assert {t.assignee for t in (await open_tasks(db)).values()} == {"c-zhao"}


async def test_a_declined_invitation_stops_the_follow_ups_until_the_customer_reengages(
    db,
) -> None:
    await run(db, usecases_leads.on_lead_graded, graded("H", START))
    hot = await open_tasks(db)
    assert len(hot) == 2
    declined_at = START + timedelta(days=1)
    # the decline is logged with a contact that agreed a date: the decline voids it
    await run(
        db, usecases_leads.on_lead_contacted, contacted(declined_at, next_on=date(2025, 3, 6))
    )
    await run(db, usecases_leads.on_invitation_declined, declined(declined_at))
    assert await open_tasks(db) == {}
    reasons = cancelled(db)
    assert [reasons[str(t.id)] for t in hot.values() if "regrade" in t.business_key] == [
        "customer_declined"
    ]
    assert sorted(reasons.values()) == ["customer_declined", "customer_declined", "superseded"]

    # while it stands, a grading plans no follow-up
    await run(db, usecases_leads.on_lead_graded, graded("A", declined_at + timedelta(hours=1)))
    assert await open_tasks(db) == {}

    # the customer comes back: A's cadence counts from the re-engagement (the date agreed
    # before the decline is void)
    back = declined_at + timedelta(days=5)
    await run(db, usecases_leads.on_lead_updated, reengaged(back), None)
    [resumed] = (await open_tasks(db)).values()
    assert (resumed.kind, resumed.due_at) == ("lead_follow_up", back + timedelta(days=3))
    # a date agreed since stands: an old decline delivered late neither suppresses again
    # nor voids it, and an older re-engagement re-plans nothing
    called = back + timedelta(hours=1)
    await run(db, usecases_leads.on_lead_contacted, contacted(called, next_on=date(2025, 3, 11)))
    [agreed] = await open_tasks(db)
    assert agreed == "lead:L-1:follow-up@20250309T030000Z:2025-03-11"
    await run(db, usecases_leads.on_invitation_declined, declined(declined_at))
    await run(db, usecases_leads.on_lead_updated, reengaged(back - timedelta(days=1)), None)
    assert list(await open_tasks(db)) == [agreed]


async def test_a_date_agreed_while_declined_is_planned_once_the_customer_reengages(db) -> None:
    await run(db, usecases_leads.on_lead_graded, graded("B", START))
    await run(db, usecases_leads.on_invitation_declined, declined(START + timedelta(hours=1)))
    called = START + timedelta(days=2)
    await run(db, usecases_leads.on_lead_contacted, contacted(called, next_on=date(2025, 3, 12)))
    assert await open_tasks(db) == {}
    await run(db, usecases_leads.on_lead_updated, reengaged(called + timedelta(hours=1)), None)
    [agreed] = (await open_tasks(db)).values()
    assert agreed.due_at == datetime(2025, 3, 12, 2, 0, tzinfo=UTC)


async def test_a_cancelled_follow_up_never_blocks_the_same_plan_later(db) -> None:
    # the hot lead's re-grade prompt, cancelled by the decline, comes back with the customer
    await run(db, usecases_leads.on_lead_graded, graded("H", START))
    await run(db, usecases_leads.on_invitation_declined, declined(START + timedelta(hours=1)))
    await run(db, usecases_leads.on_lead_updated, reengaged(START + timedelta(days=1)), None)
    prompts = [t for t in (await open_tasks(db)).values() if t.kind == "lead_regrade"]
    assert [t.due_at for t in prompts] == [START + timedelta(days=7)]
    # a date agreed, replaced by the cadence, then agreed again: there is a call that day
    day = date(2025, 3, 20)
    await run(
        db, usecases_leads.on_lead_contacted, contacted(START + timedelta(days=2), next_on=day)
    )
    await run(db, usecases_leads.on_lead_contacted, contacted(START + timedelta(days=3)))
    await run(
        db, usecases_leads.on_lead_contacted, contacted(START + timedelta(days=4), next_on=day)
    )
    calls = [t for t in (await open_tasks(db)).values() if t.kind == "lead_follow_up"]
    assert [t.due_at for t in calls] == [datetime(2025, 3, 20, 2, 0, tzinfo=UTC)]


def contact(**consent: bool) -> ContactSnapshot:
    return ContactSnapshot.model_validate(
        {
            "name": "Zhang Wei",
            "phone": "+8613800138000",
            "preferred_channel": "sms",
            "consent": {"service": True, "marketing": True, **consent},
            "locale": "en",
        }
    )


def message(key: str, send_at: datetime, purpose: ConsentPurpose) -> PlannedReminder:
    # the built-in catalogue has no marketing template yet: a thank-you worded message
    # planned for the marketing purpose (the contact policy looks at the purpose)
    return PlannedReminder(
        key=key,
        kind=ReminderKind.THANK_YOU,
        dealer_id=DEALER,
        customer_id=CUSTOMER,
        send_at=send_at,
        purpose=purpose,
        related=RecordRef(RecordKind.CUSTOMER, str(CUSTOMER)),
    )


async def send(
    db, key: str, at: datetime, purpose: ConsentPurpose = ConsentPurpose.MARKETING
) -> str:
    """Plan a message for ``at``, let it fall due and return its status."""
    async with transaction(db.pool) as conn:
        row = await schedule_reminder(db.use_case(conn), message(key, at, purpose), contact())
    assert row is not None
    db.clock.set(at)
    channel = RecordingChannel()
    async with transaction(db.pool) as conn:
        await send_reminder(
            # marketing carries an unsubscribe link, signed with this key
            db.use_case(conn, unsubscribe_secret=SecretStr("test-unsubscribe-key")),
            ChannelRegistry({"sms": channel}, channel),
            DEALER,
            {"reminder_id": str(row.id)},
        )
    async with db.pool.acquire() as conn:
        current = await msgs.get_reminder(conn, DEALER, row.id)
    assert current is not None
    return current.status


async def test_marketing_to_a_customer_who_declined_is_suppressed_until_reengaged(db) -> None:
    edited = LeadUpdateFacts(DEALER, CUSTOMER, LEAD, "edited", START)
    await run(db, usecases_leads.on_lead_updated, edited, contact())
    declined_at = START + timedelta(hours=1)
    await run(db, usecases_leads.on_invitation_declined, declined(declined_at))

    assert await send(db, "marketing:1", declined_at + timedelta(hours=1)) == "suppressed"
    [suppressed] = db.of_type("NotificationSuppressed")
    assert (suppressed.policy.value, suppressed.customer_id) == ("invitation_declined", CUSTOMER)
    # service messages still go while it stands
    service = ConsentPurpose.SERVICE
    assert await send(db, "service:1", declined_at + timedelta(hours=2), service) == "sent"

    await run(db, usecases_leads.on_lead_updated, reengaged(declined_at + timedelta(days=1)), None)
    assert await send(db, "marketing:2", declined_at + timedelta(days=2)) == "sent"
    assert len(db.of_type("NotificationSuppressed")) == 1


async def test_lead_updated_keeps_the_newer_contact_snapshot(db) -> None:
    edited = LeadUpdateFacts(DEALER, CUSTOMER, LEAD, "edited", START)
    await run(db, usecases_leads.on_lead_updated, edited, contact())
    newer = contact().model_copy(update={"phone": "+8613900139000"})
    later = LeadUpdateFacts(DEALER, CUSTOMER, LEAD, "edited", START + timedelta(hours=1))
    await run(db, usecases_leads.on_lead_updated, later, newer)
    await run(db, usecases_leads.on_lead_updated, edited, contact())  # older, late
    async with db.pool.acquire() as conn:
        kept = await repo.get_contact(conn, DEALER, CUSTOMER)
    assert kept is not None
    assert kept.phone == "+8613900139000"


async def test_a_lost_lead_goes_to_review_once_and_reopening_it_cancels_the_review(db) -> None:
    await run(db, usecases_leads.on_lead_graded, graded("A", START))
    lost_at = START + timedelta(days=1)
    lost = LeadLostFacts(DEALER, CUSTOMER, LEAD, "price", lost_at, "c-li-na")
    await run(db, usecases_leads.on_lead_graded, graded("F", lost_at))
    await run(db, usecases_leads.on_lead_lost, lost)
    await run(db, usecases_leads.on_lead_lost, lost)  # redelivered
    [review] = (await open_tasks(db)).values()
    assert review.kind == "lead_lost_review"
    assert review.assignee == f"sales-manager:{DEALER}"
    assert review.assignee_role == "sales_manager"
    assert review.due_at == lost_at
    assert (review.related_kind, review.related_id) == ("lead", LEAD)
    assert len([e for e in db.of_type("TaskScheduled") if e.kind.value == "lead_lost_review"]) == 1

    # the manager reopens the lead (a live grade after the loss): the review is moot,
    # the cadence resumes, and the old loss delivered late changes nothing
    reopened_at = lost_at + timedelta(hours=2)
    await run(db, usecases_leads.on_lead_graded, graded("A", reopened_at))
    assert cancelled(db)[str(review.id)] == "no_longer_needed"
    await run(db, usecases_leads.on_lead_lost, lost)
    [follow_up] = (await open_tasks(db)).values()
    assert (follow_up.kind, follow_up.due_at) == ("lead_follow_up", reopened_at + timedelta(days=3))
