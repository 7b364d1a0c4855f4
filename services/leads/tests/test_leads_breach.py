"""A lead whose first contact is missed again goes to the next on-duty consultant
(TaskDue with breaches from the notifier topic), against real Kafka and PostgreSQL:
round robin and open load, once per task, the dealer's count, nobody else on duty."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from dealerflow.contracts.care_enums import RecordKind, TaskKind
from dealerflow.contracts.contact import RelatedRecord
from dealerflow.contracts.events.leads import LeadAssigned
from dealerflow.contracts.events.notifier import TaskDue
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

DEALER = "gz-tianhe-03"
Q = {"dealer_id": DEALER}


def consultants(*ids: str, off_duty: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [{"staff_id": c, "roles": ["consultant"], "on_duty": c not in off_duty} for c in ids]


async def new_lead(leads: Any, phone: str, consultant: str | None = None) -> dict[str, Any]:
    body = {"dealer_id": DEALER, "customer": {"name": "陈静", "phones": [phone]}}
    params = {"consultant_id": consultant} if consultant else {}
    answer = await leads.http.post("/v1/leads", json=body, params=params)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def task_due(lead: dict[str, Any], breaches: int, **changes: Any) -> TaskDue:
    return example_for(TaskDue).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": uuid.UUID(lead["customer_id"]),
            "occurred_at": datetime.now(UTC),
            "task_id": f"task-{lead['lead_id']}",
            "kind": TaskKind.LEAD_FIRST_CONTACT,
            "assignee_id": lead["consultant_id"],
            "related": RelatedRecord(kind=RecordKind.LEAD, id=lead["lead_id"]),
            "breaches": breaches,
            **changes,
        }
    )


async def consultant_of(leads: Any, lead_id: str) -> str:
    lead = (await leads.http.get(f"/v1/leads/{lead_id}", params=Q)).json()
    consultant: str = lead["consultant_id"]
    return consultant


def assigned(events: list[Any], lead_id: str) -> list[LeadAssigned]:
    return [e for e in events if isinstance(e, LeadAssigned) and e.lead_id == lead_id]


async def test_the_second_breach_reassigns_to_the_next_consultant_once(leads: Any) -> None:
    await leads.configure(DEALER, {"people": {"staff": consultants("c-a", "c-b", "c-c")}})
    lead = await new_lead(leads, "13800001111")
    assert lead["consultant_id"] == "c-a"

    # the first breach is the manager's escalation: the lead stays
    await leads.handled(await leads.publish(task_due(lead, 1)))
    assert await consultant_of(leads, lead["lead_id"]) == "c-a"
    # a follow-up task long overdue is no first contact
    late_follow_up = task_due(lead, 5, task_id="task-f", kind=TaskKind.LEAD_FOLLOW_UP)
    await leads.handled(await leads.publish(late_follow_up))
    assert await consultant_of(leads, lead["lead_id"]) == "c-a"

    second = task_due(lead, 2)
    await leads.handled(await leads.publish(second))
    assert await consultant_of(leads, lead["lead_id"]) == "c-b"  # round robin after c-a
    # the same breach again (another event id): nothing moves twice
    await leads.handled(await leads.publish(second.model_copy()))
    assert await consultant_of(leads, lead["lead_id"]) == "c-b"

    detail = (await leads.http.get(f"/v1/leads/{lead['lead_id']}", params=Q)).json()
    last = detail["assignments"][-1]
    assert (last["previous_consultant_id"], last["consultant_id"]) == ("c-a", "c-b")
    assert (last["reason"], last["assigned_by"]) == ("sla_breach", "system")
    events = await leads.wait_for_events(
        lambda evs: bool(assigned(evs, lead["lead_id"])), what="the breach LeadAssigned"
    )
    (moved,) = assigned(events, lead["lead_id"])  # the initial assignment is in LeadCreated
    assert (moved.previous_consultant_id, moved.consultant_id) == ("c-a", "c-b")
    assert (str(moved.reason), moved.assigned_by) == ("sla_breach", "system")

    # the sales manager's board counts the open lead's breaches by the consultant they
    # happened with (the follow-up task's lateness is no first-contact breach)
    board = (await leads.http.get("/v1/lead-board", params=Q)).json()
    assert board["first_contact_breaches"] == [{"consultant_id": "c-a", "leads": 1, "breaches": 2}]


async def test_open_load_and_the_dealers_count(leads: Any) -> None:
    staff = consultants("c-a", "c-b", "c-c")
    policy = {"leads": {"assignment_strategy": "open_load", "reassign_after_breaches": 3}}
    await leads.configure(DEALER, {"people": {"staff": staff}, "policy": policy})
    lead = await new_lead(leads, "13800002222", consultant="c-a")
    for n in range(2):  # c-b holds two open leads, c-c none
        await new_lead(leads, f"1380000300{n}", consultant="c-b")

    await leads.handled(await leads.publish(task_due(lead, 2)))
    assert await consultant_of(leads, lead["lead_id"]) == "c-a"  # this dealer waits for 3
    await leads.handled(await leads.publish(task_due(lead, 3)))
    assert await consultant_of(leads, lead["lead_id"]) == "c-c"  # the fewest open leads


async def test_with_nobody_else_on_duty_the_lead_stays(leads: Any) -> None:
    staff = consultants("c-a", "c-b", off_duty=("c-b",))
    await leads.configure(DEALER, {"people": {"staff": staff}})
    lead = await new_lead(leads, "13800004444")
    await leads.handled(await leads.publish(task_due(lead, 2)))
    assert await consultant_of(leads, lead["lead_id"]) == "c-a"

    # a lost lead is not reassigned either
    lost = await leads.http.post(
        f"/v1/leads/{lead['lead_id']}/lost", params=Q, json={"reason": "unreachable"}
    )
    assert lost.status_code == 200, lost.text
    await leads.configure(DEALER, {"people": {"staff": consultants("c-a", "c-b")}})
    await leads.handled(await leads.publish(task_due(lead, 2, task_id="task-other")))
    assert await consultant_of(leads, lead["lead_id"]) == "c-a"
