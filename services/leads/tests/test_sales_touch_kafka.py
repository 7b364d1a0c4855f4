"""The showroom's events touch the customer's lead, on real Kafka and PostgreSQL: a
visit makes a walk-in lead (its needs feed the interest), a quote and a completed test
drive touch it, the test drive prompts the re-grade."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from dealerflow.contracts.contact import ConsentSnapshot, ContactSnapshot
from dealerflow.contracts.enums import PurchaseHorizon, VehicleType, VehicleUse, VisitKind
from dealerflow.contracts.envelope import encode_binary
from dealerflow.contracts.events.leads import LeadCreated, LeadInterest, LeadUpdated
from dealerflow.contracts.events.sales import (
    QuoteIssued,
    ShowroomVisitRecorded,
    TestDriveCompleted,
    VisitNeeds,
)
from dealerflow.contracts.examples import example_for
from dealerflow.contracts.identity import customer_id_for
from dealerflow.contracts.money import money
from dealerflow.leads.usecases_sales_touch import interest_with_needs

DEALER = "gz-tianhe-03"
PHONE = "+8613600006666"
NEEDS = VisitNeeds(
    use=VehicleUse.FAMILY,
    body_type=VehicleType.SUV,
    budget=money(Decimal("250000.00"), "CNY"),
    priorities=("space",),
    urgency=PurchaseHorizon.WITHIN_30_DAYS,
)


def test_the_needs_fill_and_replace_the_interest_they_name() -> None:
    before = LeadInterest(models=["Seal"], use=VehicleUse.COMMUTE)
    after, changed = interest_with_needs(before, NEEDS)
    assert after.models == ["Seal"]
    assert (after.use, after.vehicle_type, after.purchase_horizon) == (
        VehicleUse.FAMILY,
        VehicleType.SUV,
        PurchaseHorizon.WITHIN_30_DAYS,
    )
    assert after.budget_max == NEEDS.budget
    assert changed == [
        "interest.use",
        "interest.vehicle_type",
        "interest.budget_max",
        "interest.purchase_horizon",
    ]
    assert interest_with_needs(after, NEEDS) == (after, [])
    assert interest_with_needs(before, VisitNeeds()) == (before, [])


def visit(now: datetime, needs: VisitNeeds | None = None) -> ShowroomVisitRecorded:
    return ShowroomVisitRecorded(
        dealer_id=DEALER,
        customer_id=customer_id_for("default", PHONE),
        occurred_at=now,
        visit_id="visit-77",
        consultant_id="consultant-zhao",
        arrived_at=now,
        party_size=2,
        visit_kind=VisitKind.FIRST,
        contact=ContactSnapshot(
            name="周敏", phone=PHONE, consent=ConsentSnapshot(service=True, marketing=False)
        ),
        needs=needs,
    )


@pytest.mark.integration
async def test_a_visit_makes_a_walk_in_lead_that_quotes_and_test_drives_touch(
    leads: Any,
) -> None:
    now = datetime.now(UTC)

    async def produce(event: Any) -> None:
        record = encode_binary(event, source="/sales")
        await leads.produce("sales", record.value, key=record.key, headers=record.headers)

    await produce(visit(now))
    await produce(visit(now, NEEDS))  # the needs analysis: the same visit again

    def created(events: list[Any]) -> list[LeadCreated]:
        return [e for e in events if isinstance(e, LeadCreated) and e.contact.phone == PHONE]

    events = await leads.wait_for_events(
        lambda evs: created(evs) and [e for e in evs if isinstance(e, LeadUpdated)],
        what="the walk-in lead and its needs",
    )
    [new] = created(events)
    assert (str(new.channel), str(new.source), new.consultant_id) == (
        "walk_in",
        "showroom",
        "consultant-zhao",
    )
    [needs] = [e for e in events if isinstance(e, LeadUpdated) and e.lead_id == new.lead_id]
    assert needs.interest is not None
    assert needs.interest.vehicle_type is VehicleType.SUV
    assert "interest.budget_max" in needs.changed_fields

    lead_id = uuid.UUID(new.lead_id)
    quote = example_for(QuoteIssued).model_copy(
        update={"dealer_id": DEALER, "customer_id": new.customer_id, "lead_id": None}
    )
    drive = example_for(TestDriveCompleted).model_copy(
        update={"dealer_id": DEALER, "customer_id": new.customer_id, "lead_id": str(lead_id)}
    )
    await produce(quote)
    await produce(drive)

    async def touched_twice() -> dict[str, Any] | None:
        got = await leads.http.get(f"/v1/leads/{lead_id}", params={"dealer_id": DEALER})
        body: dict[str, Any] = got.json()
        return body if body["touch_count"] == 3 else None

    lead = await leads.eventually(touched_twice, what="the quote's and the drive's touches")
    assert lead["next_contact_at"] is not None  # the re-grade prompt heads the worklist
    assert lead["interest"]["use"] == "family"
    assert lead["channel"] == "walk_in"
    events = await leads.wait_for_events(
        lambda evs: len([e for e in evs if isinstance(e, LeadUpdated)]) >= 3, what="touches"
    )
    touches = [e for e in events if isinstance(e, LeadUpdated) and e.lead_id == new.lead_id]
    assert [t.changed_fields for t in touches[1:]] == [
        ["last_touch_at"],
        ["last_touch_at", "next_contact_at"],
    ]
