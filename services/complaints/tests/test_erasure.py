"""Erasing a customer at one store (CustomerErasureRequested on the leads topic): the
customer's complaints, their history, the contact directory and parked triggers are
anonymised there, and nothing else changes - real Kafka and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.complaints.domain_erasure import ERASED_TEXT
from dealerflow.complaints.usecases_erasure import erase_customer
from dealerflow.contracts.care_enums import TaskOutcome
from dealerflow.contracts.contact import ContactSnapshot, erased_contact
from dealerflow.contracts.enums import Locale
from dealerflow.contracts.events.leads import CustomerErasureRequested
from dealerflow.contracts.events.notifier import TaskCompleted
from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.events.service import RepairOrderOpened
from dealerflow.contracts.examples import example_for
from dealerflow.runtime.db import transaction
from dealerflow.runtime.erasure import Erasure

pytestmark = pytest.mark.integration

DEALER = "sh-pudong-01"
OTHER_DEALER = "sh-minhang-02"
NAME, PHONE, EMAIL = "王小明", "+8613912345678", "wang.xiaoming@example.com"
#: what of the customer must be found nowhere at the store afterwards
TRACES = (NAME, PHONE, PHONE.removeprefix("+86"), EMAIL)
REQUESTED_AT = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
ERASED = erased_contact(Locale.EN).model_dump(mode="json")

#: the service's tables that hold rows of a dealer (grepped whole, as text)
TABLES = (
    "complaints",
    "complaint_history",
    "complaint_clocks",
    "complaint_pauses",
    "customer_contacts",
    "awaiting_contact",
    "idempotency_keys",
    "timers",
    "complaint_confirmations",
    "repair_visits",
    "customer_sales",
)


def contact_of(name: str, phone: str, email: str) -> ContactSnapshot:
    return example_for(VehicleDelivered).contact.model_copy(
        update={"name": name, "phone": phone, "email": email, "locale": Locale.EN}
    )


def delivered(dealer_id: str, customer: uuid.UUID, contact: ContactSnapshot, **update: Any) -> Any:
    return example_for(VehicleDelivered).model_copy(
        update={"dealer_id": dealer_id, "customer_id": customer, "contact": contact, **update}
    )


def dissatisfied(dealer_id: str, customer: uuid.UUID, task_id: str, note: str) -> TaskCompleted:
    return example_for(TaskCompleted).model_copy(
        update={
            "dealer_id": dealer_id,
            "customer_id": customer,
            "task_id": task_id,
            "outcome": TaskOutcome.DISSATISFIED,
            "note": note,
        }
    )


def repair_opened(
    dealer_id: str, customer: uuid.UUID, contact: ContactSnapshot, ro: str, concern: str
) -> Any:
    return example_for(RepairOrderOpened).model_copy(
        update={
            "dealer_id": dealer_id,
            "customer_id": customer,
            "repair_order_id": ro,
            "vin": f"LSVAU2180N218{abs(hash(ro)) % 10000:04d}",
            "concerns": [concern],
            "concern_codes": ["BRK-NOISE"],
            "contact": contact,
        }
    )


def erasure_of(customer: uuid.UUID, dealer_id: str = DEALER) -> CustomerErasureRequested:
    return example_for(CustomerErasureRequested).model_copy(
        update={
            "dealer_id": dealer_id,
            "customer_id": customer,
            "requested_at": REQUESTED_AT,
            "occurred_at": REQUESTED_AT,
        }
    )


async def erased_by_event(harness: Any, customer: uuid.UUID, event_id: str) -> None:
    """Produce the erasure of ``customer`` at DEALER and wait until its consumer took it
    (the reactions consumer reads the leads topic too, and ignores it)."""
    await harness.produce(erasure_of(customer), event_id=event_id)

    async def done() -> bool:
        return bool(
            await harness.db(
                "SELECT 1 FROM inbox WHERE consumer = 'complaints.erasure' AND event_id = $1",
                event_id,
            )
        )

    await harness.eventually(done, what=f"erasure {event_id} carried out")


async def rows_of(harness: Any, dealer_id: str, customer: uuid.UUID) -> dict[str, list[Any]]:
    """Every row about the customer at the dealer, per table, as JSON."""
    queries = {
        "complaints": "SELECT row_to_json(t)::jsonb AS r FROM complaints t "
        "WHERE dealer_id = $1 AND customer_id = $2 ORDER BY opened_at, id",
        "complaint_history": "SELECT row_to_json(h)::jsonb AS r FROM complaint_history h "
        "JOIN complaints c ON c.id = h.complaint_id "
        "WHERE h.dealer_id = $1 AND c.customer_id = $2 ORDER BY h.id",
        "complaint_clocks": "SELECT row_to_json(k)::jsonb AS r FROM complaint_clocks k "
        "JOIN complaints c ON c.id = k.complaint_id "
        "WHERE k.dealer_id = $1 AND c.customer_id = $2 ORDER BY k.complaint_id, k.kind",
        "complaint_pauses": "SELECT row_to_json(p)::jsonb AS r FROM complaint_pauses p "
        "JOIN complaints c ON c.id = p.complaint_id "
        "WHERE p.dealer_id = $1 AND c.customer_id = $2 ORDER BY p.id",
        "customer_contacts": "SELECT row_to_json(t)::jsonb AS r FROM customer_contacts t "
        "WHERE dealer_id = $1 AND customer_id = $2",
        "awaiting_contact": "SELECT row_to_json(t)::jsonb AS r FROM awaiting_contact t "
        "WHERE dealer_id = $1 AND customer_id = $2 ORDER BY trigger_ref",
        "complaint_confirmations": "SELECT row_to_json(k)::jsonb AS r "
        "FROM complaint_confirmations k JOIN complaints c ON c.id = k.complaint_id "
        "WHERE k.dealer_id = $1 AND c.customer_id = $2 ORDER BY k.id",
        "repair_visits": "SELECT row_to_json(t)::jsonb AS r FROM repair_visits t "
        "WHERE dealer_id = $1 AND customer_id = $2 ORDER BY repair_order_id",
        "customer_sales": "SELECT row_to_json(t)::jsonb AS r FROM customer_sales t "
        "WHERE dealer_id = $1 AND customer_id = $2 ORDER BY contract_id",
    }
    found = {}
    for table, query in queries.items():
        found[table] = [json.loads(r["r"]) for r in await harness.db(query, dealer_id, customer)]
    return found


async def store_text(harness: Any, dealer_id: str) -> str:
    """Every row the dealer has in the service's tables, as one text."""
    parts = []
    for table in TABLES:
        rows = await harness.db(
            f"SELECT row_to_json(t)::text AS r FROM {table} t WHERE dealer_id = $1", dealer_id
        )
        parts.extend(r["r"] for r in rows)
    return "\n".join(parts)


def no_trace(text: str) -> list[str]:
    return [trace for trace in TRACES if trace in text]


async def post(harness: Any, path: str, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key else None
    response = await harness.client.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def test_erasure_anonymises_the_customer_at_that_store_and_nothing_else(
    harness: Any,
) -> None:
    x, y = uuid.uuid4(), uuid.uuid4()
    x_contact = contact_of(NAME, PHONE, EMAIL)
    y_contact = contact_of("李四", "+8613800000001", "li.si@example.com")
    contact_in = {"name": NAME, "phone": PHONE, "email": EMAIL, "locale": "en"}

    # X at the store: the contact directory, a complaint staff recorded and worked on
    # (every free-text field), and one a dissatisfied callback opened
    await harness.produce(delivered(DEALER, x, x_contact))
    await harness.produce(delivered(DEALER, y, y_contact))
    await harness.produce(delivered(OTHER_DEALER, x, x_contact))
    for dealer_id, customer in ((DEALER, x), (DEALER, y), (OTHER_DEALER, x)):
        await harness.contact_known(dealer_id, customer)
    # their repair orders (the concerns as the customer told them) and X's sale
    await harness.produce(repair_opened(DEALER, x, x_contact, "ro-x", f"{NAME} hears the brakes"))
    await harness.produce(repair_opened(DEALER, y, y_contact, "ro-y", "Y hears the brakes"))
    await harness.produce(repair_opened(OTHER_DEALER, x, x_contact, "ro-x2", f"{NAME} again"))
    opening = harness.complaint_body(
        customer_id=str(x),
        contact=contact_in,
        summary=f"{NAME} says the brakes squeal",
        details=f"Call {NAME} on {PHONE} or write to {EMAIL}",
    )
    manual = await post(harness, "/v1/complaints", opening, key="erase-x-open")
    cid = manual["id"]
    actions: list[tuple[str, dict[str, Any]]] = [
        ("pause", {"reason": f"{NAME} is abroad"}),
        ("resume", {}),
        ("acknowledge", {"channel": "phone"}),
        ("inform", {"note": f"Told {NAME} on {PHONE}"}),
        (
            "resolve",
            {
                "responsibility": "dealer",
                "cause": f"{NAME}'s pads were worn",
                "measures": ["Replaced the pads", f"Refunded {NAME}"],
                "resolution": f"Told {NAME} at {EMAIL}",
            },
        ),
        ("confirmation", {"confirmed": False, "note": f"{NAME} is not convinced"}),
        ("reopen", {"reason": f"{NAME} still hears it"}),
        ("pause", {"reason": f"{NAME} in hospital"}),
    ]
    for action, body in actions:
        await post(harness, f"/v1/complaints/{cid}/{action}", {"dealer_id": DEALER, **body})
    await harness.produce(dissatisfied(DEALER, x, "task-x", f"{NAME} was unhappy"))
    # Y at the store and X at another store: each with a complaint
    y_manual = await post(
        harness,
        "/v1/complaints",
        harness.complaint_body(customer_id=str(y), details="Y's details"),
        key="erase-y-open",
    )
    await post(
        harness,
        "/v1/complaints",
        harness.complaint_body(
            dealer_id=OTHER_DEALER, customer_id=str(x), contact=contact_in, details=NAME
        ),
        key="erase-x-other",
    )

    async def automatic() -> bool:
        found = await rows_of(harness, DEALER, x)
        y_found = await rows_of(harness, DEALER, y)
        return len(found["complaints"]) == 2 and bool(
            found["repair_visits"] and y_found["repair_visits"]
        )

    await harness.eventually(automatic, what="the automatic complaint of X")
    before = await rows_of(harness, DEALER, x)
    y_before = await rows_of(harness, DEALER, y)
    other_before = await rows_of(harness, OTHER_DEALER, x)
    assert no_trace(json.dumps(before, ensure_ascii=False)) == list(TRACES)  # there to erase

    await erased_by_event(harness, x, "erasure-1")

    after = await rows_of(harness, DEALER, x)
    # the complaints: contact and text gone, the business record kept
    erased_columns = {"contact", "summary", "details", "pause_reason", "resolution"}
    erased_columns |= {"request_hash", "updated_at"}
    assert len(after["complaints"]) == 2
    for old, new in zip(before["complaints"], after["complaints"], strict=True):
        assert new["contact"] == ERASED
        assert new["summary"] == ERASED_TEXT
        assert new["details"] == ERASED_TEXT
        kept = {k: v for k, v in old.items() if k not in erased_columns}
        assert {k: v for k, v in new.items() if k not in erased_columns} == kept
    worked = next(c for c in after["complaints"] if c["id"] == cid)
    assert (worked["status"], worked["reopen_count"]) == ("reopened", 1)
    assert worked["pause_reason"] == ERASED_TEXT
    assert worked["resolution"] == {
        "responsibility": "dealer",
        "responsible_department": None,
        "responsible_staff_id": None,
        "cause": ERASED_TEXT,
        "measures": [ERASED_TEXT, ERASED_TEXT],
        "resolution": ERASED_TEXT,
        "handler_id": manual["handler_id"],
    }
    # the history: every entry kept (action, actor, time), its text erased
    assert [(h["action"], h["actor"], h["at"]) for h in after["complaint_history"]] == [
        (h["action"], h["actor"], h["at"]) for h in before["complaint_history"]
    ]
    notes = {h["action"]: h["details"] for h in after["complaint_history"]}
    assert notes["customer_informed"]["note"] == ERASED_TEXT
    assert notes["customer_confirmation"] == {
        "confirmed": False,
        "channel": None,
        "note": ERASED_TEXT,
    }
    [confirmation] = after["complaint_confirmations"]
    assert (confirmation["confirmed"], confirmation["note"]) == (False, ERASED_TEXT)
    # the repair orders keep vehicle, advisor and dates; their concerns go
    [visit] = after["repair_visits"]
    [visit_before] = before["repair_visits"]
    assert visit["concerns"] == []
    assert {k: v for k, v in visit.items() if k != "concerns"} == {
        k: v for k, v in visit_before.items() if k != "concerns"
    }
    assert notes["reopened"]["reason"] == ERASED_TEXT
    assert notes["acknowledged"] == {"channel": "phone"}
    assert after["complaint_clocks"] == before["complaint_clocks"]
    # the pauses: who, when and which clocks kept, the reason erased
    assert [p["reason"] for p in after["complaint_pauses"]] == [ERASED_TEXT, ERASED_TEXT]
    assert [{**p, "reason": None} for p in after["complaint_pauses"]] == [
        {**p, "reason": None} for p in before["complaint_pauses"]
    ]
    # the directory keeps an erased entry, observed at the request at the earliest
    [entry] = after["customer_contacts"]
    assert entry["contact"] == ERASED
    assert datetime.fromisoformat(entry["observed_at"]) >= REQUESTED_AT

    # nothing of the person is left at the store, in any table, nor in what staff read
    assert no_trace(await store_text(harness, DEALER)) == []
    detail = await harness.client.get(f"/v1/complaints/{cid}", params={"dealer_id": DEALER})
    assert detail.status_code == 200, detail.text
    assert detail.json()["contact"]["erased"] is True
    assert detail.json()["contact"]["phone"] is None
    history_of_cid = [h for h in before["complaint_history"] if h["complaint_id"] == cid]
    assert len(detail.json()["history"]) == len(history_of_cid) == 1 + len(actions)
    assert no_trace(detail.text) == []
    listed = await harness.client.get(
        "/v1/complaints", params={"dealer_id": DEALER, "customer_id": str(x)}
    )
    assert listed.status_code == 200, listed.text
    assert len(listed.json()["items"]) == 2
    assert no_trace(listed.text) == []
    # a retry of X's opening request is answered from the complaint as it is now (the
    # key keeps only the complaint id): anonymised too
    retried = await harness.client.post(
        "/v1/complaints", json=opening, headers={"Idempotency-Key": "erase-x-open"}
    )
    assert retried.status_code == 200, retried.text
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert retried.json()["id"] == cid
    assert no_trace(retried.text) == []

    # Y at the store and X at the other store are untouched
    assert await rows_of(harness, DEALER, y) == y_before
    assert await rows_of(harness, OTHER_DEALER, x) == other_before
    assert NAME in await store_text(harness, OTHER_DEALER)
    y_detail = await harness.client.get(
        f"/v1/complaints/{y_manual['id']}", params={"dealer_id": DEALER}
    )
    assert y_detail.json()["contact"]["name"] == y_manual["contact"]["name"]

    # the same request again changes nothing more (not even updated_at)
    await erased_by_event(harness, x, "erasure-2")
    assert await rows_of(harness, DEALER, x) == after
    async with transaction(harness.ctx.db, dealers=DEALER) as conn:
        counts = await erase_customer(
            harness.ctx.use_case(conn), Erasure("again", DEALER, x, REQUESTED_AT)
        )
    assert counts == {
        "complaints": 0,
        "complaint_history": 0,
        "complaint_pauses": 0,
        "customer_contacts": 0,
        "awaiting_contact": 0,
        "complaint_confirmations": 0,
        "repair_visits": 0,
    }


async def test_erasure_scrubs_waiting_triggers_and_keeps_older_contacts_out(
    harness: Any,
) -> None:
    x, y = uuid.uuid4(), uuid.uuid4()
    # a dissatisfied callback of each, consumed before any contact: both wait
    await harness.produce(dissatisfied(DEALER, x, "task-wait-x", f"{NAME} on {PHONE} unhappy"))
    await harness.produce(dissatisfied(DEALER, y, "task-wait-y", "Y unhappy"))

    async def both_parked() -> bool:
        return len(await harness.db("SELECT 1 FROM awaiting_contact")) == 2

    await harness.eventually(both_parked, what="both triggers parked")
    y_before = await rows_of(harness, DEALER, y)

    await erased_by_event(harness, x, "erasure-wait")

    after = await rows_of(harness, DEALER, x)
    [parked] = after["awaiting_contact"]
    assert parked["event"]["note"] == ERASED_TEXT
    assert parked["event"]["task_id"] == "task-wait-x"
    assert parked["event"]["outcome"] == "dissatisfied"
    assert no_trace(json.dumps(parked, ensure_ascii=False)) == []
    # the directory holds the erased contact now (none was known before)
    [entry] = after["customer_contacts"]
    assert entry["contact"] == erased_contact().model_dump(mode="json")
    assert datetime.fromisoformat(entry["observed_at"]) == REQUESTED_AT
    assert entry["source_type"] == "CustomerErasureRequested"
    assert await rows_of(harness, DEALER, y) == y_before

    # a contact snapshot of before the request, consumed late, brings nobody back; the
    # waiting trigger opens its complaint with the erased contact and no note
    stale = delivered(
        DEALER, x, contact_of(NAME, PHONE, EMAIL), occurred_at=REQUESTED_AT - timedelta(days=1)
    )
    await harness.produce(stale, event_id="stale-contact")
    await harness.handled("stale-contact")
    late = await rows_of(harness, DEALER, x)
    assert [c["contact"] for c in late["customer_contacts"]] == [entry["contact"]]
    [opened] = late["complaints"]
    assert opened["origin_ref"] == "task:task-wait-x"
    assert opened["contact"]["erased"] is True
    assert opened["details"] == ERASED_TEXT
    # so does a callback of before the request consumed after it: its note is not kept
    await harness.produce(
        dissatisfied(DEALER, x, "task-late-x", f"{NAME} is furious"), event_id="late-task"
    )
    await harness.handled("late-task")
    [late_task] = [
        c
        for c in (await rows_of(harness, DEALER, x))["complaints"]
        if c["origin_ref"] == "task:task-late-x"
    ]
    assert (late_task["contact"]["erased"], late_task["details"]) == (True, ERASED_TEXT)
    assert no_trace(await store_text(harness, DEALER)) == []

    # a customer who comes back afterwards is known again
    fresh = delivered(
        DEALER, x, contact_of(NAME, PHONE, EMAIL), occurred_at=REQUESTED_AT + timedelta(days=1)
    )
    await harness.produce(fresh, event_id="fresh-contact")
    await harness.handled("fresh-contact")
    [back] = (await rows_of(harness, DEALER, x))["customer_contacts"]
    assert back["contact"]["phone"] == PHONE
