"""A lead's call task completed in the notifier (TaskCompleted on the notifier topic) is
a phone contact in the lead's contact log with LeadContacted, against real Kafka and
PostgreSQL: once per task, the first-contact task a logged contact completed is not
logged again, other tasks and closed leads log nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.care_enums import RecordKind, TaskKind, TaskOutcome
from dealerflow.contracts.contact import RelatedRecord
from dealerflow.contracts.events.leads import LeadContacted
from dealerflow.contracts.events.notifier import TaskCompleted
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

DEALER = "gz-tianhe-03"
Q = {"dealer_id": DEALER}


async def new_lead(leads: Any, phone: str) -> dict[str, Any]:
    body = {"dealer_id": DEALER, "customer": {"name": "陈静", "phones": [phone]}}
    answer = await leads.http.post("/v1/leads", json=body, params={"consultant_id": "c-he"})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def completed(
    lead: dict[str, Any], kind: TaskKind, outcome: TaskOutcome, at: datetime, **changes: Any
) -> TaskCompleted:
    return example_for(TaskCompleted).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": uuid.UUID(lead["customer_id"]),
            "occurred_at": at,
            "task_id": f"task-{kind.value}-{lead['lead_id']}",
            "kind": kind,
            "assignee_id": "c-he",
            "outcome": outcome,
            "note": None,
            "related": RelatedRecord(kind=RecordKind.LEAD, id=lead["lead_id"]),
            "completed_at": at,
            **changes,
        }
    )


async def contacts(leads: Any, lead_id: str) -> list[dict[str, Any]]:
    detail = (await leads.http.get(f"/v1/leads/{lead_id}", params=Q)).json()
    found: list[dict[str, Any]] = detail["contacts"]
    return found


async def test_call_tasks_done_in_the_notifier_are_contacts_once(leads: Any) -> None:
    lead = await new_lead(leads, "13900001111")
    first_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    first = completed(
        lead,
        TaskKind.LEAD_FIRST_CONTACT,
        TaskOutcome.REACHED,
        first_at,
        note="wants a test drive of the Seal on Saturday",
    )
    await leads.handled(await leads.publish(first))
    await leads.handled(await leads.publish(first.model_copy()))  # again, a new event id
    [line] = await contacts(leads, lead["lead_id"])
    assert (line["channel"], line["outcome"], line["consultant_id"]) == ("phone", "reached", "c-he")
    assert line["notes"] == "wants a test drive of the Seal on Saturday"
    assert (line["grade_before"], line["grade_after"], line["next_contact_at"]) == ("N", "N", None)
    assert datetime.fromisoformat(line["contacted_at"]) == first_at

    later = first_at + timedelta(minutes=20)
    follow_up = completed(lead, TaskKind.LEAD_FOLLOW_UP, TaskOutcome.UNREACHABLE, later)
    review = completed(lead, TaskKind.LEAD_LOST_REVIEW, TaskOutcome.REACHED, later)
    await leads.handled(await leads.publish(review))  # the manager's: no call
    await leads.handled(await leads.publish(follow_up))
    await leads.handled(await leads.publish(follow_up.model_copy()))  # again: once per task
    lines = await contacts(leads, lead["lead_id"])
    assert [c["outcome"] for c in lines] == ["reached", "unreachable"]
    detail = (await leads.http.get(f"/v1/leads/{lead['lead_id']}", params=Q)).json()
    assert datetime.fromisoformat(detail["last_contacted_at"]) == later
    assert detail["grade"] == "N"

    events = await leads.wait_for_events(
        lambda evs: len([e for e in evs if isinstance(e, LeadContacted)]) >= 2,
        what="two LeadContacted",
    )
    published = [e for e in events if isinstance(e, LeadContacted)]
    assert [(str(e.channel), str(e.outcome)) for e in published] == [
        ("phone", "reached"),
        ("phone", "unreachable"),
    ]
    assert published[0].contacted_at == first_at
    assert published[0].notes == "wants a test drive of the Seal on Saturday"


async def test_the_first_contact_a_logged_contact_completed_is_not_logged_again(
    leads: Any,
) -> None:
    lead = await new_lead(leads, "13900002222")
    entry = {
        "channel": "wechat",
        "outcome": "reached",
        "grade_after": "A",
        "next_contact_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
    }
    logged = await leads.http.post(f"/v1/leads/{lead['lead_id']}/contacts", params=Q, json=entry)
    assert logged.status_code == 201, logged.text
    # the notifier completes the first-contact task on that LeadContacted: it comes back
    echo = completed(lead, TaskKind.LEAD_FIRST_CONTACT, TaskOutcome.REACHED, datetime.now(UTC))
    await leads.handled(await leads.publish(echo))
    assert [c["channel"] for c in await contacts(leads, lead["lead_id"])] == ["wechat"]


async def test_a_closed_lead_logs_no_task(leads: Any) -> None:
    lead = await new_lead(leads, "13900003333")
    lost = await leads.http.post(
        f"/v1/leads/{lead['lead_id']}/lost", params=Q, json={"reason": "unreachable"}
    )
    assert lost.status_code == 200, lost.text
    call = completed(lead, TaskKind.LEAD_FOLLOW_UP, TaskOutcome.REACHED, datetime.now(UTC))
    await leads.handled(await leads.publish(call))
    assert await contacts(leads, lead["lead_id"]) == []
