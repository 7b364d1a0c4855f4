"""The steps on a booked appointment over HTTP, against real Kafka + PostgreSQL: moved,
cancelled, attended (a showroom-visit touch on the lead), no-show, each publishing its
event once; refusals are problems with a reason. The service runs on a ManualClock, so
an appointment's time can pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.events.leads import (
    AppointmentAttended,
    AppointmentCancelled,
    AppointmentNoShow,
    AppointmentRescheduled,
    LeadUpdated,
)
from dealerflow.devinfra.tokens import auth_header
from dealerflow.runtime.clock import ManualClock

pytestmark = pytest.mark.integration

DEALER = "gz-tianhe-03"
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai
Q = {"dealer_id": DEALER}
STAFF = {"people": {"staff": [{"staff_id": "c-a", "roles": ["consultant"]}]}}


@pytest.fixture
def leads_clock() -> ManualClock:
    """The service's clock (see conftest): the test moves it past an appointment's time."""
    return ManualClock(START)


def clock_of(leads: Any) -> ManualClock:
    clock: ManualClock = leads.ctx.clock
    return clock


async def new_lead(leads: Any, phone: str) -> str:
    await leads.configure(DEALER, STAFF)
    body = {"dealer_id": DEALER, "customer": {"name": "陈静", "phones": [phone]}}
    answer = await leads.http.post("/v1/leads", json=body)
    assert answer.status_code == 201, answer.text
    lead_id: str = answer.json()["lead_id"]
    return lead_id


async def book(leads: Any, lead_id: str, appointment_id: str, at: datetime, purpose: str) -> None:
    body = {"purpose": purpose, "scheduled_for": at.isoformat(), "appointment_id": appointment_id}
    answer = await leads.http.post(f"/v1/leads/{lead_id}/appointments", params=Q, json=body)
    assert answer.status_code == 201, answer.text


async def step(
    leads: Any, lead_id: str, appointment_id: str, name: str, body: dict[str, Any], **kw: Any
) -> httpx.Response:
    path = f"/v1/leads/{lead_id}/appointments/{appointment_id}/{name}"
    return await leads.http.post(path, params=Q, json=body, **kw)


def problem_type(answer: httpx.Response) -> str:
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.text
    slug: str = answer.json()["type"].rsplit("/", 1)[-1]
    return slug


def about(events: list[DomainEvent], cls: type, lead_id: str) -> list[Any]:
    return [e for e in events if isinstance(e, cls) and getattr(e, "lead_id", None) == lead_id]


async def test_each_step_publishes_its_event_once_and_refusals_say_why(leads: Any) -> None:
    lead_id = await new_lead(leads, "13500007001")
    drive, visit, late = (
        START + timedelta(days=2),
        START + timedelta(days=1),
        START + timedelta(hours=3),
    )
    await book(leads, lead_id, "ap-drive", drive, "test_drive")
    await book(leads, lead_id, "ap-visit", visit, "store_visit")
    await book(leads, lead_id, "ap-late", late, "store_visit")

    # moved a day later, to another place; moving it to the same time again is a no-op
    moved_to = drive + timedelta(days=1)
    move = {"scheduled_for": moved_to.isoformat(), "location": "Showroom 2", "reason": "works Sat"}
    moved = await step(leads, lead_id, "ap-drive", "reschedule", move)
    assert moved.status_code == 200, moved.text
    view = moved.json()
    assert (view["status"], view["rescheduled_count"], view["location"]) == (
        "scheduled",
        1,
        "Showroom 2",
    )
    assert datetime.fromisoformat(view["scheduled_for"]) == moved_to
    again = await step(leads, lead_id, "ap-drive", "reschedule", move)
    assert again.json()["rescheduled_count"] == 1
    past = {"scheduled_for": (START - timedelta(hours=1)).isoformat()}
    refused = await step(leads, lead_id, "ap-drive", "reschedule", past)
    assert (refused.status_code, problem_type(refused)) == (422, "invalid-appointment")
    assert "in the past" in refused.json()["detail"]

    # cancelled by the customer: it neither moves nor ends another way afterwards
    cancel = {"cancelled_by": "customer", "reason": "travelling"}
    cancelled = await step(leads, lead_id, "ap-visit", "cancel", cancel)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["cancelled_by"]) == (
        "cancelled",
        "customer",
    )
    assert (await step(leads, lead_id, "ap-visit", "cancel", cancel)).status_code == 200
    for name, body in (("reschedule", move), ("attended", {}), ("no-show", {})):
        conflict = await step(leads, lead_id, "ap-visit", name, body)
        assert (conflict.status_code, problem_type(conflict)) == (409, "appointment-ended"), name

    # no no-show before the appointment's time; once it passed, the consultant records one
    early = await step(leads, lead_id, "ap-late", "no-show", {})
    assert (early.status_code, problem_type(early)) == (422, "invalid-appointment")
    clock_of(leads).set(late + timedelta(minutes=30))
    missed = await step(leads, lead_id, "ap-late", "no-show", {})
    assert missed.status_code == 200, missed.text
    assert missed.json()["status"] == "no_show"
    came_after_all = await step(leads, lead_id, "ap-late", "attended", {})
    assert came_after_all.status_code == 409

    # attended (once per Idempotency-Key: a retry gets the first answer back)
    clock_of(leads).set(moved_to - timedelta(minutes=10))
    key = {"Idempotency-Key": "arrival-1"}
    arrived = await step(leads, lead_id, "ap-drive", "attended", {}, headers=key)
    assert arrived.status_code == 200, arrived.text
    retried = await step(leads, lead_id, "ap-drive", "attended", {}, headers=key)
    assert retried.headers.get("Idempotent-Replayed") == "true"
    assert retried.json() == arrived.json()
    assert datetime.fromisoformat(arrived.json()["ended_at"]) == clock_of(leads).now()

    # unknown appointments, another lead's, another dealer's: not found
    other_lead = await new_lead(leads, "13500007002")
    for lead, appointment in ((lead_id, "ap-nope"), (other_lead, "ap-drive")):
        missing = await step(leads, lead, appointment, "cancel", cancel)
        assert (missing.status_code, problem_type(missing)) == (404, "appointment-not-found")
    elsewhere = await leads.http.post(
        f"/v1/leads/{lead_id}/appointments/ap-drive/cancel",
        params={"dealer_id": "sz-futian-09"},
        json=cancel,
    )
    assert elsewhere.status_code == 404

    events = await leads.wait_for_events(
        lambda es: bool(about(es, AppointmentAttended, lead_id)), what="AppointmentAttended"
    )
    (rescheduled,) = about(events, AppointmentRescheduled, lead_id)
    assert (rescheduled.appointment_id, rescheduled.reason) == ("ap-drive", "works Sat")
    assert (rescheduled.previous_scheduled_for, rescheduled.scheduled_for) == (drive, moved_to)
    assert (str(rescheduled.purpose), rescheduled.location) == ("test_drive", "Showroom 2")
    (cancellation,) = about(events, AppointmentCancelled, lead_id)
    assert (cancellation.appointment_id, str(cancellation.cancelled_by)) == ("ap-visit", "customer")
    (no_show,) = about(events, AppointmentNoShow, lead_id)
    assert (no_show.appointment_id, no_show.consultant_id) == ("ap-late", "c-a")
    assert (no_show.scheduled_for, no_show.recorded_at) == (late, late + timedelta(minutes=30))
    (attended,) = about(events, AppointmentAttended, lead_id)
    assert (attended.consultant_id, attended.attended_at) == ("c-a", clock_of(leads).now())
    (touch,) = about(events, LeadUpdated, lead_id)
    assert (str(touch.reason), str(touch.touch_channel), str(touch.touch_source)) == (
        "new_touch",
        "walk_in",
        "showroom",
    )

    detail = (await leads.http.get(f"/v1/leads/{lead_id}", params=Q)).json()
    assert detail["touch_count"] == 2  # the submission and the visit
    assert {a["appointment_id"]: a["status"] for a in detail["appointments"]} == {
        "ap-late": "no_show",
        "ap-visit": "cancelled",
        "ap-drive": "attended",
    }


async def test_a_visit_ends_a_declined_invitation_and_a_lost_lead_only_cancels(
    leads: Any,
) -> None:
    lead_id = await new_lead(leads, "13500007003")
    await book(leads, lead_id, "ap-1", START + timedelta(days=1), "store_visit")
    await book(leads, lead_id, "ap-2", START + timedelta(days=3), "store_visit")
    declined = await leads.http.post(
        f"/v1/leads/{lead_id}/decline-invitation", params=Q, json={"reason": "not now"}
    )
    assert declined.status_code == 200, declined.text

    # while the decline stands, no pitching: the appointment does not move
    move = {"scheduled_for": (START + timedelta(days=2)).isoformat()}
    refused = await step(leads, lead_id, "ap-1", "reschedule", move)
    assert (refused.status_code, problem_type(refused)) == (409, "invitation-declined")

    # ... but the customer comes anyway: the visit re-engages them
    clock_of(leads).set(START + timedelta(days=1))
    came = await step(leads, lead_id, "ap-1", "attended", {"consultant_id": "c-b"})
    assert came.status_code == 200, came.text
    assert came.json()["consultant_id"] == "c-b"
    detail = (await leads.http.get(f"/v1/leads/{lead_id}", params=Q)).json()
    assert detail["sales_follow_up_allowed"] is True
    assert datetime.fromisoformat(detail["reengaged_at"]) == START + timedelta(days=1)

    # a consultant or sales manager works appointments; a gm's token is refused
    gm = auth_header(roles=["gm"], dealers=[DEALER], sub="gm-wu")
    forbidden = await step(leads, lead_id, "ap-2", "cancel", {"cancelled_by": "dealer"}, headers=gm)
    assert forbidden.status_code == 403

    lost = await leads.http.post(
        f"/v1/leads/{lead_id}/lost", params=Q, json={"reason": "postponed"}
    )
    assert lost.status_code == 200, lost.text
    closed = await step(leads, lead_id, "ap-2", "reschedule", move)
    assert (closed.status_code, problem_type(closed)) == (409, "lead-closed")
    called_off = await step(leads, lead_id, "ap-2", "cancel", {"cancelled_by": "dealer"})
    assert called_off.status_code == 200, called_off.text

    events = await leads.wait_for_events(
        lambda es: bool(about(es, AppointmentCancelled, lead_id)), what="AppointmentCancelled"
    )
    (touch,) = [u for u in about(events, LeadUpdated, lead_id) if "touch_count" in u.changed_fields]
    assert str(touch.reason) == "re_engaged"
    assert "reengaged_at" in touch.changed_fields
    (cancellation,) = about(events, AppointmentCancelled, lead_id)
    assert str(cancellation.cancelled_by) == "dealer"
