"""Chains a, e, f: first-contact SLAs, complaint escalation, a dissatisfied callback."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dealerflow.contracts.identity import customer_id_for
from dealerflow.devinfra.client import DealerflowClient, events_of, eventually


async def test_online_lead_breaches_and_walk_in_contact_cancels(
    stack: Any, client: DealerflowClient, dealer_id: str
) -> None:
    """a. LeadCreated -> first-contact task; a contact cancels it, a breach escalates."""
    await client.set_roster(dealer_id, ["consultant-li", "consultant-wang"])
    online = await client.submit_lead(
        dealer_id, name="张伟", phone="13500135000", channel="online", model="Aurora X5"
    )
    walk_in = await client.submit_lead(
        dealer_id, name="刘洋", phone="13400134000", channel="walk_in", source="showroom"
    )
    assert online["created"]
    assert walk_in["created"]
    assert {online["consultant_id"], walk_in["consultant_id"]} == {
        "consultant-li",
        "consultant-wang",
    }

    async def first_contact(customer: str) -> dict | None:
        tasks = await client.tasks(dealer_id, customer_id=customer)
        return next((t for t in tasks if t["kind"] == "lead_first_contact"), None)

    walk_task = await eventually(
        lambda: first_contact(walk_in["customer_id"]), what="the walk-in's first-contact task"
    )
    assert walk_task["assignee"] == walk_in["consultant_id"]
    # Contact the walk-in customer before the 24 h SLA runs out: the task closes.
    await client.log_contact(
        dealer_id, walk_in["lead_id"], grade="A", next_contact_at=stack.now() + timedelta(days=3)
    )

    async def closed() -> dict | None:
        task = await first_contact(walk_in["customer_id"])
        return task if task and task["status"] == "done" else None

    done = await eventually(closed, what="the walk-in's first-contact task to close")
    assert done["outcome"] == "reached"

    # The online lead is never contacted: its 15-minute SLA falls due and, at breach,
    # an escalation task goes to the sales manager.
    manager = f"sales-manager:{dealer_id}"

    async def escalated() -> list[dict] | None:
        tasks = await client.tasks(dealer_id, customer_id=online["customer_id"])
        return [t for t in tasks if t["assignee"] == manager] or None

    online_task = await eventually(
        lambda: first_contact(online["customer_id"]), what="the online lead's task"
    )
    wait = stack.real_seconds_until(_parse(online_task["due_at"])) + 30
    escalations = await eventually(escalated, timeout_s=wait, what="the escalation task")
    assert escalations[0]["status"] in {"scheduled", "due"}
    breached = await first_contact(online["customer_id"])
    assert breached is not None
    assert breached["status"] == "due"
    # The walk-in, contacted in time, never escalated.
    walk_tasks = await client.tasks(dealer_id, customer_id=walk_in["customer_id"])
    assert not [t for t in walk_tasks if t["assignee"] == manager and t["status"] != "cancelled"]


async def test_unacknowledged_complaint_escalates_and_resolution_stops_clocks(
    stack: Any, client: DealerflowClient, dealer_id: str
) -> None:
    """e. ComplaintOpened -> clocks; not acknowledged -> escalated -> the manager is alerted."""
    opened = await client.open_complaint(
        dealer_id, name="赵敏", phone="13300133000", severity="high"
    )
    complaint_id = str(opened["id"])
    ack = next(c for c in opened["clocks"] if c["kind"] == "acknowledge")
    wait = stack.real_seconds_until(_parse(ack["due_at"])) + 30

    async def escalation_level() -> dict | None:
        detail = await client.complaint(dealer_id, complaint_id)
        return detail if detail["escalation_level"] >= 1 else None

    await eventually(escalation_level, timeout_s=wait, what="escalation level 1")
    escalated = await events_of(
        stack.kafka_bootstrap, stack.topics.name("complaints"), dealer_id, "ComplaintEscalated"
    )
    assert escalated
    assert escalated[0].event.level == 1

    async def alert() -> list[dict] | None:
        tasks = await client.tasks(dealer_id, customer_id=str(opened["customer_id"]))
        return [t for t in tasks if t["kind"] == "complaint_escalation"] or None

    alerts = await eventually(alert, what="the manager's escalation alert task")
    assert alerts[0]["assignee"].startswith("department-manager") or alerts[0]["assignee"]

    await client.acknowledge(dealer_id, complaint_id)
    await client.resolve(dealer_id, complaint_id)
    detail = await client.complaint(dealer_id, complaint_id)
    assert detail["status"] == "resolved"
    running = [c for c in detail["clocks"] if c["status"] in {"running", "paused", "overdue"}]
    assert running == [], running

    async def alerts_cancelled() -> bool:
        tasks = await client.tasks(dealer_id, customer_id=str(opened["customer_id"]))
        open_alerts = [
            t
            for t in tasks
            if t["kind"] == "complaint_escalation" and t["status"] in {"scheduled", "due"}
        ]
        return not open_alerts

    await eventually(alerts_cancelled, what="the resolved complaint's alerts to be cancelled")


async def test_dissatisfied_callback_opens_a_linked_complaint(
    stack: Any, client: DealerflowClient, dealer_id: str
) -> None:
    """f. TaskCompleted(dissatisfied) through the notifier API -> complaints opens one."""
    phone = "+8613200132000"
    await client.sell_and_deliver(
        dealer_id,
        name="周杰",
        phone=phone,
        vin="LSVAU2180N2183297",
        consultant_id="consultant-li",
        delivery_on=(stack.now() + timedelta(days=1)).date(),
    )
    customer = str(customer_id_for("default", phone))

    async def callback() -> dict | None:
        tasks = await client.tasks(dealer_id, customer_id=customer)
        return next((t for t in tasks if t["kind"] == "delivery_callback"), None)

    task = await eventually(callback, what="the 24 h delivery callback")
    await client.complete_task(
        dealer_id, task["id"], outcome="dissatisfied", note="Car smells of paint"
    )

    async def complaint() -> list[dict] | None:
        return await client.complaints(dealer_id, customer_id=customer) or None

    found = await eventually(complaint, what="the automatic complaint")
    assert len(found) == 1
    assert str(task["id"]) in str(found[0]["origin"])
    assert found[0]["status"] == "opened"


def _parse(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value)
