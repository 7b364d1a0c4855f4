"""A customer's erasure in the running service-center: CustomerErasureRequested on the
leads topic -> the runtime's erasure consumer -> ``erase_customer``. The customer's
contact and the free text about their visits are gone at that store (rows and API), the
work, amounts and dates stay, other customers and the customer's repair orders at other
stores are untouched, and a repeat changes nothing."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from dealerflow.contracts.contact import ERASED_NAME, erased_contact
from dealerflow.contracts.enums import Locale
from dealerflow.contracts.events.leads import CustomerErasureRequested
from dealerflow.contracts.identity import customer_id_for
from dealerflow.devinfra.service_testing import (
    RunningService,
    eventually,
    produce_event,
    running_service,
)
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.erasure import Erasure
from dealerflow.service_center.app import DEFINITION
from dealerflow.service_center.settings import ServiceCenterSettings
from dealerflow.service_center.usecases_erasure import erase_customer

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Person:
    """A customer as the advisor takes them down, and what must not survive erasure."""

    name: str
    phone: str
    e164: str
    email: str
    wechat: str
    vin: str
    locale: str

    @property
    def customer_id(self) -> uuid.UUID:
        return customer_id_for("default", self.e164)

    @property
    def personal(self) -> tuple[str, ...]:
        return (self.name, self.e164.removeprefix("+86"), self.email, self.wechat)

    def customer(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "phone": self.phone,
            "email": self.email,
            "wechat_openid": self.wechat,
            "consent": {"service": True, "marketing": True},
            "locale": self.locale,
        }


WANG = Person(
    name="王芳",
    phone="138 0013 8000",
    e164="+8613800138000",
    email="wang.fang@example.com",
    wechat="o-wang-fang",
    vin="LSVAU2180N2183294",
    locale="en",
)
LI = Person(
    name="李雷",
    phone="139 0013 9000",
    e164="+8613900139000",
    email="li.lei@example.com",
    wechat="o-li-lei",
    vin="LFV2A21K6D4123456",
    locale="zh-CN",
)

QUOTE_LINES = [
    {"item_id": "L1", "kind": "labour", "description": "Replace front pads", "labour_hours": "1.5"},
    {
        "item_id": "P1",
        "kind": "part",
        "description": "Front pads",
        "part_number": "BP-100",
        "quantity": 2,
        "unit_price": "200.00",
    },
    {
        "item_id": "P2",
        "kind": "part",
        "description": "Wiper blades",
        "part_number": "WB-7",
        "unit_price": "80.00",
    },
]


async def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def record_visits(api: httpx.AsyncClient, dealer_id: str, person: Person) -> list[str]:
    """``person``'s repair orders at ``dealer_id`` through the API: a repair taken from
    check-in to handover (diagnosis, quote with a declined line, a failed and a passed
    quality check) with the customer's words and staff notes everywhere, and an open
    visit with the advisor's own concern code. Their ids."""
    repair = await _ok(
        await api.post(
            "/v1/repair-orders",
            json={
                "dealer_id": dealer_id,
                "customer": person.customer(),
                "vin": person.vin,
                "model": "Aurora X5",
                "advisor_id": "advisor-zhao",
                "mileage_km": 20000,
                "concerns": [f"{person.name} hears brake noise", "保养"],
                "walk_around_findings": [f"{person.name}'s child seat on the back row"],
            },
        ),
        201,
    )
    ro_id = repair["repair_order_id"]

    async def step(name: str, **fields: Any) -> dict[str, Any]:
        path = f"/v1/repair-orders/{ro_id}/{name}"
        return await _ok(await api.post(path, json={"dealer_id": dealer_id, **fields}))

    await step("diagnosis", technician_id="tech-sun", findings=[f"pads worn, {person.e164} told"])
    await step("quote", lines=QUOTE_LINES)
    await step("approve", approved_item_ids=["L1", "P1"], declined_item_ids=["P2"], method="wechat")
    work = {"technician_ids": ["tech-sun"], "labour_hours": "1.5"}
    await step("complete", **work, work_summary=f"pads replaced, called {person.name}")
    await step(
        "quality-check",
        inspector_id="qc-qian",
        passed=False,
        reasons=[f"squeal on test drive with {person.name}"],
    )
    await step("complete", **work, work_summary=f"pads bedded in, told {person.email}")
    await step("quality-check", inspector_id="qc-qian", passed=True)
    await step(
        "handover",
        amount_paid={"amount": "850.00", "currency": "CNY"},
        invoice_number=f"SV-{dealer_id}-{person.vin[-4:]}",
    )
    visit = await _ok(
        await api.post(
            "/v1/repair-orders",
            json={
                "dealer_id": dealer_id,
                "customer": person.customer(),
                "vin": person.vin,
                "advisor_id": "advisor-zhao",
                "mileage_km": 21000,
                "concerns": [f"{person.name}: rattle at the back"],
                "concern_codes": ["BODY-RATTLE"],
            },
        ),
        201,
    )
    await _ok(
        await api.post(
            "/v1/service-appointments",
            json={
                "dealer_id": dealer_id,
                "customer": person.customer(),
                "vin": person.vin,
                "work_type": "maintenance",
                "intake_channel": "online",
                "slot_start": "2025-03-05T01:30:00Z",
                "concerns": [f"{person.name} wants the 30000 km service"],
            },
        ),
        201,
    )
    return [ro_id, visit["repair_order_id"]]


async def rows_of(
    pool: asyncpg.Pool, dealer_id: str, customer_id: uuid.UUID
) -> dict[str, list[dict[str, Any]]]:
    """Every row service-center holds for the customer at the store, whole."""
    of_orders = (
        " JOIN repair_orders r ON r.dealer_id = t.dealer_id AND r.id = t.repair_order_id"
        " WHERE r.dealer_id = $1 AND r.customer_id = $2"
    )
    queries = {
        "repair_orders": "SELECT to_jsonb(t)::text AS row FROM repair_orders t"
        " WHERE dealer_id = $1 AND customer_id = $2 ORDER BY opened_at, id",
        "quality_checks": "SELECT to_jsonb(t)::text AS row FROM quality_checks t"
        f"{of_orders} ORDER BY t.repair_order_id, t.attempt",
        "declined_items": "SELECT to_jsonb(t)::text AS row FROM declined_items t"
        f"{of_orders} ORDER BY t.repair_order_id, t.item_id",
        "service_appointments": "SELECT to_jsonb(t)::text AS row FROM service_appointments t"
        " WHERE dealer_id = $1 AND customer_id = $2 ORDER BY booked_at, id",
    }
    return {
        table: [json.loads(r["row"]) for r in await pool.fetch(sql, dealer_id, customer_id)]
        for table, sql in queries.items()
    }


#: The columns an erasure changes (the diagnosis only in its findings).
ERASED_COLUMNS = {
    "repair_orders": {
        "contact",
        "concerns",
        "concern_codes",
        "walk_around_findings",
        "work_summary",
    },
    "quality_checks": {"reasons"},
    "declined_items": set(),
    "service_appointments": {"contact", "concerns"},
}


def without_erased(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    kept: dict[str, list[dict[str, Any]]] = {}
    for table, table_rows in rows.items():
        kept[table] = []
        for row in table_rows:
            kept_row = {k: v for k, v in row.items() if k not in ERASED_COLUMNS[table]}
            if kept_row.get("diagnosis"):
                kept_row["diagnosis"] = {
                    k: v for k, v in kept_row["diagnosis"].items() if k != "findings"
                }
            kept[table].append(kept_row)
    return kept


def assert_nothing_personal(text: str, person: Person) -> None:
    left = [value for value in person.personal if value in text]
    assert left == [], f"personal data left: {left}"


async def erase_through_kafka(
    center: RunningService, producer: AIOKafkaProducer, event_id: str
) -> None:
    """Publish the erasure of WANG at D001 and wait until service-center carried it out
    (its inbox row commits with the eraser's changes)."""
    at = datetime(2025, 3, 3, 3, 0, tzinfo=UTC)
    event = CustomerErasureRequested(
        dealer_id="D001",
        customer_id=WANG.customer_id,
        occurred_at=at,
        erasure_id="erasure-0001",
        basis="gdpr-art-17",
        requested_by="gm-wu",
        requested_at=at,
    )
    await produce_event(producer, center.topics, event, event_id=event_id)

    async def done() -> bool:
        return bool(
            await center.pool.fetchval(
                "SELECT true FROM inbox WHERE consumer = 'service-center.erasure'"
                " AND event_id = $1",
                event_id,
            )
        )

    await eventually(done, f"service-center carried out erasure event {event_id}")


async def test_erasure_anonymises_the_customers_repair_orders_and_keeps_the_work(
    center: RunningService, producer: AIOKafkaProducer
) -> None:
    api, pool = center.client, center.pool
    repaired_id, open_id = await record_visits(api, "D001", WANG)
    await record_visits(api, "D001", LI)
    await record_visits(api, "D002", WANG)
    before = await rows_of(pool, "D001", WANG.customer_id)
    li_before = await rows_of(pool, "D001", LI.customer_id)
    elsewhere_before = await rows_of(pool, "D002", WANG.customer_id)
    assert [len(before[t]) for t in ERASED_COLUMNS] == [2, 2, 1, 1]
    present = [v for v in WANG.personal if v in json.dumps(before, ensure_ascii=False)]
    assert present == list(WANG.personal), "the test's rows must hold all of it first"
    api_before = (
        await api.get(f"/v1/repair-orders/{repaired_id}", params={"dealer_id": "D001"})
    ).json()

    await erase_through_kafka(center, producer, "erasure-event-1")

    after = await rows_of(pool, "D001", WANG.customer_id)
    assert_nothing_personal(json.dumps(after, ensure_ascii=False), WANG)
    assert without_erased(after) == without_erased(before)
    by_id = {ro["id"]: ro for ro in after["repair_orders"]}
    repaired, visit = by_id[repaired_id], by_id[open_id]
    erased = erased_contact(Locale(WANG.locale)).model_dump(mode="json")
    assert repaired["contact"] == erased == visit["contact"]
    assert repaired["concerns"] == [ERASED_NAME, ERASED_NAME]
    assert repaired["concern_codes"] == [ERASED_NAME, ERASED_NAME]
    assert repaired["walk_around_findings"] == [ERASED_NAME]
    assert repaired["diagnosis"]["findings"] == [ERASED_NAME]
    assert repaired["work_summary"] == ERASED_NAME
    # The advisor's code stays; the open visit had no summary to erase.
    assert (visit["concern_codes"], visit["work_summary"]) == (["bodyrattle"], None)
    assert [c["reasons"] for c in after["quality_checks"]] == [[ERASED_NAME], []]
    [appointment] = after["service_appointments"]
    assert (appointment["contact"], appointment["concerns"]) == (erased, [ERASED_NAME])
    assert await rows_of(pool, "D001", LI.customer_id) == li_before
    assert await rows_of(pool, "D002", WANG.customer_id) == elsewhere_before

    # Through the API: 200, the contact erased, the work and the money as they were.
    response = await api.get(f"/v1/repair-orders/{repaired_id}", params={"dealer_id": "D001"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["contact"]["erased"] is True
    assert body["contact"]["name"] == ERASED_NAME
    assert (body["contact"]["phone"], body["contact"]["email"]) == (None, None)
    assert body["contact"]["locale"] == "en"
    for kept in (
        "customer_id",
        "vin",
        "status",
        "work_type",
        "mileage_km",
        "quote",
        "approved_item_ids",
        "approved_total",
        "completed_item_ids",
        "technician_ids",
        "labour_hours",
        "amount_paid",
        "declined_items",
        "handed_over_at",
        "next_maintenance_due_on",
    ):
        assert body[kept] == api_before[kept], kept
    assert [c["passed"] for c in body["quality_checks"]] == [False, True]
    assert_nothing_personal(response.text, WANG)
    opened = await api.get(f"/v1/repair-orders/{open_id}", params={"dealer_id": "D001"})
    assert opened.status_code == 200, opened.text
    assert_nothing_personal(opened.text, WANG)
    listed = await api.get(
        "/v1/repair-orders", params={"dealer_id": "D001", "customer_id": str(WANG.customer_id)}
    )
    assert listed.status_code == 200, listed.text
    assert len(listed.json()["items"]) == 2
    li = await api.get(
        "/v1/repair-orders", params={"dealer_id": "D001", "customer_id": str(LI.customer_id)}
    )
    [li_order, _] = li.json()["items"]
    li_detail = await api.get(
        f"/v1/repair-orders/{li_order['repair_order_id']}", params={"dealer_id": "D001"}
    )
    assert li_detail.json()["contact"]["name"] == LI.name

    # The event again: nothing more changes.
    await erase_through_kafka(center, producer, "erasure-event-2")
    assert await rows_of(pool, "D001", WANG.customer_id) == after
    assert await rows_of(pool, "D001", LI.customer_id) == li_before
    assert await rows_of(pool, "D002", WANG.customer_id) == elsewhere_before

    # The open visit goes on after the erasure.
    diagnosed = await api.post(
        f"/v1/repair-orders/{open_id}/diagnosis",
        json={"dealer_id": "D001", "technician_id": "tech-sun", "findings": ["loose trim"]},
    )
    assert diagnosed.status_code == 200, diagnosed.text


async def test_erase_customer_counts_each_changed_row_once(
    center_settings: ServiceCenterSettings, clock: ManualClock
) -> None:
    async with running_service(
        DEFINITION, center_settings, clock=clock, run_background=False
    ) as center:
        await record_visits(center.client, "D001", WANG)
        await record_visits(center.client, "D001", LI)
        erasure = Erasure(
            erasure_id="erasure-0001",
            dealer_id="D001",
            customer_id=WANG.customer_id,
            requested_at=clock.now(),
        )

        async def erase() -> dict[str, int]:
            return await center.ctx.run_in_transaction(
                lambda uc: erase_customer(uc, erasure), dealers=["D001"]
            )

        # Both repair orders; of the two quality checks only the failed one has reasons.
        assert await erase() == {
            "repair_orders": 2,
            "quality_checks": 1,
            "service_appointments": 1,
            "owned_vehicles": 0,
        }
        assert await erase() == {
            "repair_orders": 0,
            "quality_checks": 0,
            "service_appointments": 0,
            "owned_vehicles": 0,
        }
