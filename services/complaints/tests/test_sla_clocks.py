"""SLA clocks as durable timers: breach, escalation ladder, re-arming, and stopping them
(real PostgreSQL and Kafka, ManualClock)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from dealerflow.contracts.events.complaints import (
    ComplaintAcknowledged,
    ComplaintEscalated,
    ComplaintResolved,
    ComplaintSlaBreached,
)

pytestmark = pytest.mark.integration

DEALER = {"dealer_id": "sh-pudong-01"}


async def test_unacknowledged_complaint_breaches_escalates_and_rearms(harness: Any) -> None:
    cid = (await harness.open_complaint(severity="critical"))["id"]  # 30 min wall time
    harness.clock.advance(timedelta(minutes=29))
    await harness.fire_due()
    assert (await harness.detail(cid))["escalation_level"] == 0  # nothing fires early

    harness.clock.advance(timedelta(minutes=2))
    await harness.fire_due()
    detail = await harness.detail(cid)
    ack = harness.clocks_by_kind(detail)["acknowledge:0"]
    assert detail["escalation_level"] == 1
    assert ack["status"] == "running"  # re-armed for the next rung
    assert ack["breaches"] == 1
    assert ack["attempt"] == 1
    assert ack["due_at"] > ack["first_due_at"]
    pending = await harness.pending_timers(f"complaint:{cid}:clock:acknowledge:")
    assert [r["key"] for r in pending] == [f"complaint:{cid}:clock:acknowledge:0.1"]

    await harness.complaints_events(
        lambda seen: (
            harness.seen_of(ComplaintEscalated, cid) and harness.seen_of(ComplaintSlaBreached, cid)
        ),
        what="ComplaintSlaBreached + ComplaintEscalated",
    )
    breached = harness.seen_of(ComplaintSlaBreached, cid)
    escalated = harness.seen_of(ComplaintEscalated, cid)
    assert [(b.clock, len(breached)) for b in breached] == [("acknowledge", 1)]
    assert [(e.level, e.to_role) for e in escalated] == [(1, "department_manager")]
    assert escalated[0].due_at == harness.start + timedelta(minutes=30)

    # two more breaches climb to GM, then OEM/region; then the ladder ends
    for _ in range(3):
        harness.clock.advance(timedelta(minutes=31))
        await harness.fire_due()
    detail = await harness.detail(cid)
    assert detail["escalation_level"] == 3
    ack = harness.clocks_by_kind(detail)["acknowledge:0"]
    assert ack["status"] == "overdue"
    assert ack["breaches"] == 3
    assert await harness.pending_timers(f"complaint:{cid}:clock:acknowledge:") == []
    await harness.complaints_events(
        lambda seen: len(harness.seen_of(ComplaintEscalated, cid)) >= 3,
        what="three escalations",
    )
    levels = [(e.level, e.to_role) for e in harness.seen_of(ComplaintEscalated, cid)]
    assert levels == [(1, "department_manager"), (2, "gm"), (3, "oem_region")]

    # acknowledging late still stops (meets) the overdue clock
    response = await harness.client.post(
        f"/v1/complaints/{cid}/acknowledge", json={**DEALER, "channel": "phone"}
    )
    assert response.status_code == 200
    assert harness.clocks_by_kind(response.json())["acknowledge:0"]["status"] == "met"


async def test_acknowledge_then_resolve_cancel_the_running_clocks(harness: Any) -> None:
    cid = (await harness.open_complaint(severity="critical"))["id"]
    harness.clock.advance(timedelta(minutes=10))
    acked = await harness.client.post(
        f"/v1/complaints/{cid}/acknowledge",
        json={**DEALER, "channel": "phone", "handler_id": "cr-wang"},
    )
    assert acked.status_code == 200, acked.text
    assert acked.json()["status"] == "acknowledged"
    clocks = harness.clocks_by_kind(acked.json())
    assert clocks["acknowledge:0"]["status"] == "met"
    assert clocks["resolve:0"]["status"] == "running"
    assert await harness.pending_timers(f"complaint:{cid}:clock:acknowledge:") == []

    harness.clock.advance(timedelta(hours=1))
    resolved = await harness.client.post(
        f"/v1/complaints/{cid}/resolve",
        json={
            **DEALER,
            "responsibility": "dealer",
            "responsible_department": "after_sales",
            "cause": "Pads not bedded in",
            "measures": ["Re-bedded the pads free of charge"],
            "resolution": "Apologised; fixed at our cost.",
        },
    )
    assert resolved.status_code == 200, resolved.text
    assert {c["status"] for c in resolved.json()["clocks"]} == {"met"}
    assert await harness.pending_timers(f"complaint:{cid}:") == []

    # long after every deadline: nothing fires, nothing escalates
    harness.clock.advance(timedelta(days=30))
    await harness.fire_due()
    detail = await harness.detail(cid)
    assert detail["escalation_level"] == 0
    await harness.complaints_events(
        lambda seen: harness.seen_of(ComplaintResolved, cid), what="ComplaintResolved"
    )
    assert harness.seen_of(ComplaintAcknowledged, cid)[0].handler_id == "cr-wang"
    assert harness.seen_of(ComplaintEscalated, cid) == []
    assert harness.seen_of(ComplaintSlaBreached, cid) == []


async def test_pause_keeps_the_remaining_time_and_resume_rearms(harness: Any) -> None:
    cid = (await harness.open_complaint(severity="critical"))["id"]
    harness.clock.advance(timedelta(minutes=10))
    paused = await harness.client.post(
        f"/v1/complaints/{cid}/pause",
        json={**DEALER, "by": "cr-wang", "reason": "Waiting for the customer's photos"},
    )
    assert paused.status_code == 200, paused.text
    clocks = harness.clocks_by_kind(paused.json())
    assert clocks["acknowledge:0"]["status"] == "paused"
    assert clocks["acknowledge:0"]["remaining_seconds"] == 20 * 60
    assert clocks["inform:0"]["status"] == "running"  # the legal clock does not pause
    assert [r["key"] for r in await harness.pending_timers(f"complaint:{cid}:")] == [
        f"complaint:{cid}:clock:inform:0.0"
    ]
    again = await harness.client.post(
        f"/v1/complaints/{cid}/pause", json={**DEALER, "by": "x", "reason": "again"}
    )
    assert again.status_code == 409

    harness.clock.advance(timedelta(hours=5))
    await harness.fire_due()
    assert (await harness.detail(cid))["escalation_level"] == 0

    resumed = await harness.client.post(
        f"/v1/complaints/{cid}/resume", json={**DEALER, "by": "cr-wang"}
    )
    assert resumed.status_code == 200, resumed.text
    ack = harness.clocks_by_kind(resumed.json())["acknowledge:0"]
    assert ack["status"] == "running"
    assert ack["due_at"].startswith("2025-03-05T07:30")  # 02:00 + 10 min + 5 h + 20 min left


async def test_reopen_rearms_a_fresh_resolve_clock(harness: Any) -> None:
    cid = (await harness.open_complaint())["id"]
    for action, body in (
        ("acknowledge", {"channel": "phone"}),
        (
            "resolve",
            {"responsibility": "oem", "measures": ["Part replaced"], "resolution": "Done"},
        ),
        ("close", {"closed_by": "cr-wang", "customer_confirmed": True}),
    ):
        response = await harness.client.post(
            f"/v1/complaints/{cid}/{action}", json={**DEALER, **body}
        )
        assert response.status_code == 200, (action, response.text)
    reopened = await harness.client.post(
        f"/v1/complaints/{cid}/reopen", json={**DEALER, "reason": "Noise is back"}
    )
    assert reopened.status_code == 200, reopened.text
    detail = reopened.json()
    assert detail["status"] == "reopened"
    assert detail["reopen_count"] == 1
    clocks = harness.clocks_by_kind(detail)
    assert clocks["resolve:0"]["status"] == "met"
    assert clocks["resolve:1"]["status"] == "running"
    assert [r["key"] for r in await harness.pending_timers(f"complaint:{cid}:")] == [
        f"complaint:{cid}:clock:resolve:1.0"
    ]
