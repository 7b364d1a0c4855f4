"""The first-update clock (issue 13): per severity, met by the first update to the
customer (inform, or resolve), and escalating like the others when it breaches (real
PostgreSQL and Kafka, ManualClock)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from dealerflow.contracts.events.complaints import (
    ComplaintEscalated,
    ComplaintOpened,
    ComplaintSlaBreached,
)

pytestmark = pytest.mark.integration

DEALER = {"dealer_id": "sh-pudong-01"}


async def test_first_update_clock_breaches_escalates_and_inform_meets_it(harness: Any) -> None:
    # high: 1 business day, opened Wednesday 10:00 Shanghai -> due Thursday 10:00
    opened = await harness.open_complaint(severity="high")
    cid = opened["id"]
    first = harness.clocks_by_kind(opened)["first_update:0"]
    assert first["status"] == "running"
    assert first["sla_mode"] == "business_days"
    assert first["due_at"].startswith("2025-03-06T02:00")
    acked = await harness.client.post(
        f"/v1/complaints/{cid}/acknowledge", json={**DEALER, "channel": "phone"}
    )
    assert acked.status_code == 200, acked.text
    # acknowledging is no update on the handling
    assert harness.clocks_by_kind(acked.json())["first_update:0"]["status"] == "running"

    harness.clock.advance(timedelta(days=1, minutes=1))
    await harness.fire_due()
    detail = await harness.detail(cid)
    first = harness.clocks_by_kind(detail)["first_update:0"]
    assert detail["escalation_level"] == 1
    assert (first["status"], first["breaches"], first["attempt"]) == ("running", 1, 1)
    await harness.complaints_events(
        lambda seen: (
            harness.seen_of(ComplaintEscalated, cid) and harness.seen_of(ComplaintOpened, cid)
        ),
        what="ComplaintEscalated for the first update",
    )
    assert [b.clock for b in harness.seen_of(ComplaintSlaBreached, cid)] == ["first_update"]
    escalated = harness.seen_of(ComplaintEscalated, cid)
    assert [(e.clock, e.level, e.to_role) for e in escalated] == [
        ("first_update", 1, "department_manager")
    ]
    assert harness.seen_of(ComplaintOpened, cid)[0].first_update_due_at == (
        harness.start + timedelta(days=1)
    )

    informed = await harness.client.post(
        f"/v1/complaints/{cid}/inform", json={**DEALER, "by": "cr-wang", "note": "Parts ordered"}
    )
    assert informed.status_code == 200, informed.text
    clocks = harness.clocks_by_kind(informed.json())
    assert clocks["first_update:0"]["status"] == "met"
    assert clocks["inform:0"]["status"] == "met"
    assert await harness.pending_timers(f"complaint:{cid}:clock:first_update:") == []


async def test_resolving_first_meets_the_first_update_clock(harness: Any) -> None:
    cid = (await harness.open_complaint(severity="critical"))["id"]  # 4 h wall time
    harness.clock.advance(timedelta(minutes=10))
    for action, body in (
        ("acknowledge", {"channel": "phone"}),
        (
            "resolve",
            {"responsibility": "dealer", "measures": ["Re-repair"], "resolution": "Fixed"},
        ),
    ):
        response = await harness.client.post(
            f"/v1/complaints/{cid}/{action}", json={**DEALER, **body}
        )
        assert response.status_code == 200, (action, response.text)
    first = harness.clocks_by_kind(response.json())["first_update:0"]
    assert (first["status"], first["stopped_by"]) == ("met", "resolve")
    harness.clock.advance(timedelta(hours=5))
    await harness.fire_due()
    assert (await harness.detail(cid))["escalation_level"] == 0
