"""A contract cancelled after signing (ContractCancelled on the sales topic, from any
producer) takes its converted lead back to a live grade, against real Kafka and
PostgreSQL: the grade before O (else A), open again without the contract, LeadGraded with
the reason; a redelivery, an unknown contract and a delivered lead change nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.events.leads import LeadGraded
from dealerflow.contracts.events.sales import ContractCancelled, VehicleDelivered
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

DEALER = "gz-tianhe-03"
Q = {"dealer_id": DEALER}


async def new_lead(leads: Any, phone: str) -> dict[str, Any]:
    body = {"dealer_id": DEALER, "customer": {"name": "陈静", "phones": [phone]}}
    answer = await leads.http.post("/v1/leads", json=body, params={"consultant_id": "c-he"})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def grade(leads: Any, lead_id: str, to: str) -> None:
    entry = {
        "channel": "phone",
        "outcome": "reached",
        "grade_after": to,
        "next_contact_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
    }
    logged = await leads.http.post(f"/v1/leads/{lead_id}/contacts", params=Q, json=entry)
    assert logged.status_code == 201, logged.text


async def convert(leads: Any, lead_id: str, contract_id: str) -> None:
    body = {"contract_id": contract_id}
    converted = await leads.http.post(f"/v1/leads/{lead_id}/convert", params=Q, json=body)
    assert converted.status_code == 200, converted.text


def cancelled(lead: dict[str, Any], contract_id: str, reason: str) -> ContractCancelled:
    return example_for(ContractCancelled).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": uuid.UUID(lead["customer_id"]),
            "contract_id": contract_id,
            "reason": reason,
            "occurred_at": datetime.now(UTC),
        }
    )


async def lead_at(leads: Any, lead_id: str, status: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        body: dict[str, Any] = (await leads.http.get(f"/v1/leads/{lead_id}", params=Q)).json()
        return body if body["status"] == status else None

    found: dict[str, Any] = await leads.eventually(probe, what=f"lead {lead_id} {status}")
    return found


def graded(events: list[Any], lead_id: str) -> list[tuple[str, str, str | None]]:
    return [
        (str(e.previous_grade), str(e.grade), e.note)
        for e in events
        if isinstance(e, LeadGraded) and e.lead_id == lead_id
    ]


async def test_a_cancelled_contract_reopens_its_lead_at_the_grade_before_o(leads: Any) -> None:
    worked = await new_lead(leads, "13700001111")
    await grade(leads, worked["lead_id"], "B")
    await convert(leads, worked["lead_id"], "k-9")
    never_graded = await new_lead(leads, "13700002222")
    await convert(leads, never_graded["lead_id"], "k-10")

    event = cancelled(worked, "k-9", "financing refused")
    await leads.publish(event)
    await leads.publish(event.model_copy())  # the same fact again, under a new event id
    await leads.publish(cancelled(worked, "k-unknown", "not ours"))
    await leads.publish(cancelled(never_graded, "k-10", "changed their mind"))

    lead = await lead_at(leads, worked["lead_id"], "open")
    assert (lead["grade"], lead["contract_id"], lead["closed_at"]) == ("B", None, None)
    other = await lead_at(leads, never_graded["lead_id"], "open")
    assert other["grade"] == "A"  # nothing live before O: A

    # the reopened lead converts again with a new contract, which is cancelled too; its
    # cancellation follows the repeated one on the customer's partition
    await convert(leads, worked["lead_id"], "k-11")
    assert (await lead_at(leads, worked["lead_id"], "converted"))["contract_id"] == "k-11"
    await leads.publish(cancelled(worked, "k-11", "moved abroad"))
    events = await leads.wait_for_events(
        lambda evs: len(graded(evs, worked["lead_id"])) >= 5, what="k-11 cancelled"
    )
    assert graded(events, worked["lead_id"]) == [
        ("N", "B", None),
        ("B", "O", None),
        ("O", "B", "contract k-9 cancelled: financing refused"),
        ("B", "O", None),
        ("O", "B", "contract k-11 cancelled: moved abroad"),
    ]
    assert graded(events, never_graded["lead_id"])[-1][:2] == ("O", "A")


async def test_a_delivered_lead_is_not_reopened(leads: Any) -> None:
    lead = await new_lead(leads, "13700003333")
    await convert(leads, lead["lead_id"], "k-20")
    delivered = example_for(VehicleDelivered).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": uuid.UUID(lead["customer_id"]),
            "contract_id": "k-20",
            "occurred_at": datetime.now(UTC),
        }
    )
    await leads.publish(delivered)
    await lead_at(leads, lead["lead_id"], "delivered")
    await leads.handled(await leads.publish(cancelled(lead, "k-20", "too late")))
    assert (await lead_at(leads, lead["lead_id"], "delivered"))["grade"] == "D"
