"""Contract lifecycle through the HTTP API on a real PostgreSQL (events read from the outbox)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from dealerflow.contracts.events.sales import (
    ContractAmended,
    ContractCancelled,
    ContractSigned,
    InvoiceIssued,
    RefundIssued,
    VehicleDelivered,
)
from dealerflow.contracts.identity import customer_id_for
from dealerflow.runtime.clock import ManualClock

pytestmark = pytest.mark.integration

Body = Callable[..., dict[str, Any]]
RecordPdi = Callable[..., Awaitable[httpx.Response]]


async def sign(api: httpx.AsyncClient, body: dict[str, Any], **headers: str) -> httpx.Response:
    return await api.post("/v1/contracts", json=body, headers=headers)


async def pay(
    api: httpx.AsyncClient, contract_id: str, amount: str, kind: str = "full", **extra: Any
) -> httpx.Response:
    return await api.post(
        f"/v1/contracts/{contract_id}/payments",
        json={
            "dealer_id": "D001",
            "kind": kind,
            "method": "bank_transfer",
            "amount": {"amount": amount, "currency": "CNY"},
            **extra,
        },
    )


async def test_signing_derives_the_customer_and_publishes_contract_signed(
    api: httpx.AsyncClient, contract_body: Body, outbox: Any
) -> None:
    response = await sign(api, contract_body())
    assert response.status_code == 201, response.text
    contract = response.json()
    expected_customer = customer_id_for("default", "+8613800138000")
    assert contract["customer_id"] == str(expected_customer)
    assert contract["status"] == "active"
    assert contract["version"] == 1
    assert contract["contact"]["phone"] == "+8613800138000"
    assert contract["ledger"]["balance_due"] == {"amount": "200000.00", "currency": "CNY"}

    [(key, envelope)] = await outbox.records()
    assert key == str(expected_customer).encode()
    event = envelope.event
    assert isinstance(event, ContractSigned)
    assert event.contract_id == contract["contract_id"]
    assert event.dealer_id == "D001"
    assert event.vehicle.vin == "LSVAU2180N2183294"
    assert str(event.price.amount) == "200000.00"
    assert event.payment.method == "full_payment"
    assert event.consultant_id == "consultant-li"
    assert event.contact.phone == "+8613800138000"
    assert event.contact.wechat_openid == "o-wang-fang"
    assert event.identity_verified is True
    assert envelope.meta.subject == contract["contract_id"]


async def test_a_given_customer_id_is_kept(api: httpx.AsyncClient, contract_body: Body) -> None:
    given = uuid.uuid4()
    response = await sign(api, contract_body(customer_id=str(given)))
    assert response.status_code == 201
    assert response.json()["customer_id"] == str(given)


async def test_idempotency_key_and_client_id_never_create_a_second_contract(
    api: httpx.AsyncClient, contract_body: Body, outbox: Any
) -> None:
    body = contract_body()
    first = await sign(api, body, **{"Idempotency-Key": "sign-1"})
    again = await sign(api, body, **{"Idempotency-Key": "sign-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["contract_id"] == first.json()["contract_id"]

    reused = await sign(
        api, contract_body(consultant_id="someone-else"), **{"Idempotency-Key": "sign-1"}
    )
    assert reused.status_code == 422
    assert reused.json()["type"].endswith("idempotency-key-reused")

    client_id = str(uuid.uuid4())
    by_id = await sign(api, contract_body(contract_id=client_id))
    by_id_again = await sign(api, contract_body(contract_id=client_id))
    assert (by_id.status_code, by_id_again.status_code) == (201, 200)
    assert by_id.json()["contract_id"] == by_id_again.json()["contract_id"] == client_id

    assert await outbox.types() == ["ContractSigned", "ContractSigned"]
    listing = (await api.get("/v1/contracts", params={"dealer_id": "D001"})).json()
    assert len(listing["items"]) == 2


async def test_another_dealer_sees_nothing(api: httpx.AsyncClient, contract_body: Body) -> None:
    contract_id = (await sign(api, contract_body())).json()["contract_id"]
    assert (
        await api.get(f"/v1/contracts/{contract_id}", params={"dealer_id": "D001"})
    ).status_code == 200

    other = await api.get(f"/v1/contracts/{contract_id}", params={"dealer_id": "D002"})
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["status"] == 404
    payment = await api.post(
        f"/v1/contracts/{contract_id}/payments",
        json={
            "dealer_id": "D002",
            "kind": "full",
            "method": "cash",
            "amount": {"amount": "1.00", "currency": "CNY"},
        },
    )
    assert payment.status_code == 404
    listing = await api.get("/v1/contracts", params={"dealer_id": "D002"})
    assert listing.json() == {"items": [], "next_cursor": None}
    assert (await api.get("/v1/contracts")).status_code == 422  # dealer_id is required


async def test_list_pages_newest_first_with_filters(
    api: httpx.AsyncClient, contract_body: Body, clock: ManualClock
) -> None:
    ids = []
    for n in range(5):
        clock.advance(timedelta(minutes=1))
        body = contract_body(consultant_id="consultant-li" if n % 2 == 0 else "consultant-wu")
        ids.append((await sign(api, body)).json()["contract_id"])

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"dealer_id": "D001", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await api.get("/v1/contracts", params=params)).json()
        pages += 1
        seen += [c["contract_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == list(reversed(ids))

    li = (
        await api.get(
            "/v1/contracts", params={"dealer_id": "D001", "consultant_id": "consultant-li"}
        )
    ).json()
    assert [c["contract_id"] for c in li["items"]] == [ids[4], ids[2], ids[0]]
    bad = await api.get("/v1/contracts", params={"dealer_id": "D001", "cursor": "garbage!"})
    assert bad.status_code == 422
    too_many = await api.get("/v1/contracts", params={"dealer_id": "D001", "limit": 201})
    assert too_many.status_code == 422


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            {
                "vehicle": {
                    "model": "Aurora X5",
                    "configuration": "Luxury",
                    "colour": "white",
                    "vin": "LSVAU2180N218329I",
                }
            },
            "vin",
        ),
        ({"planned_delivery_on": "2025-03-01"}, "delivery_date is in the past"),
        ({"vehicle": {"model": "Aurora X5"}}, "configuration is required"),
        (
            {
                "customer": {
                    "name": "x",
                    "phone": "12",
                    "consent": {"service": True, "marketing": True},
                    "address": "a",
                    "id_document_verified": True,
                }
            },
            "phone",
        ),
        ({"price": {"amount": 200000.5, "currency": "CNY"}}, "price"),
    ],
)
async def test_invalid_contracts_are_422_and_publish_nothing(
    api: httpx.AsyncClient, contract_body: Body, outbox: Any, change: dict[str, Any], error: str
) -> None:
    response = await sign(api, contract_body(**change))
    assert response.status_code == 422, response.text
    assert error in response.text
    assert await outbox.types() == []


async def test_delivery_with_a_missing_document_is_409_and_publishes_nothing(
    api: httpx.AsyncClient,
    contract_body: Body,
    outbox: Any,
    full_checklist: dict[str, Any],
    record_pdi: RecordPdi,
) -> None:
    contract_id = (await sign(api, contract_body())).json()["contract_id"]
    assert (await pay(api, contract_id, "200000.00")).status_code == 201
    await record_pdi(api, contract_id)
    before = await outbox.types()

    checklist = dict(
        full_checklist,
        documents=["certificate_of_conformity", "invoice", "maintenance_manual", "keys"],
    )
    response = await api.post(
        f"/v1/contracts/{contract_id}/deliver",
        json={"dealer_id": "D001", "checklist": checklist, "odometer_km": 12},
    )
    assert response.status_code == 409
    problem = response.json()
    assert problem["missing"] == ["warranty_card"]
    assert "warranty_card" in problem["detail"]
    assert await outbox.types() == before
    detail = (await api.get(f"/v1/contracts/{contract_id}", params={"dealer_id": "D001"})).json()
    assert detail["status"] == "active"
    assert detail["delivery"] is None


async def test_delivery_lists_every_blocker(
    api: httpx.AsyncClient, contract_body: Body, outbox: Any
) -> None:
    vehicle = {"model": "Aurora X5", "configuration": "Luxury", "colour": "white"}
    contract_id = (await sign(api, contract_body(vehicle=vehicle))).json()["contract_id"]
    await pay(api, contract_id, "20000.00", kind="deposit")
    response = await api.post(
        f"/v1/contracts/{contract_id}/deliver",
        json={
            "dealer_id": "D001",
            "checklist": {"documents": ["keys"]},
            "odometer_km": 5,
        },
    )
    assert response.status_code == 409
    assert response.json()["missing"] == [
        "vin_not_assigned",
        "pdi_missing",
        "certificate_of_conformity",
        "invoice",
        "maintenance_manual",
        "warranty_card",
        "balance_outstanding",
    ]
    assert response.json()["balance_due"] == {"amount": "180000.00", "currency": "CNY"}
    assert response.json()["pdi_failed_items"] == []
    assert "VehicleDelivered" not in await outbox.types()


async def test_a_pdi_with_failed_items_blocks_delivery_until_a_new_one_passes(
    api: httpx.AsyncClient,
    contract_body: Body,
    outbox: Any,
    full_checklist: dict[str, Any],
    record_pdi: RecordPdi,
    clock: ManualClock,
) -> None:
    contract_id = (await sign(api, contract_body())).json()["contract_id"]
    await pay(api, contract_id, "20000.00", kind="deposit")
    url = f"/v1/contracts/{contract_id}/pdi"
    assert (await api.get(url, params={"dealer_id": "D001"})).status_code == 404
    elsewhere = await api.get(url, params={"dealer_id": "D002"})
    assert elsewhere.status_code == 404
    assert elsewhere.json()["title"] == "Contract not found"
    partial = {
        "dealer_id": "D001",
        "inspector_id": "tech-7",
        "inspected_at": clock.now().isoformat(),
        "items": [{"item": "exterior", "passed": True}],
    }
    refused = await api.put(url, json=partial)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        "standard PDI items missing: interior, engine_bay, electrics, tyres, fluids, road_test"
    ]

    failed = (await record_pdi(api, contract_id, "tyres", "road_test")).json()
    assert failed["passed"] is False
    assert failed["inspector_id"] == "tech-7"
    read = (await api.get(url, params={"dealer_id": "D001"})).json()
    assert read == failed
    contract = await api.get(f"/v1/contracts/{contract_id}", params={"dealer_id": "D001"})
    assert contract.json()["pdi"] == failed
    assert [i["item"] for i in read["items"] if not i["passed"]] == ["tyres", "road_test"]
    deliver = {"dealer_id": "D001", "checklist": full_checklist, "odometer_km": 5}
    response = await api.post(f"/v1/contracts/{contract_id}/deliver", json=deliver)
    assert response.status_code == 409
    assert response.json()["missing"] == ["pdi_not_passed", "balance_outstanding"]
    assert response.json()["pdi_failed_items"] == ["tyres", "road_test"]

    await pay(api, contract_id, "180000.00", kind="balance")
    clock.advance(timedelta(hours=2))
    assert (await record_pdi(api, contract_id)).json()["passed"] is True
    delivered = await api.post(f"/v1/contracts/{contract_id}/deliver", json=deliver)
    assert delivered.status_code == 200, delivered.text
    event = (await outbox.events())[-1]
    assert isinstance(event, VehicleDelivered)
    assert event.pdi_passed is True
    assert event.pdi_inspector_id == "tech-7"
    assert event.pdi_inspected_at == clock.now()
    after = await api.put(url, json=dict(partial, items=read["items"]))
    assert after.status_code == 409
    assert after.json()["type"].endswith("already-delivered")


async def test_full_lifecycle_with_invoice_counts_the_invoice_document(
    api: httpx.AsyncClient,
    contract_body: Body,
    outbox: Any,
    clock: ManualClock,
    record_pdi: RecordPdi,
) -> None:
    contract_id = (await sign(api, contract_body())).json()["contract_id"]
    await pay(api, contract_id, "50000.00", kind="deposit")
    await pay(api, contract_id, "150000.00", kind="balance")
    invoice = await api.post(
        f"/v1/contracts/{contract_id}/invoice",
        json={"dealer_id": "D001", "invoice_number": "INV-0001", "invoice_title": "王芳"},
    )
    assert invoice.status_code == 200, invoice.text
    assert invoice.json()["invoice"]["tax_amount"] == {"amount": "23008.85", "currency": "CNY"}
    again = await api.post(
        f"/v1/contracts/{contract_id}/invoice",
        json={"dealer_id": "D001", "invoice_number": "INV-0002", "invoice_title": "王芳"},
    )
    assert again.status_code == 409

    scheduled = await api.post(
        f"/v1/contracts/{contract_id}/deliveries/schedule",
        json={
            "dealer_id": "D001",
            "scheduled_for": "2025-03-20T02:00:00Z",
            "location": "Showroom 1",
        },
    )
    assert scheduled.status_code == 200, scheduled.text
    clock.advance(timedelta(days=17))
    await record_pdi(api, contract_id)
    documents = ["certificate_of_conformity", "maintenance_manual", "warranty_card", "keys"]
    delivered = await api.post(
        f"/v1/contracts/{contract_id}/deliver",
        json={
            "dealer_id": "D001",
            "checklist": {"documents": documents},
            "odometer_km": 8,
        },
    )
    assert delivered.status_code == 200, delivered.text
    body = delivered.json()
    assert body["status"] == "delivered"
    assert body["delivery"]["delivery_id"] == scheduled.json()["delivery"]["delivery_id"]
    assert body["ledger"]["balance_due"]["amount"] == "0.00"

    events = await outbox.events()
    assert [e.type for e in events] == [
        "ContractSigned",
        "PaymentReceived",
        "PaymentReceived",
        "InvoiceIssued",
        "DeliveryScheduled",
        "VehicleDelivered",
    ]
    assert isinstance(events[3], InvoiceIssued)
    delivered_event = events[-1]
    assert isinstance(delivered_event, VehicleDelivered)
    assert delivered_event.delivered_at == clock.now()
    assert "invoice" in delivered_event.documents
    assert delivered_event.delivery_id == body["delivery"]["delivery_id"]
    assert delivered_event.pdi_passed is True

    twice = await api.post(
        f"/v1/contracts/{contract_id}/deliver",
        json={
            "dealer_id": "D001",
            "checklist": {"documents": documents},
            "odometer_km": 8,
        },
    )
    assert twice.status_code == 409
    assert twice.json()["type"].endswith("already-delivered")


async def test_amendment_creates_a_new_version(
    api: httpx.AsyncClient, contract_body: Body, outbox: Any
) -> None:
    contract_id = (await sign(api, contract_body())).json()["contract_id"]
    amend = {
        "dealer_id": "D001",
        "price": {"amount": "195000.00", "currency": "CNY"},
        "planned_delivery_on": "2025-03-25",
        "reason": "colour in stock earlier",
        "customer_agreed": True,
        "dealer_agreed": True,
    }
    response = await api.post(f"/v1/contracts/{contract_id}/amend", json=amend)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 2
    assert [v["version"] for v in body["versions"]] == [1, 2]
    assert body["versions"][1]["changed_fields"] == ["price", "planned_delivery_on"]
    event = (await outbox.events())[-1]
    assert isinstance(event, ContractAmended)
    assert event.contract_version == 2
    assert event.changed_fields == ["price", "planned_delivery_on"]

    unchanged = await api.post(f"/v1/contracts/{contract_id}/amend", json=amend)
    assert unchanged.status_code == 422
    assert "changes nothing" in unchanged.text
    one_sided = await api.post(
        f"/v1/contracts/{contract_id}/amend",
        json=dict(amend, planned_delivery_on="2025-03-28", dealer_agreed=False),
    )
    assert one_sided.status_code == 422
    loan = {
        "method": "loan",
        "down_payment": {"amount": "60000.00", "currency": "CNY"},
        "term_months": 36,
        "annual_rate_percent": "3.5",
    }
    to_loan = await api.post(
        f"/v1/contracts/{contract_id}/amend",
        json={"dealer_id": "D001", "payment": loan, "customer_agreed": True, "dealer_agreed": True},
    )
    assert to_loan.json()["versions"][-1]["changed_fields"] == ["payment"]
    longer = dict(loan, term_months=48)
    term_only = await api.post(
        f"/v1/contracts/{contract_id}/amend",
        json={
            "dealer_id": "D001",
            "payment": longer,
            "customer_agreed": True,
            "dealer_agreed": True,
        },
    )
    assert term_only.status_code == 200, term_only.text
    assert term_only.json()["version"] == 4


async def test_cancellation_refunds_what_was_paid_and_blocks_delivery(
    api: httpx.AsyncClient, contract_body: Body, outbox: Any, full_checklist: dict[str, Any]
) -> None:
    contract_id = (await sign(api, contract_body())).json()["contract_id"]
    await pay(api, contract_id, "20000.00", kind="deposit")
    response = await api.post(
        f"/v1/contracts/{contract_id}/cancel",
        json={
            "dealer_id": "D001",
            "reason": "changed mind",
            "cancelled_by": "customer",
            "non_refundable_costs": "500.00",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["ledger"]["refunded"]["amount"] == "19500.00"
    events = await outbox.events()
    assert [e.type for e in events][-2:] == ["ContractCancelled", "RefundIssued"]
    cancelled, refund = events[-2], events[-1]
    assert isinstance(cancelled, ContractCancelled)
    assert isinstance(refund, RefundIssued)
    assert str(cancelled.refund_due.amount) == "19500.00" == str(refund.amount.amount)

    deliver = await api.post(
        f"/v1/contracts/{contract_id}/deliver",
        json={"dealer_id": "D001", "checklist": full_checklist, "odometer_km": 1},
    )
    assert deliver.status_code == 409
    assert "contract_not_active" in deliver.json()["missing"]
    assert (await pay(api, contract_id, "1.00")).status_code == 409
    again = await api.post(
        f"/v1/contracts/{contract_id}/cancel",
        json={"dealer_id": "D001", "reason": "twice", "cancelled_by": "dealer"},
    )
    assert again.status_code == 409


async def test_payment_retry_with_the_same_id_records_one_payment(
    api: httpx.AsyncClient, contract_body: Body, outbox: Any
) -> None:
    contract_id = (await sign(api, contract_body())).json()["contract_id"]
    payment_id = str(uuid.uuid4())
    first = await pay(api, contract_id, "1000.00", kind="deposit", payment_id=payment_id)
    second = await pay(api, contract_id, "1000.00", kind="deposit", payment_id=payment_id)
    assert (first.status_code, second.status_code) == (201, 200)
    assert len(second.json()["payments"]) == 1
    assert (await outbox.types()).count("PaymentReceived") == 1
    wrong_currency = await api.post(
        f"/v1/contracts/{contract_id}/payments",
        json={
            "dealer_id": "D001",
            "kind": "balance",
            "method": "cash",
            "amount": {"amount": "5.00", "currency": "USD"},
        },
    )
    assert wrong_currency.status_code == 422


async def test_concurrent_retries_create_one_contract(
    api: httpx.AsyncClient, contract_body: Body, outbox: Any
) -> None:
    body = contract_body()
    responses = await asyncio.gather(
        *(sign(api, body, **{"Idempotency-Key": "burst"}) for _ in range(5))
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    assert len({r.json()["contract_id"] for r in responses}) == 1
    assert await outbox.types() == ["ContractSigned"]


async def test_a_retried_step_with_its_idempotency_key_does_it_once(
    api: httpx.AsyncClient,
    contract_body: Body,
    outbox: Any,
    full_checklist: dict[str, Any],
    record_pdi: RecordPdi,
) -> None:
    contract_id = (await sign(api, contract_body())).json()["contract_id"]
    amend = {
        "dealer_id": "D001",
        "planned_delivery_on": "2025-03-25",
        "customer_agreed": True,
        "dealer_agreed": True,
    }
    url = f"/v1/contracts/{contract_id}/amend"
    first = await api.post(url, json=amend, headers={"Idempotency-Key": "amend-1"})
    retry = await api.post(url, json=amend, headers={"Idempotency-Key": "amend-1"})
    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.json()["version"] == first.json()["version"] == 2
    # Without the key the same amendment is a second one, which changes nothing.
    assert (await api.post(url, json=amend)).status_code == 422
    other = await api.post(
        url,
        json=dict(amend, planned_delivery_on="2025-03-27"),
        headers={"Idempotency-Key": "amend-1"},
    )
    assert other.status_code == 422
    assert other.json()["type"].endswith("idempotency-key-reused")

    assert (await pay(api, contract_id, "200000.00")).status_code == 201
    await record_pdi(api, contract_id)
    deliver = {"dealer_id": "D001", "checklist": full_checklist, "odometer_km": 3}
    handover = f"/v1/contracts/{contract_id}/deliver"
    delivered = await api.post(handover, json=deliver, headers={"Idempotency-Key": "keys-1"})
    again = await api.post(handover, json=deliver, headers={"Idempotency-Key": "keys-1"})
    assert (delivered.status_code, again.status_code) == (200, 200)
    assert again.json() == delivered.json()
    assert (await api.post(handover, json=deliver)).status_code == 409  # already delivered
    assert (await outbox.types()).count("ContractAmended") == 1
    assert (await outbox.types()).count("VehicleDelivered") == 1


EARNEST_MONEY = {"policy": {"sales": {"forfeit_deposit_on_customer_cancellation": True}}}


@pytest.mark.parametrize("dealers", [{"D002": EARNEST_MONEY}])
async def test_the_deposit_is_kept_only_where_the_dealer_says_so(
    api: httpx.AsyncClient, contract_body: Body
) -> None:
    refunded: dict[str, str] = {}
    for dealer in ("D001", "D002"):
        signed = await sign(api, contract_body(dealer_id=dealer))
        assert signed.status_code == 201, signed.text
        contract_id = signed.json()["contract_id"]
        paid = await pay(api, contract_id, "20000.00", kind="deposit", dealer_id=dealer)
        assert paid.status_code == 201, paid.text
        cancelled = await api.post(
            f"/v1/contracts/{contract_id}/cancel",
            json={"dealer_id": dealer, "reason": "changed mind", "cancelled_by": "customer"},
        )
        assert cancelled.status_code == 200, cancelled.text
        refunded[dealer] = cancelled.json()["ledger"]["refunded"]["amount"]
    assert refunded == {"D001": "20000.00", "D002": "0.00"}


async def test_vehicle_delivered_carries_the_latest_stated_yearly_mileage(
    api: httpx.AsyncClient,
    contract_body: Body,
    customer_body: Body,
    outbox: Any,
    full_checklist: dict[str, Any],
    record_pdi: RecordPdi,
) -> None:
    contact = {
        k: v for k, v in customer_body().items() if k not in ("address", "id_document_verified")
    }
    for arrived, needs in (
        ("2025-02-01T02:00:00Z", {"expected_yearly_km": 15000}),
        ("2025-02-20T02:00:00Z", {"expected_yearly_km": 22000}),
        ("2025-03-01T02:00:00Z", {"use": "commute"}),  # no mileage stated: not the latest
    ):
        visit = {
            "dealer_id": "D001",
            "customer": contact,
            "consultant_id": "consultant-li",
            "arrived_at": arrived,
            "party_size": 1,
        }
        recorded = await api.post("/v1/visits", json=visit)
        assert recorded.status_code == 201, recorded.text
        step = await api.post(
            f"/v1/visits/{recorded.json()['visit_id']}/needs", json={"dealer_id": "D001", **needs}
        )
        assert step.status_code == 200, step.text
    contract_id = (await sign(api, contract_body())).json()["contract_id"]
    await pay(api, contract_id, "200000.00")
    await record_pdi(api, contract_id)
    deliver = {"dealer_id": "D001", "checklist": full_checklist, "odometer_km": 5}
    delivered = await api.post(f"/v1/contracts/{contract_id}/deliver", json=deliver)
    assert delivered.status_code == 200, delivered.text
    event = (await outbox.events())[-1]
    assert isinstance(event, VehicleDelivered)
    assert event.expected_yearly_km == 22000


async def test_without_a_stated_mileage_vehicle_delivered_has_none(
    api: httpx.AsyncClient,
    contract_body: Body,
    outbox: Any,
    full_checklist: dict[str, Any],
    record_pdi: RecordPdi,
) -> None:
    contract_id = (await sign(api, contract_body())).json()["contract_id"]
    await pay(api, contract_id, "200000.00")
    await record_pdi(api, contract_id)
    deliver = {"dealer_id": "D001", "checklist": full_checklist, "odometer_km": 5}
    assert (await api.post(f"/v1/contracts/{contract_id}/deliver", json=deliver)).status_code == 200
    event = (await outbox.events())[-1]
    assert isinstance(event, VehicleDelivered)
    assert event.expected_yearly_km is None
