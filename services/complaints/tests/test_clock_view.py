"""Every clock of a complaint visible with its time left as it counts, its pauses
(recorded with who and why), breached or met: the detail and GET
/v1/complaints/{id}/clocks (real PostgreSQL and Kafka, ManualClock)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

pytestmark = pytest.mark.integration

DEALER = {"dealer_id": "sh-pudong-01"}


async def _clocks(harness: Any, cid: str) -> dict[str, Any]:
    response = await harness.client.get(f"/v1/complaints/{cid}/clocks", params=DEALER)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def _act(harness: Any, cid: str, action: str, **body: Any) -> dict[str, Any]:
    response = await harness.client.post(f"/v1/complaints/{cid}/{action}", json={**DEALER, **body})
    assert response.status_code == 200, (action, response.text)
    result: dict[str, Any] = response.json()
    return result


async def test_pauses_are_recorded_and_every_clock_shows_its_time_left(harness: Any) -> None:
    # normal: business time. Opened Wednesday 10:00 Shanghai; at 11:00 the acknowledge
    # clock (1 business day: Thursday 10:00) has 7 h today (to 18:00) + 1.5 h Thursday left
    cid = (await harness.open_complaint(severity="normal"))["id"]
    harness.clock.advance(timedelta(hours=1))
    view = await _clocks(harness, cid)
    assert view["as_of"].startswith("2025-03-05T03:00")
    by_kind = harness.clocks_by_kind(view)
    assert set(by_kind) == {"acknowledge:0", "first_update:0", "resolve:0", "inform:0"}
    ack = by_kind["acknowledge:0"]
    assert (ack["sla_mode"], ack["time_left_seconds"]) == ("business_days", 8.5 * 3600)
    assert view["clocks"][0]["kind"] == "acknowledge"  # the nearest deadline first
    assert all(not c["breached"] and not c["met"] for c in view["clocks"])
    inform_left = by_kind["inform:0"]["time_left_seconds"]

    await _act(harness, cid, "pause", by="cr-wang", reason="Waiting for the customer's photos")
    harness.clock.advance(timedelta(hours=2))
    view = await _clocks(harness, cid)
    by_kind = harness.clocks_by_kind(view)
    assert view["paused"] is True
    assert by_kind["acknowledge:0"]["status"] == "paused"
    assert by_kind["acknowledge:0"]["time_left_seconds"] == 8.5 * 3600  # kept while paused
    [interval] = by_kind["acknowledge:0"]["paused_intervals"]
    assert (interval["paused_by"], interval["reason"]) == (
        "cr-wang",
        "Waiting for the customer's photos",
    )
    assert interval["paused_at"].startswith("2025-03-05T03:00")
    assert (interval["resumed_at"], interval["ended_by"]) == (None, None)
    assert sorted(interval["clocks"]) == ["acknowledge:0", "first_update:0", "resolve:0"]
    # the legal inform clock keeps running (not pausable by default): 3 h of business time
    # went by while the others were paused
    assert by_kind["inform:0"]["status"] == "running"
    assert by_kind["inform:0"]["paused_intervals"] == []
    assert by_kind["inform:0"]["time_left_seconds"] < inform_left

    resumed = await _act(harness, cid, "resume", by="cr-li")
    [pause] = resumed["pauses"]
    assert (pause["resumed_by"], pause["ended_by"]) == ("cr-li", "resume")
    assert pause["resumed_at"].startswith("2025-03-05T05:00")
    ack = harness.clocks_by_kind(resumed)["acknowledge:0"]
    assert ack["status"] == "running"
    assert ack["time_left_seconds"] == 8.5 * 3600
    assert ack["paused_intervals"] == [pause]

    # paused again, then acknowledged and resolved while paused: the pause ends with it
    await _act(harness, cid, "pause", by="cr-wang", reason="Customer travelling")
    harness.clock.advance(timedelta(minutes=30))
    await _act(harness, cid, "acknowledge", channel="phone")
    resolved = await _act(
        harness,
        cid,
        "resolve",
        handler_id="cr-wang",
        responsibility="dealer",
        measures=["Re-repair"],
        resolution="Fixed",
    )
    assert [(p["ended_by"], p["reason"]) for p in resolved["pauses"]] == [
        ("resume", "Waiting for the customer's photos"),
        ("resolve", "Customer travelling"),
    ]
    view = await _clocks(harness, cid)
    by_kind = harness.clocks_by_kind(view)
    assert view["paused"] is False
    assert {k: (c["met"], c["time_left_seconds"]) for k, c in by_kind.items()} == {
        "acknowledge:0": (True, None),
        "first_update:0": (True, None),
        "resolve:0": (True, None),
        "inform:0": (True, None),
    }
    assert len(by_kind["resolve:0"]["paused_intervals"]) == 2
    # who ended the pause by resolving is who resolved (the history's actor: the caller)
    resolver = next(h["actor"] for h in resolved["history"] if h["action"] == "resolved")
    rows = await harness.db(
        "SELECT paused_by, resumed_by, ended_by FROM complaint_pauses WHERE complaint_id = $1 "
        "ORDER BY id",
        uuid.UUID(cid),
    )
    assert [tuple(r) for r in rows] == [
        ("cr-wang", "cr-li", "resume"),
        ("cr-wang", resolver, "resolve"),
    ]


async def test_a_wall_clock_counts_real_time_and_shows_breached_then_met(harness: Any) -> None:
    cid = (await harness.open_complaint(severity="critical"))["id"]  # 30 min wall time
    harness.clock.advance(timedelta(minutes=10))
    ack = harness.clocks_by_kind(await _clocks(harness, cid))["acknowledge:0"]
    assert (ack["sla_mode"], ack["time_left_seconds"]) == ("wall", 20 * 60)

    harness.clock.advance(timedelta(minutes=21))
    await harness.fire_due()
    ack = harness.clocks_by_kind(await _clocks(harness, cid))["acknowledge:0"]
    # breached and re-armed for another 30 min from the breach
    assert (ack["breached"], ack["met"], ack["time_left_seconds"]) == (True, False, 30 * 60)

    acked = await _act(harness, cid, "acknowledge", channel="phone")
    ack = harness.clocks_by_kind(acked)["acknowledge:0"]
    assert (ack["breached"], ack["met"], ack["time_left_seconds"]) == (True, True, None)


async def test_clocks_of_an_unknown_complaint_is_a_404_problem(harness: Any) -> None:
    response = await harness.client.get(
        "/v1/complaints/00000000-0000-4000-8000-000000000000/clocks", params=DEALER
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
