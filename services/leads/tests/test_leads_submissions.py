"""Lead submissions over HTTP against real Kafka + PostgreSQL: creation with round-robin
assignment, de-duplication by phone, ADF XML, refusals and idempotent retries."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dealerflow.contracts.events.leads import LeadCreated, LeadUpdated
from dealerflow.contracts.identity import customer_id_for

pytestmark = pytest.mark.integration

DEALER = "sh-pudong-01"


def lead_json(phone: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "dealer_id": DEALER,
        "channel": "online",
        "source": "website",
        "customer": {"name": "王芳", "phones": [phone]},
        "vehicles": [{"make": "BYD", "model": "Seal"}],
    }
    body.update(extra)
    return body


ADF = """<?xml version="1.0" encoding="UTF-8"?>
<?adf version="1.0"?>
<adf>
  <prospect status="new">
    <id sequence="1" source="autohome">AH-0001</id>
    <requestdate>2026-03-01T10:15:32+08:00</requestdate>
    <vehicle interest="buy" status="new"><make>BYD</make><model>Han EV</model></vehicle>
    <vehicle interest="trade-in" status="used">
      <year>2016</year><make>Volkswagen</make><model>Lavida</model>
    </vehicle>
    <customer>
      <contact primarycontact="1">
        <name part="last">张</name><name part="first">伟</name>
        <phone type="cellphone" preferredcontact="1">139 1234 5678</phone>
        <email>Zhang.Wei@Example.CN</email>
      </contact>
      <comments>周末到店试驾</comments>
    </customer>
    <vendor><id source="dealerflow">sh-pudong-01</id><vendorname>浦东4S店</vendorname></vendor>
    <provider><name part="full">汽车之家</name></provider>
  </prospect>
</adf>
"""


async def test_new_leads_are_assigned_round_robin_and_announced(leads: Any) -> None:
    staff = [
        {"staff_id": "c-li", "name": "李娜", "roles": ["consultant"], "on_duty": True},
        {"staff_id": "c-zhao", "roles": ["consultant"], "on_duty": False},
        {"staff_id": "c-chen", "roles": ["consultant"], "on_duty": True},
        {"staff_id": "m-sun", "roles": ["sales_manager"]},  # not a consultant: no leads
    ]
    await leads.configure(DEALER, {"people": {"staff": staff}})
    roster = await leads.http.get(f"/v1/dealers/{DEALER}/consultants")
    assert roster.status_code == 200, roster.text
    consultants = roster.json()["consultants"]
    assert [c["consultant_id"] for c in consultants] == ["c-chen", "c-li", "c-zhao"]
    assert [c["available"] for c in consultants] == [True, True, False]

    phones = ["13800138001", "13800138002", "13800138003"]
    answers = [await leads.http.post("/v1/leads", json=lead_json(p)) for p in phones]
    assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
    # id order over the on-duty consultants, wrapping; c-zhao is off duty
    assert [a.json()["consultant_id"] for a in answers] == ["c-chen", "c-li", "c-chen"]
    first = answers[0].json()
    assert first["created"] is True
    assert first["deduplicated"] is False
    assert first["customer_id"] == str(customer_id_for("default", "+8613800138001"))
    assert answers[0].headers["location"] == f"/v1/leads/{first['lead_id']}?dealer_id={DEALER}"

    events = await leads.wait_for_events(
        lambda evs: sum(isinstance(e, LeadCreated) for e in evs) == 3, what="3 LeadCreated"
    )
    created = {e.lead_id: e for e in events if isinstance(e, LeadCreated)}
    event = created[first["lead_id"]]
    assert event.dealer_id == DEALER
    assert str(event.customer_id) == first["customer_id"]
    assert event.consultant_id == "c-chen"
    assert event.contact.phone == "+8613800138001"
    assert event.contact.name == "王芳"
    assert event.contact.consent.service is True
    assert str(event.channel) == "online"
    assert str(event.source) == "website"
    assert event.interest.models == ["Seal"]


async def test_same_person_again_is_a_touch_not_a_second_lead(leads: Any) -> None:
    first = await leads.http.post("/v1/leads", json=lead_json("13800138000"))
    assert first.status_code == 201, first.text
    # another spelling of the same number, a new model and an e-mail
    again_body = lead_json(
        "+86 138 0013 8000",
        source="wechat",
        vehicles=[{"model": "Han EV"}],
        customer={"name": "王芳", "phones": ["+86 138 0013 8000"], "email": "wf@example.cn"},
    )
    again = await leads.http.post("/v1/leads", json=again_body)
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["lead_id"] == first.json()["lead_id"]
    assert body["customer_id"] == first.json()["customer_id"]
    assert body["deduplicated"] is True
    assert body["created"] is False

    listed = await leads.http.get(
        "/v1/leads", params={"dealer_id": DEALER, "phone": "138-0013-8000"}
    )
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert len(items) == 1
    assert items[0]["touch_count"] == 2

    events = await leads.wait_for_events(
        lambda evs: any(isinstance(e, LeadUpdated) for e in evs), what="LeadUpdated"
    )
    assert sum(isinstance(e, LeadCreated) for e in events) == 1
    update = next(e for e in events if isinstance(e, LeadUpdated))
    assert update.lead_id == body["lead_id"]
    assert str(update.reason) == "new_touch"
    assert str(update.touch_source) == "wechat"
    assert set(update.changed_fields) == {"interest.models", "contact.email"}
    assert update.interest is not None
    assert update.interest.models == ["Seal", "Han EV"]
    assert update.contact is not None
    assert update.contact.email == "wf@example.cn"


async def test_adf_xml_submission_creates_a_lead(leads: Any) -> None:
    answer = await leads.http.post(
        "/v1/leads",
        content=ADF.encode(),
        headers={"Content-Type": "application/xml; charset=utf-8"},
    )
    assert answer.status_code == 201, answer.text
    lead_id = answer.json()["lead_id"]

    detail = await leads.http.get(f"/v1/leads/{lead_id}", params={"dealer_id": DEALER})
    assert detail.status_code == 200, detail.text
    lead = detail.json()
    assert lead["name"] == "张伟"
    assert lead["phone"] == "+8613912345678"
    assert lead["source"] == "auto_portal"
    assert lead["source_detail"] == "汽车之家"
    assert lead["contact"]["email"] == "zhang.wei@example.cn"
    assert lead["interest"]["models"] == ["Han EV"]
    assert lead["interest"]["current_vehicle"] == "Volkswagen Lavida 2016"
    assert lead["submissions"][0]["format"] == "adf"
    assert lead["submissions"][0]["external_id"] == "AH-0001"

    events = await leads.wait_for_events(
        lambda evs: any(isinstance(e, LeadCreated) for e in evs), what="LeadCreated"
    )
    created = next(e for e in events if isinstance(e, LeadCreated))
    assert created.submission_id == "AH-0001"
    assert created.consultant_id is None  # the dealer has no consultants configured

    # The provider resends the same submission id: recorded once, nothing new published.
    again = await leads.http.post(
        "/v1/leads", content=ADF.encode(), headers={"Content-Type": "text/xml"}
    )
    assert again.status_code == 201, again.text
    assert again.json()["replayed"] is True
    assert again.json()["lead_id"] == lead_id
    detail = await leads.http.get(f"/v1/leads/{lead_id}", params={"dealer_id": DEALER})
    assert detail.json()["touch_count"] == 1


@pytest.mark.parametrize(
    ("body", "content_type", "status", "reason"),
    [
        (
            b'{"dealer_id": "sh-pudong-01", "customer": {"phones": ["12345"]}}',
            "application/json",
            422,
            "12345",
        ),
        (
            b'{"dealer_id": "sh-pudong-01", "customer": {"phones": ["12345"], "email": "a@b.cn"}}',
            "application/json",
            422,
            "valid phone number",
        ),
        (b'{"customer": {"phones": ["13800138000"]}}', "application/json", 422, "dealer_id"),
        (b"<adf><prospect>", "application/xml", 400, "malformed XML"),
        (b"{not json", "application/json", 400, "not valid JSON"),
        (b"name=x", "application/x-www-form-urlencoded", 415, "unsupported content type"),
    ],
)
async def test_refused_submissions_say_why(
    leads: Any, body: bytes, content_type: str, status: int, reason: str
) -> None:
    answer = await leads.http.post(
        "/v1/leads", content=body, headers={"Content-Type": content_type}
    )
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert reason in answer.json()["detail"]
    listed = await leads.http.get("/v1/leads", params={"dealer_id": DEALER})
    assert listed.json()["items"] == []


async def test_idempotency_key_returns_the_first_answer(leads: Any) -> None:
    headers = {"Idempotency-Key": "form-42"}
    first = await leads.http.post("/v1/leads", json=lead_json("13800138009"), headers=headers)
    retry = await leads.http.post("/v1/leads", json=lead_json("13800138009"), headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    detail = await leads.http.get(
        f"/v1/leads/{first.json()['lead_id']}", params={"dealer_id": DEALER}
    )
    assert detail.json()["touch_count"] == 1


async def test_an_idempotency_key_reused_for_another_request_is_refused(leads: Any) -> None:
    headers = {"Idempotency-Key": "form-43"}
    first = await leads.http.post("/v1/leads", json=lead_json("13800138010"), headers=headers)
    assert first.status_code == 201, first.text
    # runtime.idempotency: the same key with a different body is a 422, not a replay
    other = await leads.http.post("/v1/leads", json=lead_json("13800138011"), headers=headers)
    assert other.status_code == 422, other.text
    assert other.json()["type"].endswith("/idempotency-key-reused")
    listed = await leads.http.get("/v1/leads", params={"dealer_id": DEALER, "phone": "13800138011"})
    assert listed.json()["items"] == []


async def test_concurrent_first_submissions_make_one_lead(leads: Any) -> None:
    answers = await asyncio.gather(
        *(leads.http.post("/v1/leads", json=lead_json("13800138077")) for _ in range(6))
    )
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201], [a.text for a in answers]
    assert len({a.json()["lead_id"] for a in answers}) == 1
    listed = await leads.http.get("/v1/leads", params={"dealer_id": DEALER})
    assert len(listed.json()["items"]) == 1
    assert listed.json()["items"][0]["touch_count"] == 6


async def test_an_oem_distributed_lead_keeps_the_oems_lead_id(leads: Any) -> None:
    body = {
        "dealer_id": DEALER,
        "submission_id": "OEM-2026-000123",
        "source": "oem",
        "source_detail": "BYD lead platform",
        "customer": {"name": "钱多多", "phones": ["13700007777"]},
    }
    answer = await leads.http.post("/v1/leads", json=body)
    assert answer.status_code == 201, answer.text
    lead_id = answer.json()["lead_id"]
    detail = (await leads.http.get(f"/v1/leads/{lead_id}", params={"dealer_id": DEALER})).json()
    assert (detail["source"], detail["oem_lead_id"]) == ("oem", "OEM-2026-000123")
    # a lead from the website quoting its own form id is no OEM lead
    web = {
        **body,
        "submission_id": "form-9",
        "source": "website",
        "customer": {"name": "孙倩", "phones": ["13700008888"]},
    }
    other = (await leads.http.post("/v1/leads", json=web)).json()
    shown = await leads.http.get(f"/v1/leads/{other['lead_id']}", params={"dealer_id": DEALER})
    assert shown.json()["oem_lead_id"] is None
