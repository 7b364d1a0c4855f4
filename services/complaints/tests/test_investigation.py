"""A complaint's investigation: the customer's sales (sales topic) and repair orders
(service topic) kept here, the responsibility and measures of the resolution and the
customer's confirmation step - real Kafka and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.events.complaints import ComplaintResolved
from dealerflow.contracts.events.sales import ContractCancelled, ContractSigned, VehicleDelivered
from dealerflow.contracts.events.service import RepairOrderOpened, VehicleHandedOver
from dealerflow.contracts.examples import example_for

pytestmark = pytest.mark.integration

DEALER = "sh-pudong-01"
OTHER = "bj-chaoyang-02"
VIN = "LSVAU2180N2183294"
#: the harness clock's start (conftest.START)
NOW = datetime(2025, 3, 5, 2, 0, tzinfo=UTC)


def days_ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


def signed(customer: uuid.UUID, contract_id: str, **update: Any) -> ContractSigned:
    event = example_for(ContractSigned)
    return event.model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "contract_id": contract_id,
            "vehicle": event.vehicle.model_copy(update={"vin": None}),
            "signed_at": days_ago(60),
            **update,
        }
    )


def delivered(customer: uuid.UUID, contract_id: str, **update: Any) -> VehicleDelivered:
    return example_for(VehicleDelivered).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "contract_id": contract_id,
            "vin": VIN,
            "delivered_at": days_ago(50),
            **update,
        }
    )


def repair_opened(customer: uuid.UUID, ro: str, opened: datetime, **update: Any) -> Any:
    return example_for(RepairOrderOpened).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "repair_order_id": ro,
            "vin": VIN,
            "advisor_id": "sa-li",
            "concerns": [f"concern of {ro}"],
            "concern_codes": [],
            "opened_at": opened,
            **update,
        }
    )


def handed_over(customer: uuid.UUID, ro: str, at: datetime, **update: Any) -> Any:
    return example_for(VehicleHandedOver).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer,
            "repair_order_id": ro,
            "vin": VIN,
            "handed_over_at": at,
            **update,
        }
    )


async def consumed(harness: Any, *events: DomainEvent) -> None:
    """Produce ``events`` in order and wait until the last of each topic is handled."""
    last: dict[str, str] = {}
    for event in events:
        event_id = str(uuid.uuid4())
        await harness.produce(event, event_id=event_id)
        last[event.context] = event_id
    for event_id in last.values():
        await harness.handled(event_id)


async def investigation(harness: Any, complaint_id: str, dealer_id: str = DEALER) -> Any:
    response = await harness.client.get(
        f"/v1/complaints/{complaint_id}/investigation", params={"dealer_id": dealer_id}
    )
    return response


async def post(harness: Any, path: str, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return await harness.client.post(path, json={"dealer_id": DEALER, **body}, headers=headers)


async def test_investigation_shows_the_customers_sales_and_repair_orders_from_events(
    harness: Any,
) -> None:
    customer, stranger = uuid.uuid4(), uuid.uuid4()
    await consumed(
        harness,
        signed(customer, "c-1"),
        delivered(customer, "c-1"),
        signed(customer, "c-2", signed_at=days_ago(20)),
        ContractCancelled.model_validate(
            {
                **example_for(ContractCancelled).model_dump(),
                "dealer_id": DEALER,
                "customer_id": customer,
                "contract_id": "c-2",
                "cancelled_at": days_ago(18),
            }
        ),
        signed(stranger, "c-9"),
        signed(customer, "c-elsewhere", dealer_id=OTHER),
        repair_opened(customer, "ro-1", days_ago(30)),
        handed_over(customer, "ro-1", days_ago(29)),
        # the vehicle sold to the customer, brought in by someone else (e.g. family)
        repair_opened(stranger, "ro-2", days_ago(10), vin=VIN),
        repair_opened(stranger, "ro-3", days_ago(5), vin="LFV2A21K6N4000001"),
    )
    complaint = await harness.open_complaint(customer_id=str(customer))
    response = await investigation(harness, complaint["id"])
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["customer_id"] == str(customer)
    assert found["responsibility"] is None
    assert found["measures"] == []
    assert found["confirmations"] == []

    sales = {s["contract_id"]: s for s in found["sales"]}
    assert list(sales) == ["c-1", "c-2"]  # oldest first; no other customer's, no other store's
    sold = example_for(ContractSigned)
    assert sales["c-1"]["vin"] == VIN  # allocated at delivery
    assert sales["c-1"]["model"] == sold.vehicle.model
    assert sales["c-1"]["price"] == {
        "amount": f"{sold.price.amount}",
        "currency": sold.price.currency,
    }
    assert sales["c-1"]["consultant_id"] == sold.consultant_id
    assert sales["c-1"]["delivered_at"] is not None
    assert sales["c-1"]["cancelled_at"] is None
    assert sales["c-2"]["delivered_at"] is None
    assert sales["c-2"]["cancelled_at"] is not None

    repairs = {r["repair_order_id"]: r for r in found["repair_orders"]}
    assert list(repairs) == ["ro-1", "ro-2"]  # the customer's, and their vehicle's
    assert repairs["ro-1"]["concerns"] == ["concern of ro-1"]
    assert repairs["ro-1"]["advisor_id"] == "sa-li"
    assert repairs["ro-1"]["handed_over_at"] is not None
    assert repairs["ro-2"]["handed_over_at"] is None

    other_store = await investigation(harness, complaint["id"], dealer_id=OTHER)
    assert other_store.status_code == 404, other_store.text


async def test_confirmation_is_recorded_for_a_resolved_complaint_only(harness: Any) -> None:
    complaint = await harness.open_complaint()
    cid = complaint["id"]
    early = await post(harness, f"/v1/complaints/{cid}/confirmation", {"confirmed": True})
    assert early.status_code == 409, early.text
    assert "resolved" in early.json()["detail"]

    acknowledged = await post(harness, f"/v1/complaints/{cid}/acknowledge", {"channel": "phone"})
    assert acknowledged.status_code == 200, acknowledged.text
    resolved = await post(
        harness,
        f"/v1/complaints/{cid}/resolve",
        {
            "responsibility": "dealer",
            "responsible_department": "after_sales",
            "responsible_staff_id": "tech-zhao",
            "cause": "Brake pads fitted wrongly",
            "measures": ["Apology", "Re-repair at our cost"],
            "resolution": "We refit the pads on Friday",
        },
    )
    assert resolved.status_code == 200, resolved.text
    [event] = [
        e.event
        for e in await harness.complaints_events(
            lambda seen: any(isinstance(e.event, ComplaintResolved) for e in seen),
            what="ComplaintResolved",
        )
        if isinstance(e.event, ComplaintResolved)
    ]
    assert event.responsible_staff_id == "tech-zhao"

    body = {"confirmed": True, "channel": "phone", "note": "Happy with the re-repair"}
    first = await post(harness, f"/v1/complaints/{cid}/confirmation", body, key="conf-1")
    assert first.status_code == 200, first.text
    retry = await post(harness, f"/v1/complaints/{cid}/confirmation", body, key="conf-1")
    assert retry.status_code == 200
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert [h["action"] for h in retry.json()["history"]].count("customer_confirmation") == 1

    found = (await investigation(harness, cid)).json()
    assert found["responsibility"]["responsibility"] == "dealer"
    assert found["responsibility"]["responsible_department"] == "after_sales"
    assert found["responsibility"]["responsible_staff_id"] == "tech-zhao"
    assert found["responsibility"]["cause"] == "Brake pads fitted wrongly"
    assert found["measures"] == ["Apology", "Re-repair at our cost"]
    assert found["resolution"] == "We refit the pads on Friday"
    [confirmation] = found["confirmations"]
    assert confirmation["confirmed"] is True
    assert confirmation["channel"] == "phone"
    assert confirmation["note"] == "Happy with the re-repair"
    assert confirmation["reopen_count"] == 0
    assert confirmation["recorded_by"]  # the caller


async def test_investigation_of_an_unknown_complaint_is_404(harness: Any) -> None:
    response = await investigation(harness, str(uuid.uuid4()))
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
