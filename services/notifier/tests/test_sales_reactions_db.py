"""The notifier's reactions to the showroom (sales topic) against a real PostgreSQL: the
thank-you after a first visit, and ContractSigned ending the lead's sales cadence."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dealerflow.contracts.contact import ContactSnapshot
from dealerflow.notifier import repository as repo
from dealerflow.notifier import repository_messages as msgs
from dealerflow.notifier import usecases_leads, usecases_sales
from dealerflow.notifier.domain import LeadFacts, LeadGradeFacts
from dealerflow.notifier.usecases_sales import VisitFacts, plan_visit_thank_you
from dealerflow.policy import DealerPolicy
from dealerflow.runtime.db import transaction

from . import one_event

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"
CUSTOMER = uuid.UUID(int=7)
CONTACT = ContactSnapshot.model_validate(
    {
        "name": "Zhou Min",
        "phone": "+8613600006666",
        "consent": {"service": True, "marketing": False},
    }
)


def visit(visit_id: str, *, first: bool = True, lead_id: str | None = None) -> VisitFacts:
    return VisitFacts(DEALER, CUSTOMER, visit_id, first, START, lead_id)


def test_only_a_first_visit_is_thanked_two_hours_after_the_arrival() -> None:
    policy = DealerPolicy()
    [thanks] = plan_visit_thank_you(visit("v-1"), policy, START)
    assert (thanks.key, thanks.send_at) == ("visit:v-1:thank-you", START + timedelta(hours=2))
    assert thanks.related.kind.value == "customer"
    [late] = plan_visit_thank_you(visit("v-1", lead_id="L-1"), policy, START + timedelta(hours=3))
    assert late.send_at == START + timedelta(hours=3)  # never in the past
    assert late.related.kind.value == "lead"
    assert plan_visit_thank_you(visit("v-2", first=False), policy, START) == []


def test_a_lead_created_from_a_visit_is_thanked_by_the_visit() -> None:
    assert usecases_sales.thanked_at_the_visit("sales-visit:v-1")
    assert not usecases_sales.thanked_at_the_visit("web-123")
    assert not usecases_sales.thanked_at_the_visit(None)


@pytest.mark.integration
async def test_a_first_visit_gets_one_thank_you_and_its_walk_in_lead_none(db) -> None:
    async with transaction(db.pool) as conn:
        uc = db.use_case(conn)
        await usecases_sales.on_showroom_visit(uc, visit("v-1"), CONTACT)
        await usecases_sales.on_showroom_visit(uc, visit("v-1"), CONTACT)  # with its needs
        await usecases_sales.on_showroom_visit(uc, visit("v-9", first=False), CONTACT)
        walk_in = LeadFacts(DEALER, CUSTOMER, "L-1", "walk_in", START, "c-zhao", thank_you=False)
        await one_event.on_lead_created(uc, walk_in, CONTACT)
    async with db.pool.acquire() as conn:
        [thanks] = await msgs.list_reminders(conn, DEALER, None, after=None, limit=10)
        [first_contact] = await repo.list_tasks(conn, repo.TaskFilter(DEALER), after=None, limit=10)
    assert (thanks.kind, thanks.send_at) == ("thank_you", START + timedelta(hours=2))
    assert first_contact.kind == "lead_first_contact"
    assert len(db.of_type("ReminderScheduled")) == 1


@pytest.mark.integration
async def test_contract_signed_cancels_the_leads_sales_follow_ups(db) -> None:
    async with transaction(db.pool) as conn:
        uc = db.use_case(conn)
        graded = LeadGradeFacts(DEALER, CUSTOMER, "L-2", "H", START, "c-li")
        await usecases_leads.on_lead_graded(uc, graded)
    async with db.pool.acquire() as conn:
        planned = await repo.list_tasks(conn, repo.TaskFilter(DEALER), after=None, limit=10)
    assert {t.kind for t in planned} == {"lead_follow_up", "lead_regrade"}
    async with transaction(db.pool) as conn:
        await usecases_sales.on_contract_signed(db.use_case(conn), DEALER, "L-2")
        await usecases_sales.on_contract_signed(db.use_case(conn), DEALER, None)
    async with db.pool.acquire() as conn:
        after = await repo.list_tasks(conn, repo.TaskFilter(DEALER), after=None, limit=10)
    assert {t.status for t in after} == {"cancelled"}
    assert len(db.of_type("TaskCancelled")) == 2
