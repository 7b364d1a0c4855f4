"""Each dealer's configuration drives its complaints: clocks per dealer, the default
handler and escalation targets from its people (real PostgreSQL and Kafka, ManualClock;
dealers configured through `Harness.configure`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from dealerflow.contracts.events.complaints import ComplaintEscalated

pytestmark = pytest.mark.integration

SHANGHAI = "sh-pudong-01"
CHENGDU = "cd-wuhou-02"


def _due(created: dict[str, Any], kind: str) -> str:
    due: str = next(c["due_at"] for c in created["clocks"] if c["kind"] == kind)
    return due


async def test_two_dealers_with_different_complaint_clocks_get_different_due_times(
    harness: Any,
) -> None:
    ten_minutes = {"sla": {"critical": {"acknowledge": {"duration": "PT10M"}}}}
    harness.configure(CHENGDU, {"policy": {"complaints": ten_minutes}})
    shanghai = await harness.open_complaint(dealer_id=SHANGHAI, severity="critical")
    chengdu = await harness.open_complaint(dealer_id=CHENGDU, severity="critical")
    assert _due(shanghai, "acknowledge").startswith("2025-03-05T02:30")  # the default 30 min
    assert _due(chengdu, "acknowledge").startswith("2025-03-05T02:10")
    assert _due(shanghai, "resolve") == _due(chengdu, "resolve")  # only what was set differs


async def test_the_default_handler_comes_from_the_dealer_s_customer_relations(
    harness: Any,
) -> None:
    harness.configure(
        CHENGDU,
        {"people": {"staff": [{"staff_id": "cr-liu", "roles": ["customer_relations"]}]}},
    )
    staffed = await harness.open_complaint(dealer_id=CHENGDU)
    unstaffed = await harness.open_complaint(dealer_id=SHANGHAI)
    assert staffed["handler_id"] == "cr-liu"
    assert unstaffed["handler_id"] == f"customer-relations:{SHANGHAI}"


async def test_an_escalation_to_gm_goes_to_the_configured_gm_or_the_placeholder(
    harness: Any,
) -> None:
    staff = [
        {"staff_id": "gm-he", "roles": ["gm"]},
        {"staff_id": "svc-ma", "roles": ["service_manager"]},
    ]
    harness.configure(CHENGDU, {"people": {"staff": staff}})
    ids = {
        dealer: (await harness.open_complaint(dealer_id=dealer, severity="critical"))["id"]
        for dealer in (CHENGDU, SHANGHAI)
    }
    for _ in range(2):  # two breaches of the 30-minute acknowledge clock: manager, then GM
        harness.clock.advance(timedelta(minutes=31))
        await harness.fire_due()
    await harness.complaints_events(
        lambda seen: all(len(harness.seen_of(ComplaintEscalated, c)) >= 2 for c in ids.values()),
        what="two escalations of each complaint",
    )
    targets = {
        dealer: [(e.to_role, e.to_staff_id) for e in harness.seen_of(ComplaintEscalated, cid)]
        for dealer, cid in ids.items()
    }
    assert targets[CHENGDU] == [("department_manager", "svc-ma"), ("gm", "gm-he")]
    assert targets[SHANGHAI] == [
        ("department_manager", f"department-manager:{SHANGHAI}"),
        ("gm", f"gm:{SHANGHAI}"),
    ]
