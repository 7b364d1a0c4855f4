"""Customer erasure at leads, against real Kafka + PostgreSQL: the request (roles,
CustomerErasureRequested with no personal data), and leads' own eraser reached through the
runtime's erasure subscription of the leads topic."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dealerflow.contracts.events.leads import CustomerErasureRequested
from dealerflow.devinfra.tokens import auth_header

pytestmark = pytest.mark.integration

DEALER = "gz-tianhe-03"
OTHER = "gz-baiyun-01"
NAME = "陈静怡"
PHONE = "+8613512345678"
EMAIL = "chen.jingyi@example.cn"
NOTE = "lives at 12 Huangpu Road, wife is Li Na"


def gm(dealer: str = DEALER) -> dict[str, str]:
    return auth_header(roles=["gm"], dealers=[dealer], sub="gm-wu")


async def new_lead(leads: Any, phone: str, dealer: str, name: str = NAME) -> dict[str, Any]:
    body = {
        "dealer_id": dealer,
        "customer": {"name": name, "phones": [phone], "email": EMAIL},
    }
    answer = await leads.http.post("/v1/leads", json=body, params={"consultant_id": "c-he"})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def log_contact(leads: Any, lead: dict[str, Any], dealer: str) -> None:
    entry = {
        "channel": "phone",
        "outcome": "reached",
        "grade_after": "A",
        "next_contact_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        "notes": NOTE,
    }
    answer = await leads.http.post(
        f"/v1/leads/{lead['lead_id']}/contacts", params={"dealer_id": dealer}, json=entry
    )
    assert answer.status_code == 201, answer.text


async def rows_text(leads: Any, dealer: str, lead_id: str) -> str:
    """Everything stored about one lead, as one text to grep."""
    async with leads.pool.acquire() as conn:
        parts = []
        for table in ("leads", "contact_log", "lead_submissions"):
            rows = await conn.fetch(
                f"SELECT to_jsonb(t)::text AS row FROM {table} t "
                "WHERE dealer_id = $1 AND lead_id = $2",
                dealer,
                uuid.UUID(lead_id),
            )
            parts += [r["row"] for r in rows]
    return "\n".join(parts)


async def test_erasure_anonymises_the_customer_at_the_store_only(leads: Any) -> None:
    erased = await new_lead(leads, PHONE, DEALER)
    await log_contact(leads, erased, DEALER)
    kept = await new_lead(leads, "+8613598765432", DEALER, name="王强")
    elsewhere = await new_lead(leads, PHONE, OTHER)
    await log_contact(leads, elsewhere, OTHER)
    customer = erased["customer_id"]
    shown = await leads.http.get(f"/v1/leads/{erased['lead_id']}", params={"dealer_id": DEALER})
    interest = shown.json()["interest"]
    assert elsewhere["customer_id"] == customer  # one identity across the group's stores
    before = await rows_text(leads, DEALER, erased["lead_id"])
    assert PHONE in before
    assert NAME in before
    assert EMAIL in before
    assert NOTE in before

    answer = await leads.http.post(
        f"/v1/customers/{customer}/erasure",
        json={"dealer_id": DEALER, "basis": "pipl-art-47"},
        headers=gm(),
    )
    assert answer.status_code == 202, answer.text
    request = answer.json()
    assert request["requested_by"] == "gm-wu"
    assert request["carried_out_at"] is None

    # the event names the customer by id only
    events = await leads.wait_for_events(
        lambda es: any(isinstance(e, CustomerErasureRequested) for e in es), what="the request"
    )
    published = next(e for e in events if isinstance(e, CustomerErasureRequested))
    assert (published.dealer_id, str(published.customer_id)) == (DEALER, customer)
    assert (published.erasure_id, published.requested_by) == (request["erasure_id"], "gm-wu")
    payload = published.model_dump_json()
    assert PHONE not in payload
    assert NAME not in payload
    assert EMAIL not in payload

    async def carried_out() -> dict[str, Any] | None:
        found = await leads.http.get(
            f"/v1/customers/{customer}/erasure", params={"dealer_id": DEALER}, headers=gm()
        )
        assert found.status_code == 200, found.text
        first: dict[str, Any] = found.json()["items"][0]
        return first if first["carried_out_at"] else None

    await leads.eventually(carried_out, what="leads' erasure")

    after = await rows_text(leads, DEALER, erased["lead_id"])
    for personal in (PHONE, "13512345678", NAME, EMAIL, NOTE):
        assert personal not in after
    detail = await leads.http.get(f"/v1/leads/{erased['lead_id']}", params={"dealer_id": DEALER})
    assert detail.status_code == 200, detail.text
    lead = detail.json()
    assert lead["contact"]["erased"] is True
    assert lead["contact"]["phone"] is None
    # the business record stays: grade, status, interest, the contact log's outcome
    assert (lead["grade"], lead["status"], lead["interest"]) == ("A", "open", interest)
    assert [c["outcome"] for c in lead["contacts"]] == ["reached"]
    assert lead["contacts"][0]["notes"] is None
    listed = await leads.http.get("/v1/leads", params={"dealer_id": DEALER})
    assert listed.status_code == 200
    summary = next(i for i in listed.json()["items"] if i["lead_id"] == erased["lead_id"])
    assert summary["phone"] is None
    assert summary["name"] == "(erased)"

    # the other customer and the same customer at the other store are untouched
    assert "王强" in await rows_text(leads, DEALER, kept["lead_id"])
    other = await rows_text(leads, OTHER, elsewhere["lead_id"])
    assert PHONE in other
    assert NAME in other
    assert NOTE in other

    # a new submission with the erased phone number starts a new lead (new consent)
    again = await new_lead(leads, PHONE, DEALER)
    assert again["lead_id"] != erased["lead_id"]


async def test_a_second_run_of_the_eraser_changes_nothing(leads: Any) -> None:
    from dealerflow.leads.usecases_erasure import erase_customer
    from dealerflow.runtime.erasure import Erasure

    lead = await new_lead(leads, PHONE, DEALER)
    await log_contact(leads, lead, DEALER)
    # an appointment cancelled with a reason (free text: may name the customer)
    path, q = f"/v1/leads/{lead['lead_id']}/appointments", {"dealer_id": DEALER}
    when = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    booked = {"purpose": "store_visit", "scheduled_for": when, "appointment_id": "ap-e"}
    assert (await leads.http.post(path, params=q, json=booked)).status_code == 201
    cancel = {"cancelled_by": "customer", "reason": f"{NAME} is travelling"}
    assert (await leads.http.post(f"{path}/ap-e/cancel", params=q, json=cancel)).status_code == 200
    # the same person's second number, merged into the lead: erased with it
    second = await new_lead(leads, "+8613598760000", DEALER)
    merge = {"merged_lead_ids": [second["lead_id"]]}
    merged = await leads.http.post(f"/v1/leads/{lead['lead_id']}/merge", params=q, json=merge)
    assert merged.status_code == 200, merged.text
    erasure = Erasure("outside-1", DEALER, uuid.UUID(lead["customer_id"]), leads.ctx.clock.now())

    async def run() -> dict[str, int]:
        async def work(uc: Any) -> dict[str, int]:
            return await erase_customer(uc, erasure)

        return await leads.ctx.run_in_transaction(work)

    first = {"leads": 2, "contact_log": 1, "appointments": 1, "lead_submissions": 2}
    assert await run() == {**first, "lead_phone_aliases": 1, "lead_reviews": 0}
    assert set((await run()).values()) == {0}
    assert "13598760000" not in await rows_text(leads, DEALER, second["lead_id"])
    async with leads.pool.acquire() as conn:
        stored = await conn.fetchval(
            "SELECT contact::text FROM leads WHERE lead_id = $1", uuid.UUID(lead["lead_id"])
        )
    assert json.loads(stored)["erased"] is True
    detail = await leads.http.get(f"/v1/leads/{lead['lead_id']}", params=q)
    (appointment,) = detail.json()["appointments"]
    assert (appointment["status"], appointment["reason"]) == ("cancelled", None)


@pytest.mark.parametrize("role", ["consultant", "sales-manager", "customer-relations"])
async def test_only_the_gm_records_an_erasure(leads: Any, role: str) -> None:
    customer = str(uuid.uuid4())
    body = {"dealer_id": DEALER}
    token = auth_header(roles=[role], dealers=[DEALER])
    answer = await leads.http.post(f"/v1/customers/{customer}/erasure", json=body, headers=token)
    assert answer.status_code == 403, answer.text
    other = await leads.http.post(
        f"/v1/customers/{customer}/erasure", json={"dealer_id": OTHER}, headers=gm()
    )
    assert other.status_code == 403, other.text
    # any customer id is accepted (it may be known only to another service)
    accepted = await leads.http.post(f"/v1/customers/{customer}/erasure", json=body, headers=gm())
    assert accepted.status_code == 202, accepted.text
    read = await leads.http.get(
        f"/v1/customers/{customer}/erasure", params={"dealer_id": DEALER}, headers=token
    )
    assert read.status_code == (403 if role == "consultant" else 200), read.text
