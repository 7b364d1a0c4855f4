"""What happens to a booked appointment, from Kafka through to the customer's reminders
and the consultant's tasks: AppointmentRescheduled re-plans the reminders for the new
time, AppointmentCancelled / AppointmentAttended cancel those pending, AppointmentNoShow
gives the consultant a follow-up call.

The whole notifier on real Kafka and PostgreSQL with a ManualClock (see conftest): the
test moves time and the service's own timer poller sends what fell due.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.enums import AppointmentPurpose, CancelledBy
from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.events.leads import (
    AppointmentAttended,
    AppointmentCancelled,
    AppointmentNoShow,
    AppointmentRescheduled,
    AppointmentScheduled,
)
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"


def booked(appointment_id: str, starts: datetime, **changes: Any) -> AppointmentScheduled:
    return example_for(AppointmentScheduled).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": uuid.uuid4(),
            "appointment_id": appointment_id,
            "lead_id": f"L-{appointment_id}",
            "occurred_at": START,
            "scheduled_for": starts,
            "location": "Showroom 2",
            **changes,
        }
    )


def moved(booking: AppointmentScheduled, to: datetime, **changes: Any) -> AppointmentRescheduled:
    return AppointmentRescheduled(
        dealer_id=DEALER,
        customer_id=booking.customer_id,
        occurred_at=START,
        appointment_id=booking.appointment_id,
        lead_id=booking.lead_id,
        previous_scheduled_for=booking.scheduled_for,
        scheduled_for=to,
        **{"purpose": booking.purpose, "location": "Showroom 3", **changes},
    )


def about(booking: AppointmentScheduled) -> dict[str, Any]:
    return {
        "dealer_id": DEALER,
        "customer_id": booking.customer_id,
        "occurred_at": START,
        "appointment_id": booking.appointment_id,
        "lead_id": booking.lead_id,
    }


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def reminders_of(notifier: Any, booking: AppointmentScheduled) -> dict[str, dict[str, Any]]:
    """The appointment's reminders by business key."""
    response = await notifier.client.get(
        "/v1/reminders", params={"dealer_id": DEALER, "customer_id": str(booking.customer_id)}
    )
    assert response.status_code == 200, response.text
    mine = f"appointment:{booking.appointment_id}:"
    return {
        r["business_key"]: r for r in response.json()["items"] if r["business_key"].startswith(mine)
    }


async def until(notifier: Any, booking: AppointmentScheduled, statuses: dict[str, str]) -> Any:
    """Wait until the appointment's reminders have exactly these statuses by key."""

    async def probe() -> dict[str, dict[str, Any]] | None:
        found = await reminders_of(notifier, booking)
        return found if {k: r["status"] for k, r in found.items()} == statuses else None

    return await notifier.eventually(probe, f"reminders {statuses}")


async def handled(notifier: Any, event: DomainEvent) -> None:
    """Wait until ``event`` was handled: a booking of the same customer produced after it
    (same key, same partition, so consumed after it) has its reminders planned."""
    marker = booked(f"MARK-{uuid.uuid4().hex[:6]}", START + timedelta(days=20))
    marker = marker.model_copy(update={"customer_id": event.customer_id})
    await notifier.produce(marker)

    async def planned() -> bool:
        return bool(await reminders_of(notifier, marker))

    await notifier.eventually(planned, f"the marker after {event.type}")


def keys(appointment_id: str, starts: datetime) -> tuple[str, str]:
    prefix = f"appointment:{appointment_id}:reminder-"
    return f"{prefix}24h@{stamp(starts)}", f"{prefix}2h@{stamp(starts)}"


async def test_a_move_replaces_the_reminders_and_an_arrival_cancels_the_rest(notifier) -> None:
    starts = START + timedelta(days=2)  # Wednesday 10:00
    booking = booked("APT-1", starts)
    await notifier.produce(booking)
    old_24h, old_2h = keys("APT-1", starts)
    await until(notifier, booking, {old_24h: "scheduled", old_2h: "scheduled"})

    # moved to Thursday 15:00 in another showroom: the old reminders go, new ones come
    to = START + timedelta(days=3, hours=5)
    move = moved(booking, to)
    await notifier.produce(move)
    new_24h, new_2h = keys("APT-1", to)
    expected = {
        old_24h: "cancelled",
        old_2h: "cancelled",
        new_24h: "scheduled",
        new_2h: "scheduled",
    }
    found = await until(notifier, booking, expected)
    assert parse(found[new_24h]["send_at"]) == to - timedelta(hours=24)
    assert parse(found[new_2h]["send_at"]) == to - timedelta(hours=2)
    assert found[new_24h]["kind"] == "test_drive"  # the example's purpose
    assert found[new_24h]["params"] == {
        "appointment_time": "2025-03-06 15:00",
        "location": "Showroom 3",
    }
    # an outside producer's second copy of the move changes nothing
    await notifier.produce(move)
    await handled(notifier, move)
    assert {k: r["status"] for k, r in (await reminders_of(notifier, booking)).items()} == expected
    async with notifier.pool.acquire() as conn:
        timers = await conn.fetch(
            "SELECT key, status FROM timers WHERE key LIKE $1", f"{DEALER}:appointment:APT-1:%"
        )
    assert {r["key"]: r["status"] for r in timers} == {
        f"{DEALER}:{old_24h}": "cancelled",
        f"{DEALER}:{old_2h}": "cancelled",
        f"{DEALER}:{new_24h}": "pending",
        f"{DEALER}:{new_2h}": "pending",
    }

    # the new time's 24 h mark, long after the old time's reminders were due: only the
    # new 24 h reminder goes out
    notifier.clock.set(to - timedelta(hours=24))
    await until(
        notifier,
        booking,
        {old_24h: "cancelled", old_2h: "cancelled", new_24h: "sent", new_2h: "scheduled"},
    )
    sent = [n for n in await notifier.notifications() if n["status"] == "sent"]
    assert [n["business_key"] for n in sent] == [new_24h]
    assert "2025-03-06 15:00" in sent[0]["body"]

    # the customer comes early: the 2 h reminder is moot
    arrived = AppointmentAttended(
        **about(booking), consultant_id="c-li-na", attended_at=to - timedelta(hours=3)
    )
    await notifier.produce(arrived)
    await until(
        notifier,
        booking,
        {old_24h: "cancelled", old_2h: "cancelled", new_24h: "sent", new_2h: "cancelled"},
    )
    notifier.clock.set(to)
    await handled(notifier, arrived)
    assert [n["business_key"] for n in await notifier.notifications()] == [new_24h]


async def test_a_move_without_the_purpose_keeps_the_template_and_place(notifier) -> None:
    starts = START + timedelta(days=2)
    booking = booked("APT-2", starts, purpose=AppointmentPurpose.DELIVERY)
    await notifier.produce(booking)
    await until(notifier, booking, dict.fromkeys(keys("APT-2", starts), "scheduled"))

    to = starts + timedelta(days=1)
    await notifier.produce(moved(booking, to, purpose=None, location=None))
    expected = {
        **dict.fromkeys(keys("APT-2", starts), "cancelled"),
        **dict.fromkeys(keys("APT-2", to), "scheduled"),
    }
    found = await until(notifier, booking, expected)
    for key in keys("APT-2", to):
        assert found[key]["kind"] == "delivery"
        assert found[key]["params"]["location"] == "Showroom 2"


async def test_a_cancellation_cancels_the_reminders(notifier) -> None:
    starts = START + timedelta(days=2)
    booking = booked("APT-3", starts)
    await notifier.produce(booking)
    await until(notifier, booking, dict.fromkeys(keys("APT-3", starts), "scheduled"))
    cancelled = AppointmentCancelled(
        **about(booking), cancelled_by=CancelledBy.CUSTOMER, cancelled_at=START
    )
    await notifier.produce(cancelled)
    await until(notifier, booking, dict.fromkeys(keys("APT-3", starts), "cancelled"))
    notifier.clock.set(starts)
    await handled(notifier, cancelled)
    assert await notifier.notifications() == []


async def test_a_no_show_gives_the_consultant_a_follow_up_call(notifier) -> None:
    starts = START + timedelta(hours=3)
    booking = booked("APT-4", starts)
    await notifier.produce(booking)
    [only_2h] = keys("APT-4", starts)[1:]
    await until(notifier, booking, {only_2h: "scheduled"})  # 24 h before is in the past
    recorded = starts + timedelta(minutes=30)
    notifier.clock.set(recorded)
    missed = AppointmentNoShow(
        **about(booking), consultant_id="c-li-na", scheduled_for=starts, recorded_at=recorded
    )
    await notifier.produce(missed)
    await notifier.produce(missed)  # a second copy: still one task

    async def follow_ups() -> list[dict[str, Any]]:
        return [t for t in await notifier.tasks() if t["kind"] == "appointment_no_show"]

    [task] = await notifier.eventually(follow_ups, "the no-show follow-up call")
    assert task["business_key"] == "appointment:APT-4:no-show"
    assert task["assignee"] == "c-li-na"
    assert task["related"] == {"kind": "lead", "id": booking.lead_id}
    assert parse(task["due_at"]) == recorded + timedelta(hours=24)
    assert "2025-03-03 13:00" in task["script"]
    await handled(notifier, missed)
    assert len(await follow_ups()) == 1
    scheduled = [e["event"] for e in await notifier.published("TaskScheduled")]
    assert [e.task_id for e in scheduled if e.kind.value == "appointment_no_show"] == [task["id"]]
