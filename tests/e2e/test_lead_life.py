"""A lead's whole life through leads, the notifier and dealers on real Kafka and PostgreSQL
with the accelerated clock (issue 10, "done when"): its first contact missed twice and the
lead really reassigned (both consultants told), graded H and followed up, an appointment
reminded, rescheduled and missed (a no-show call for the consultant), the invitation
declined (the sales follow-ups stop), lost and reviewed by the sales manager."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dealerflow.devinfra.client import DealerflowClient, eventually, parse_time
from tests.e2e.conftest import ISSUER

PHONE = "13812340001"


def _as(role: str, dealer_id: str, sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ISSUER.token(sub=sub, roles=[role], dealers=[dealer_id])}"}


async def _lead(client: DealerflowClient, dealer_id: str, lead_id: str) -> Any:
    return await client.call(
        "leads", "GET", f"/v1/leads/{lead_id}", params={"dealer_id": dealer_id}
    )


async def _tasks(client: DealerflowClient, dealer_id: str, customer: str, kind: str) -> list[Any]:
    return [t for t in await client.tasks(dealer_id, customer_id=customer) if t["kind"] == kind]


async def test_a_leads_life(stack: Any, client: DealerflowClient, dealer_id: str) -> None:
    await client.set_roster(dealer_id, ["c-first", "c-second"])
    lead = await client.submit_lead(dealer_id, name="孙丽", phone=PHONE, channel="online")
    lead_id, customer = lead["lead_id"], lead["customer_id"]
    first = lead["consultant_id"]
    steps = {"dealer_id": dealer_id}

    # 1. nobody calls: escalated at the first breach, reassigned at the second
    async def reassigned() -> Any:
        detail = await _lead(client, dealer_id, lead_id)
        moved = [a for a in detail["assignments"] if a["reason"] == "sla_breach"]
        return detail if moved else None

    detail = await eventually(
        reassigned, what="the reassignment after the second breach", timeout_s=90
    )
    second = detail["consultant_id"]
    assert second != first
    assert {first, second} == {"c-first", "c-second"}

    async def both_told() -> Any:
        staff = [n for n in await client.notifications(dealer_id) if n["audience"] == "staff"]
        told = {n["recipient"] for n in staff if lead_id in (n["subject"] or "")}
        return told if {first, second} <= told else None

    await eventually(both_told, what="both consultants told of the reassignment")

    # 2. the new consultant reaches the prospect: graded H, a follow-up on the agreed day
    tomorrow = stack.now() + timedelta(days=1)
    await client.log_contact(dealer_id, lead_id, next_contact_at=tomorrow, grade="H")

    async def follow_up_due() -> Any:
        found = await _tasks(client, dealer_id, customer, "lead_follow_up")
        return found if any(t["status"] == "due" for t in found) else None

    follow_ups = await eventually(
        follow_up_due, what="the H lead's follow-up falling due", timeout_s=60
    )
    assert {t["assignee"] for t in follow_ups} == {second}

    # 3. an appointment, reminded, moved, then missed
    base = f"/v1/leads/{lead_id}/appointments"
    booked_for = stack.now() + timedelta(days=2)
    await client.call(
        "leads",
        "POST",
        base,
        params=steps,
        json_body={
            "purpose": "store_visit",
            "scheduled_for": booked_for.isoformat(),
            "appointment_id": "visit-1",
        },
    )

    async def reminders(at: Any) -> Any:
        found = [
            r
            for r in await client.reminders(dealer_id, customer)
            if "visit-1" in r["business_key"] and r["status"] == "scheduled"
        ]
        return found if found and all(parse_time(r["send_at"]) < at for r in found) else None

    await eventually(lambda: reminders(booked_for), what="the appointment's reminders")
    moved_to = booked_for + timedelta(days=1)
    await client.call(
        "leads",
        "POST",
        f"{base}/visit-1/reschedule",
        params=steps,
        json_body={"scheduled_for": moved_to.isoformat(), "reason": "customer asked"},
    )

    async def moved_reminders() -> Any:
        found = await reminders(moved_to)
        later = [
            r for r in found or [] if parse_time(r["send_at"]) > booked_for - timedelta(days=1)
        ]
        return later if len(later) == 2 else None

    new_reminders = await eventually(moved_reminders, what="reminders for the new time")
    reminder_ids = {r["id"] for r in new_reminders}

    async def reminded() -> Any:
        sent = [
            n
            for n in await client.notifications(dealer_id, customer)
            if n["audience"] == "customer" and n["reminder_id"] in reminder_ids
        ]
        return sent or None

    await eventually(reminded, what="the 24-hour reminder sent", timeout_s=90)

    async def past(moment: Any) -> Any:
        return True if stack.now() > moment + timedelta(minutes=30) else None

    await eventually(lambda: past(moved_to), what="the appointment's time passing", timeout_s=90)
    await client.call("leads", "POST", f"{base}/visit-1/no-show", params=steps, json_body={})

    async def no_show_call() -> Any:
        return await _tasks(client, dealer_id, customer, "appointment_no_show") or None

    (call,) = await eventually(no_show_call, what="the no-show follow-up call")
    assert call["assignee"] == second

    # 4. the prospect declines the invitation: the sales follow-ups stop
    await client.call(
        "leads",
        "POST",
        f"/v1/leads/{lead_id}/decline-invitation",
        params=steps,
        json_body={"reason": "not now"},
    )

    async def follow_ups_stopped() -> Any:
        found = await _tasks(client, dealer_id, customer, "lead_follow_up")
        return found if all(t["status"] in ("cancelled", "done") for t in found) else None

    await eventually(follow_ups_stopped, what="the follow-ups cancelled after the decline")

    # 5. lost, and reviewed by the sales manager
    await client.call(
        "leads",
        "POST",
        f"/v1/leads/{lead_id}/lost",
        params=steps,
        json_body={"reason": "bought_elsewhere", "reason_note": "bought a rival SUV"},
    )

    async def review_task() -> Any:
        found = await _tasks(client, dealer_id, customer, "lead_lost_review")
        return found if any(t["status"] in ("scheduled", "due") for t in found) else None

    await eventually(review_task, what="the sales manager's review task")
    manager = _as("sales-manager", dealer_id, "sm-zhou")
    queue = await client.call("leads", "GET", "/v1/lead-reviews", params=steps, headers=manager)
    assert [item["lead_id"] for item in queue["items"]] == [lead_id]
    review = await client.call(
        "leads",
        "POST",
        f"/v1/leads/{lead_id}/review",
        params=steps,
        headers=manager,
        json_body={"decision": "approve", "note": "price gap too large"},
    )
    assert (review["decision"], review["reviewed_by"]) == ("approve", "sm-zhou")
    after = await client.call("leads", "GET", "/v1/lead-reviews", params=steps, headers=manager)
    assert after["items"] == []

    async def review_task_done() -> Any:
        found = await _tasks(client, dealer_id, customer, "lead_lost_review")
        return found if all(t["status"] == "cancelled" for t in found) else None

    await eventually(review_task_done, what="the review task closed by the review")

    # the daily visit report of that day shows the contact of step 2
    (contact,) = (await _lead(client, dealer_id, lead_id))["contacts"]
    day = parse_time(contact["contacted_at"]).astimezone(ZoneInfo("Asia/Shanghai")).date()
    report = await client.call(
        "leads", "GET", "/v1/visit-report", params={**steps, "day": day.isoformat()}
    )
    lines = [(i["lead_id"], i["consultant_id"], i["grade_after"]) for i in report["items"]]
    assert (lead_id, second, "H") in lines
