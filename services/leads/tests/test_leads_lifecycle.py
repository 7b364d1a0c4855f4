"""A lead after creation, over HTTP and the sales topic, against real Kafka + PostgreSQL:
contact log, grades, (re)assignment, invitation, appointments, loss, conversion,
delivery; dealer scoping and pagination."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dealerflow.contracts.envelope import encode_binary
from dealerflow.contracts.events.leads import (
    AppointmentScheduled,
    InvitationDeclined,
    LeadAssigned,
    LeadContacted,
    LeadConverted,
    LeadGraded,
    LeadLost,
    LeadUpdated,
)
from dealerflow.contracts.events.sales import ContractSigned, VehicleDelivered
from dealerflow.contracts.examples import example_for
from dealerflow.devinfra.tokens import auth_header

pytestmark = pytest.mark.integration

DEALER = "gz-tianhe-03"


async def new_lead(leads: Any, phone: str, dealer: str = DEALER, **query: str) -> dict[str, Any]:
    body = {"dealer_id": dealer, "customer": {"name": "陈静", "phones": [phone]}}
    answer = await leads.http.post("/v1/leads", json=body, params=query)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def of_type(events: list[Any], cls: type, lead_id: str) -> list[Any]:
    return [e for e in events if isinstance(e, cls) and e.lead_id == lead_id]


async def test_contact_log_publishes_contacted_and_graded(leads: Any) -> None:
    lead = await new_lead(leads, "13500001111", consultant_id="c-he")
    path = f"/v1/leads/{lead['lead_id']}/contacts"
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    entry = {
        "channel": "phone",
        "outcome": "reached",
        "grade_after": "H",
        "next_contact_at": tomorrow.isoformat(),
        "notes": "wants a test drive on Saturday",
    }
    answer = await leads.http.post(path, params={"dealer_id": DEALER}, json=entry)
    assert answer.status_code == 201, answer.text
    assert answer.json()["lead"]["grade"] == "H"

    # H is followed up every 2 days: a next contact in 5 days is refused, with the reason
    late = {**entry, "next_contact_at": (tomorrow + timedelta(days=4)).isoformat()}
    refused = await leads.http.post(path, params={"dealer_id": DEALER}, json=late)
    assert refused.status_code == 422, refused.text
    assert "too late" in refused.json()["detail"]

    events = await leads.wait_for_events(
        lambda evs: bool(of_type(evs, LeadGraded, lead["lead_id"])), what="LeadGraded"
    )
    (contacted,) = of_type(events, LeadContacted, lead["lead_id"])
    assert contacted.consultant_id == "c-he"
    assert str(contacted.outcome) == "reached"
    assert str(contacted.grade_after) == "H"
    assert contacted.next_contact_on == tomorrow.astimezone(ZoneInfo("Asia/Shanghai")).date()
    (graded,) = of_type(events, LeadGraded, lead["lead_id"])
    assert (str(graded.previous_grade), str(graded.grade)) == ("N", "H")
    assert str(graded.customer_id) == lead["customer_id"]
    # the contact comes before the grade change (same key, same partition)
    assert events.index(contacted) < events.index(graded)

    detail = await leads.http.get(f"/v1/leads/{lead['lead_id']}", params={"dealer_id": DEALER})
    assert [c["grade_after"] for c in detail.json()["contacts"]] == ["H"]


async def test_another_dealers_lead_is_not_found(leads: Any) -> None:
    lead = await new_lead(leads, "13500002222")
    other = {"dealer_id": "sz-futian-09"}
    got = await leads.http.get(f"/v1/leads/{lead['lead_id']}", params=other)
    assert got.status_code == 404
    assert got.headers["content-type"].startswith("application/problem+json")
    contact = {"channel": "phone", "outcome": "unreachable", "consultant_id": "c-x"}
    posted = await leads.http.post(
        f"/v1/leads/{lead['lead_id']}/contacts", params=other, json=contact
    )
    assert posted.status_code == 404
    listed = await leads.http.get("/v1/leads", params=other)
    assert listed.json()["items"] == []
    missing = await leads.http.get(f"/v1/leads/{uuid.uuid4()}", params={"dealer_id": DEALER})
    assert missing.status_code == 404
    assert (await leads.http.get("/v1/leads")).status_code == 422  # dealer_id is required


async def test_pagination_walks_every_lead_once(leads: Any) -> None:
    ids = {(await new_lead(leads, f"1350000{n:04d}"))["lead_id"] for n in range(5)}
    await new_lead(leads, "13500009999", dealer="sz-futian-09")  # another dealer's
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"dealer_id": DEALER, "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await leads.http.get("/v1/leads", params=params)).json()
        seen += [item["lead_id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == 5
    assert set(seen) == ids
    bad = await leads.http.get("/v1/leads", params={"dealer_id": DEALER, "cursor": "nonsense"})
    assert bad.status_code == 422  # the runtime's invalid-cursor answer (was 400 before)
    assert bad.json()["type"].endswith("/invalid-cursor")
    too_many = await leads.http.get("/v1/leads", params={"dealer_id": DEALER, "limit": "500"})
    assert too_many.status_code == 422


async def test_assignment_invitation_appointment_and_loss(leads: Any) -> None:
    staff = [{"staff_id": c, "roles": ["consultant"]} for c in ("c-a", "c-b")]
    await leads.configure(DEALER, {"people": {"staff": staff}})
    lead = await new_lead(leads, "13500003333")
    lead_id, q = lead["lead_id"], {"dealer_id": DEALER}
    assert lead["consultant_id"] == "c-a"

    moved = await leads.http.post(f"/v1/leads/{lead_id}/assign", params=q, json={})
    assert moved.status_code == 200, moved.text
    assert moved.json()["consultant_id"] == "c-b"  # round robin, never the current one
    manual = await leads.http.post(
        f"/v1/leads/{lead_id}/assign",
        params=q,
        json={"consultant_id": "c-a"},
        headers=auth_header(roles=["sales_manager"], dealers=[DEALER], sub="sm-zhou"),
    )
    assert manual.json()["consultant_id"] == "c-a"

    declined = await leads.http.post(
        f"/v1/leads/{lead_id}/decline-invitation", params=q, json={"reason": "too busy"}
    )
    assert declined.status_code == 200, declined.text
    when = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    appointment = {"purpose": "test_drive", "scheduled_for": when, "appointment_id": "ap-1"}
    refused = await leads.http.post(f"/v1/leads/{lead_id}/appointments", params=q, json=appointment)
    assert refused.status_code == 409, refused.text

    # the customer calls back: re-engaged, so the appointment may be booked
    callback = {
        "channel": "phone",
        "outcome": "reached",
        "customer_initiated": True,
        "grade_after": "A",
        "next_contact_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
    }
    answer = await leads.http.post(f"/v1/leads/{lead_id}/contacts", params=q, json=callback)
    assert answer.status_code == 201, answer.text
    booked = await leads.http.post(f"/v1/leads/{lead_id}/appointments", params=q, json=appointment)
    assert booked.status_code == 201, booked.text
    again = await leads.http.post(f"/v1/leads/{lead_id}/appointments", params=q, json=appointment)
    assert again.status_code == 200
    assert again.json()["created"] is False

    other_reason = await leads.http.post(
        f"/v1/leads/{lead_id}/lost", params=q, json={"reason": "other"}
    )
    assert other_reason.status_code == 422  # "other" needs a note
    lost = await leads.http.post(
        f"/v1/leads/{lead_id}/lost",
        params=q,
        json={"reason": "bought_elsewhere", "reason_note": "bought a Tesla"},
    )
    assert lost.status_code == 200, lost.text
    assert (lost.json()["grade"], lost.json()["status"]) == ("F", "lost")
    closed = await leads.http.post(f"/v1/leads/{lead_id}/assign", params=q, json={})
    assert closed.status_code == 409

    events = await leads.wait_for_events(
        lambda evs: bool(of_type(evs, LeadLost, lead_id)), what="LeadLost"
    )
    assignments = of_type(events, LeadAssigned, lead_id)
    assert [(a.previous_consultant_id, a.consultant_id) for a in assignments] == [
        ("c-a", "c-b"),
        ("c-b", "c-a"),
    ]
    assert assignments[1].assigned_by == "sm-zhou"  # the token's subject
    (decline,) = of_type(events, InvitationDeclined, lead_id)
    assert decline.reason == "too busy"
    assert decline.consultant_id == "c-a"
    (reengaged,) = of_type(events, LeadUpdated, lead_id)
    assert str(reengaged.reason) == "re_engaged"
    (scheduled,) = of_type(events, AppointmentScheduled, lead_id)
    assert scheduled.appointment_id == "ap-1"
    assert scheduled.contact.phone == "+8613500003333"
    assert [str(g.grade) for g in of_type(events, LeadGraded, lead_id)] == ["A", "F"]
    (loss,) = of_type(events, LeadLost, lead_id)
    assert (str(loss.reason), loss.reason_note) == ("bought_elsewhere", "bought a Tesla")

    # a lost lead is closed: the same person coming back is a new lead
    back = await new_lead(leads, "13500003333")
    assert back["lead_id"] != lead_id
    assert back["customer_id"] == lead["customer_id"]


async def test_conversion_over_http_and_from_the_sales_topic(leads: Any) -> None:
    q = {"dealer_id": DEALER}
    by_http = await new_lead(leads, "13500004444")
    converted = await leads.http.post(
        f"/v1/leads/{by_http['lead_id']}/convert", params=q, json={"contract_id": "k-1"}
    )
    assert converted.status_code == 200, converted.text
    assert converted.json()["status"] == "converted"
    repeated = await leads.http.post(
        f"/v1/leads/{by_http['lead_id']}/convert", params=q, json={"contract_id": "k-1"}
    )
    assert repeated.status_code == 200

    by_sales = await new_lead(leads, "13500005555")
    now = datetime.now(UTC)
    signed = example_for(ContractSigned).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": uuid.UUID(by_sales["customer_id"]),
            "contract_id": "k-2",
            "lead_id": None,
            "occurred_at": now,
        }
    )
    delivered = example_for(VehicleDelivered).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": uuid.UUID(by_sales["customer_id"]),
            "contract_id": "k-2",
            "occurred_at": now,
        }
    )
    for event in (signed, delivered):
        record = encode_binary(event, source="/outside-dms")
        await leads.produce("sales", record.value, key=record.key, headers=record.headers)

    async def delivered_lead() -> dict[str, Any] | None:
        got = await leads.http.get(f"/v1/leads/{by_sales['lead_id']}", params=q)
        body: dict[str, Any] = got.json()
        return body if body["status"] == "delivered" else None

    lead = await leads.eventually(delivered_lead, what="grade D from VehicleDelivered")
    assert (lead["grade"], lead["contract_id"]) == ("D", "k-2")

    events = await leads.wait_for_events(
        lambda evs: len([e for e in evs if isinstance(e, LeadGraded)]) == 3, what="3 LeadGraded"
    )
    (http_conv,) = of_type(events, LeadConverted, by_http["lead_id"])
    assert http_conv.contract_id == "k-1"
    (sales_conv,) = of_type(events, LeadConverted, by_sales["lead_id"])
    assert sales_conv.contract_id == "k-2"
    grades = [str(g.grade) for g in of_type(events, LeadGraded, by_sales["lead_id"])]
    assert grades == ["O", "D"]
