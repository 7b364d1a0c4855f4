"""A customer's erasure in the running sales service: CustomerErasureRequested on the
leads topic -> the runtime's erasure consumer -> ``erase_customer``. What the customer
typed or staff wrote about them is gone at that store (rows and API), the business
records stay, other customers and the customer's records at other stores are untouched,
and a repeat changes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
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
    kafka_producer,
    produce_event,
    running_service,
)
from dealerflow.runtime.clock import ManualClock
from dealerflow.runtime.erasure import Erasure
from dealerflow.sales.app import DEFINITION
from dealerflow.sales.settings import SalesSettings
from dealerflow.sales.usecases_erasure import erase_customer

pytestmark = pytest.mark.integration

VIN = "LSVAU2180N2183294"


@dataclass(frozen=True)
class Person:
    """A customer as staff type them in, and what must not survive their erasure."""

    name: str
    phone: str
    e164: str
    email: str
    wechat: str
    address: str
    new_address: str
    id_number: str
    locale: str

    @property
    def customer_id(self) -> uuid.UUID:
        return customer_id_for("default", self.e164)

    @property
    def personal(self) -> tuple[str, ...]:
        """Every piece of their personal data the test stores, as it would be found."""
        return (
            self.name,
            self.e164.removeprefix("+86"),
            self.email,
            self.wechat,
            self.address,
            self.new_address,
            self.id_number,
        )

    def customer(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "phone": self.phone,
            "email": self.email,
            "wechat_openid": self.wechat,
            "preferred_channel": "wechat",
            "consent": {"service": True, "marketing": True},
            "locale": self.locale,
        }


WANG = Person(
    name="王芳",
    phone="138 0013 8000",
    e164="+8613800138000",
    email="wang.fang@example.com",
    wechat="o-wang-fang",
    address="上海市浦东新区世纪大道 100 号",
    new_address="上海市徐汇区漕溪北路 88 号",
    id_number="310101199001011234",
    locale="en",
)
LI = Person(
    name="李雷",
    phone="139 0013 9000",
    e164="+8613900139000",
    email="li.lei@example.com",
    wechat="o-li-lei",
    address="北京市朝阳区建国路 8 号",
    new_address="北京市海淀区中关村大街 1 号",
    id_number="110101198502023450",
    locale="zh-CN",
)


@dataclass(frozen=True)
class SalesFile:
    """What one customer has at one store: a quote, a contract amended, invoiced and
    scheduled for delivery, a cancelled (refunded) contract and a test drive."""

    quote_id: str
    contract_id: str
    cancelled_id: str
    test_drive_id: str


async def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def record_sales(
    api: httpx.AsyncClient, dealer_id: str, person: Person, *, seq: int
) -> SalesFile:
    """Create ``person``'s records at ``dealer_id`` through the API (``seq`` keeps invoice
    numbers and test-drive vehicles apart)."""
    quote = await _ok(
        await api.post(
            "/v1/quotes",
            json={
                "dealer_id": dealer_id,
                "customer_phone": person.phone,
                "vehicle": {"model": "Aurora X5", "configuration": "Luxury", "colour": "white"},
                "vehicle_price": "200000.00",
            },
        ),
        201,
    )
    beyond = await _ok(
        await api.post(
            "/v1/quotes",
            json={
                "dealer_id": dealer_id,
                "customer_phone": person.phone,
                "vehicle": {"model": "Aurora X5"},
                "vehicle_price": "200000.00",
                "discount": "20000.00",
            },
        ),
        201,
    )
    await _ok(
        await api.post(
            f"/v1/quotes/{beyond['quote_id']}/approval",
            json={
                "dealer_id": dealer_id,
                "decision": "approve",
                "note": f"{person.name} of {person.address} buys a second car",
            },
        )
    )

    def contract(vin: str | None) -> dict[str, Any]:
        return {
            "dealer_id": dealer_id,
            "customer": person.customer()
            | {"address": person.address, "id_document_verified": True},
            "consultant_id": "consultant-li",
            "vehicle": {"model": "Aurora X5", "configuration": "Luxury", "colour": "white"}
            | ({"vin": vin} if vin else {}),
            "price": {"amount": "200000.00", "currency": "CNY"},
            "payment": {"method": "full_payment"},
            "planned_delivery_on": "2025-03-20",
        }

    def payment(amount: str) -> dict[str, Any]:
        return {
            "dealer_id": dealer_id,
            "kind": "deposit",
            "method": "bank_transfer",
            "amount": {"amount": amount, "currency": "CNY"},
        }

    signed = await _ok(await api.post("/v1/contracts", json=contract(VIN)), 201)
    path = f"/v1/contracts/{signed['contract_id']}"
    await _ok(await api.post(f"{path}/payments", json=payment("50000.00")), 201)
    await _ok(
        await api.post(
            f"{path}/amend",
            json={
                "dealer_id": dealer_id,
                "address": person.new_address,
                "reason": f"{person.name} moved to {person.new_address}",
                "customer_agreed": True,
                "dealer_agreed": True,
            },
        )
    )
    await _ok(
        await api.post(
            f"{path}/invoice",
            json={
                "dealer_id": dealer_id,
                "invoice_number": f"INV-{seq:04d}",
                "invoice_title": person.name,
                "tax_number": person.id_number,
            },
        )
    )
    await _ok(
        await api.post(
            f"{path}/deliveries/schedule",
            json={
                "dealer_id": dealer_id,
                "scheduled_for": "2025-03-20T02:00:00Z",
                "location": f"at home: {person.new_address}",
            },
        )
    )

    cancelled = await _ok(await api.post("/v1/contracts", json=contract(None)), 201)
    path = f"/v1/contracts/{cancelled['contract_id']}"
    await _ok(await api.post(f"{path}/payments", json=payment("20000.00")), 201)
    await _ok(
        await api.post(
            f"{path}/cancel",
            json={
                "dealer_id": dealer_id,
                "reason": f"{person.name} changed her mind, call {person.e164}",
                "cancelled_by": "dealer",
            },
        )
    )

    drive = await _ok(
        await api.post(
            "/v1/test-drives",
            json={
                "dealer_id": dealer_id,
                "customer": person.customer(),
                "vehicle_id": f"TD-{seq:02d}",
                "model": "Aurora X5",
                "consultant_id": "consultant-li",
                "starts_at": "2025-03-04T02:00:00Z",
                "ends_at": "2025-03-04T03:00:00Z",
                "route": f"pick up at {person.address}",
                "licence": {"number": person.id_number, "expires_on": "2030-01-01"},
            },
        ),
        201,
    )
    await _ok(
        await api.post(
            "/v1/visits",
            json={
                "dealer_id": dealer_id,
                "customer": person.customer(),
                "consultant_id": "consultant-li",
                "arrived_at": "2025-03-03T01:00:00Z",
                "party_size": 2,
                "needs": {"use": "family", "body_type": "suv"},
            },
        ),
        201,
    )
    steps = f"/v1/test-drives/{drive['test_drive_id']}"
    consent = {"signed_by": person.name, "signed_at": "2025-03-03T02:00:00Z", "text_version": "v1"}
    start = {"licence": {"number": person.id_number, "expires_on": "2030-01-01"}}
    await _ok(
        await api.post(f"{steps}/start", json={"dealer_id": dealer_id, **start, "consent": consent})
    )
    feedback = {"ratings": {"overall": 5}, "notes": f"{person.name} will call {person.e164}"}
    await _ok(await api.post(f"{steps}/complete", json={"dealer_id": dealer_id, **feedback}))
    return SalesFile(
        quote_id=quote["quote_id"],
        contract_id=signed["contract_id"],
        cancelled_id=cancelled["contract_id"],
        test_drive_id=drive["test_drive_id"],
    )


# Each table of sales with a customer's rows: how they are found and kept in order.
_OWN_ROWS = {"quotes": "id", "contracts": "id", "test_drives": "id", "showroom_visits": "id"}
_CONTRACT_ROWS = {
    "contract_versions": "t.contract_id, t.version",
    "payments": "t.id",
    "invoices": "t.id",
    "deliveries": "t.id",
}
_QUOTE_ROWS = {"quote_approvals": "t.quote_id"}


async def rows_of(
    pool: asyncpg.Pool, dealer_id: str, customer_id: uuid.UUID
) -> dict[str, list[dict[str, Any]]]:
    """Every row sales holds for the customer at the store, whole, table by table."""
    found: dict[str, list[dict[str, Any]]] = {}
    for table, order in _OWN_ROWS.items():
        rows = await pool.fetch(
            f"SELECT to_jsonb(t)::text AS row FROM {table} t"
            f" WHERE dealer_id = $1 AND customer_id = $2 ORDER BY {order}",
            dealer_id,
            customer_id,
        )
        found[table] = [json.loads(r["row"]) for r in rows]
    for table, order in _CONTRACT_ROWS.items():
        rows = await pool.fetch(
            f"SELECT to_jsonb(t)::text AS row FROM {table} t"
            " JOIN contracts c ON c.dealer_id = t.dealer_id AND c.id = t.contract_id"
            f" WHERE c.dealer_id = $1 AND c.customer_id = $2 ORDER BY {order}",
            dealer_id,
            customer_id,
        )
        found[table] = [json.loads(r["row"]) for r in rows]
    for table, order in _QUOTE_ROWS.items():
        rows = await pool.fetch(
            f"SELECT to_jsonb(t)::text AS row FROM {table} t"
            " JOIN quotes q ON q.dealer_id = t.dealer_id AND q.id = t.quote_id"
            f" WHERE q.dealer_id = $1 AND q.customer_id = $2 ORDER BY {order}",
            dealer_id,
            customer_id,
        )
        found[table] = [json.loads(r["row"]) for r in rows]
    return found


#: The columns an erasure changes, per table (everything else is kept as it was).
ERASED_COLUMNS = {
    "quotes": set(),
    "contracts": {"contact", "address", "cancel_reason"},
    "contract_versions": {"reason", "terms"},
    "payments": {"reason"},
    "invoices": {"invoice_title", "tax_number"},
    "deliveries": {"location"},
    "test_drives": {"contact", "licence_number", "route", "consent_signed_by", "feedback_notes"},
    "quote_approvals": {"note"},
    "showroom_visits": {"contact"},
}


def without_erased(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The rows without the columns an erasure changes (a version's terms without the
    reason)."""
    kept: dict[str, list[dict[str, Any]]] = {}
    for table, table_rows in rows.items():
        kept[table] = []
        for row in table_rows:
            kept_row = {k: v for k, v in row.items() if k not in ERASED_COLUMNS[table]}
            if table == "contract_versions":
                kept_row["terms"] = {k: v for k, v in row["terms"].items() if k != "reason"}
            kept[table].append(kept_row)
    return kept


def erased_contact_json(locale: str) -> dict[str, Any]:
    return erased_contact(Locale(locale)).model_dump(mode="json")


def assert_nothing_personal(text: str, person: Person) -> None:
    left = [value for value in person.personal if value in text]
    assert left == [], f"personal data left: {left}"


@pytest.fixture
async def sales(sales_settings: SalesSettings, clock: ManualClock) -> AsyncIterator[RunningService]:
    """The whole service: the erasure consumer and the relay run."""
    async with running_service(DEFINITION, sales_settings, clock=clock) as service:
        yield service


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    async with kafka_producer(kafka_bootstrap) as started:
        yield started


def erasure_requested(person: Person, dealer_id: str) -> CustomerErasureRequested:
    at = datetime(2025, 3, 3, 3, 0, tzinfo=UTC)
    return CustomerErasureRequested(
        dealer_id=dealer_id,
        customer_id=person.customer_id,
        occurred_at=at,
        erasure_id="erasure-0001",
        basis="pipl-art-47",
        requested_by="gm-wu",
        requested_at=at,
    )


async def erase_through_kafka(
    sales: RunningService, producer: AIOKafkaProducer, event_id: str
) -> None:
    """Publish the erasure of WANG at D001 and wait until sales carried it out (its inbox
    row commits with the eraser's changes)."""
    await produce_event(producer, sales.topics, erasure_requested(WANG, "D001"), event_id=event_id)

    async def done() -> bool:
        return bool(
            await sales.pool.fetchval(
                "SELECT true FROM inbox WHERE consumer = 'sales.erasure' AND event_id = $1",
                event_id,
            )
        )

    await eventually(done, f"sales carried out erasure event {event_id}")


async def test_erasure_anonymises_the_customer_at_the_store_and_keeps_the_business(
    sales: RunningService, producer: AIOKafkaProducer
) -> None:
    api, pool = sales.client, sales.pool
    wang = await record_sales(api, "D001", WANG, seq=1)
    await record_sales(api, "D001", LI, seq=2)
    await record_sales(api, "D002", WANG, seq=3)
    before = await rows_of(pool, "D001", WANG.customer_id)
    li_before = await rows_of(pool, "D001", LI.customer_id)
    elsewhere_before = await rows_of(pool, "D002", WANG.customer_id)
    assert all(before[table] for table in ERASED_COLUMNS), before
    api_before = (
        await api.get(f"/v1/contracts/{wang.contract_id}", params={"dealer_id": "D001"})
    ).json()

    await erase_through_kafka(sales, producer, "erasure-event-1")

    after = await rows_of(pool, "D001", WANG.customer_id)
    # Nothing of the person is left in any of their rows at D001.
    assert_nothing_personal(json.dumps(after, ensure_ascii=False), WANG)
    # Every other column is as it was: ids, statuses, versions, amounts, dates, VINs.
    assert without_erased(after) == without_erased(before)
    # What the erased columns hold now.
    erased = erased_contact_json(WANG.locale)
    assert [c["contact"] for c in after["contracts"]] == [erased, erased]
    assert {c["address"] for c in after["contracts"]} == {ERASED_NAME}
    assert sorted(str(c["cancel_reason"]) for c in after["contracts"]) == [ERASED_NAME, "None"]
    # Version 1 has no reason; the amendment and the cancellation had one.
    for version in after["contract_versions"]:
        assert version["terms"].get("reason", ERASED_NAME) == ERASED_NAME
        assert (version["reason"] is None) == (version["version"] == 1)
    assert [p["reason"] for p in after["payments"] if p["kind"] == "refund"] == [ERASED_NAME]
    assert [(i["invoice_title"], i["tax_number"]) for i in after["invoices"]] == [
        (ERASED_NAME, None)
    ]
    assert [d["location"] for d in after["deliveries"]] == [None]
    [drive] = after["test_drives"]
    assert (drive["contact"], drive["licence_number"], drive["route"]) == (
        erased,
        ERASED_NAME,
        None,
    )
    assert drive["licence_expires"] == "2030-01-01"
    [visit] = after["showroom_visits"]
    assert visit["contact"] == erased
    assert visit["needs"]["body_type"] == "suv"
    assert (drive["consent_signed_by"], drive["feedback_notes"]) == (ERASED_NAME, None)
    assert (drive["consent_version"], drive["rating_overall"]) == ("v1", 5)
    assert after["quotes"] == before["quotes"]
    assert [a["note"] for a in after["quote_approvals"]] == [ERASED_NAME]
    # The other customer at D001, and this customer at D002, are untouched.
    assert await rows_of(pool, "D001", LI.customer_id) == li_before
    assert await rows_of(pool, "D002", WANG.customer_id) == elsewhere_before

    # Read back through the API: 200 everywhere, the contact erased, nothing personal.
    contract = await api.get(f"/v1/contracts/{wang.contract_id}", params={"dealer_id": "D001"})
    assert contract.status_code == 200, contract.text
    body = contract.json()
    assert body["contact"]["erased"] is True
    assert body["contact"]["name"] == ERASED_NAME
    assert (body["contact"]["phone"], body["contact"]["email"]) == (None, None)
    assert body["contact"]["locale"] == "en"
    assert body["address"] == ERASED_NAME
    assert body["invoice"]["invoice_title"] == ERASED_NAME
    assert body["invoice"]["tax_number"] is None
    assert body["delivery"]["location"] is None
    for kept in ("customer_id", "version", "status", "vehicle", "price", "ledger", "payments"):
        assert body[kept] == api_before[kept], kept
    assert body["invoice"]["invoice_number"] == api_before["invoice"]["invoice_number"]
    assert body["delivery"]["scheduled_for"] == api_before["delivery"]["scheduled_for"]
    assert_nothing_personal(contract.text, WANG)
    cancelled = await api.get(f"/v1/contracts/{wang.cancelled_id}", params={"dealer_id": "D001"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert_nothing_personal(cancelled.text, WANG)
    listed = await api.get(
        "/v1/contracts", params={"dealer_id": "D001", "customer_id": str(WANG.customer_id)}
    )
    assert listed.status_code == 200, listed.text
    assert len(listed.json()["items"]) == 2
    assert_nothing_personal(listed.text, WANG)
    drive_out = await api.get(f"/v1/test-drives/{wang.test_drive_id}", params={"dealer_id": "D001"})
    assert drive_out.status_code == 200, drive_out.text
    assert drive_out.json()["licence_number_masked"] == ERASED_NAME
    assert drive_out.json()["route"] is None
    assert_nothing_personal(drive_out.text, WANG)
    quote = await api.get(f"/v1/quotes/{wang.quote_id}", params={"dealer_id": "D001"})
    assert quote.status_code == 200, quote.text
    li_listed = await api.get(
        "/v1/contracts", params={"dealer_id": "D001", "customer_id": str(LI.customer_id)}
    )
    assert {c["contact"]["name"] for c in li_listed.json()["items"]} == {LI.name}

    # The event again (a second request, a replayed dead letter): nothing more changes.
    await erase_through_kafka(sales, producer, "erasure-event-2")
    assert await rows_of(pool, "D001", WANG.customer_id) == after
    assert await rows_of(pool, "D001", LI.customer_id) == li_before
    assert await rows_of(pool, "D002", WANG.customer_id) == elsewhere_before

    # The contract goes on without the buyer's data; only an amendment needs it (422).
    path = f"/v1/contracts/{wang.contract_id}"
    amended = await api.post(
        f"{path}/amend",
        json={
            "dealer_id": "D001",
            "planned_delivery_on": "2025-03-21",
            "customer_agreed": True,
            "dealer_agreed": True,
        },
    )
    assert amended.status_code == 422, amended.text
    paid = await api.post(
        f"{path}/payments",
        json={
            "dealer_id": "D001",
            "kind": "balance",
            "method": "bank_transfer",
            "amount": {"amount": "150000.00", "currency": "CNY"},
        },
    )
    assert paid.status_code == 201, paid.text
    assert paid.json()["contact"]["erased"] is True


async def test_erase_customer_counts_each_changed_row_once(
    sales_settings: SalesSettings, clock: ManualClock
) -> None:
    async with running_service(
        DEFINITION, sales_settings, clock=clock, run_background=False
    ) as sales:
        await record_sales(sales.client, "D001", WANG, seq=1)
        await record_sales(sales.client, "D001", LI, seq=2)
        erasure = Erasure(
            erasure_id="erasure-0001",
            dealer_id="D001",
            customer_id=WANG.customer_id,
            requested_at=clock.now(),
        )

        async def erase() -> dict[str, int]:
            return await sales.ctx.run_in_transaction(
                lambda uc: erase_customer(uc, erasure), dealers=["D001"]
            )

        # Two contracts; the amendment and the cancellation carry a reason (version 1
        # none); the refund carries the reason; one invoice, one delivery, one drive, one
        # manager's note on a quote's discount.
        assert await erase() == {
            "contracts": 2,
            "contract_versions": 2,
            "payments": 1,
            "invoices": 1,
            "deliveries": 1,
            "test_drives": 1,
            "quote_approvals": 1,
            "showroom_visits": 1,
        }
        assert set((await erase()).values()) == {0}
        # New personal data typed after the erasure is erased by the next one.
        contract_id = (await rows_of(sales.pool, "D001", WANG.customer_id))["contracts"][0]["id"]
        await sales.pool.execute(
            "UPDATE contracts SET address = $2 WHERE dealer_id = 'D001' AND id = $1",
            uuid.UUID(contract_id),
            WANG.address,
        )
        assert (await erase())["contracts"] == 1
