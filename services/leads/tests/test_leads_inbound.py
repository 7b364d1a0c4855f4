"""The raw ``inbound.leads`` topic: provider documents (ADF XML or JSON, no CloudEvents)
become leads; unreadable ones go to ``inbound.leads.dlq`` with the reason and do not
block the partition; redeliveries change nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dealerflow.contracts.events.leads import LeadCreated
from dealerflow.runtime.dlq import H_CONSUMER, H_ERROR, H_ORIGINAL_OFFSET, H_ORIGINAL_TOPIC

pytestmark = pytest.mark.integration

DEALER = "bj-chaoyang-02"
KEY = b"provider-autohome"  # one key: one partition, so the records are seen in order

ADF = """<?xml version="1.0" encoding="UTF-8"?>
<?ADF VERSION "1.0"?>
<ADF><PROSPECT>
  <ID SOURCE="dongchedi">DCD-77</ID>
  <VEHICLE INTEREST="test-drive"><MAKE>Li Auto</MAKE><MODEL>L6</MODEL></VEHICLE>
  <CUSTOMER><CONTACT>
    <NAME PART="full">刘洋</NAME>
    <PHONE>186 0000 1111</PHONE>
  </CONTACT></CUSTOMER>
  <VENDOR><ID SOURCE="dealerflow">bj-chaoyang-02</ID></VENDOR>
</PROSPECT></ADF>
"""


async def _leads_of(leads: Any, **params: str) -> list[dict[str, Any]]:
    answer = await leads.http.get("/v1/leads", params={"dealer_id": DEALER, **params})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_adf_document_on_the_inbound_topic_creates_a_lead(leads: Any) -> None:
    staff = [{"staff_id": "c-wu", "roles": ["consultant"], "on_duty": True}]
    await leads.configure(DEALER, {"people": {"staff": staff}})
    await leads.produce(
        "inbound.leads", ADF.encode(), key=KEY, headers=[("content-type", b"application/xml")]
    )
    found = await leads.eventually(
        lambda: _leads_of(leads, phone="18600001111"), what="lead from the inbound ADF"
    )
    assert found[0]["name"] == "刘洋"
    assert found[0]["consultant_id"] == "c-wu"
    assert found[0]["source"] == "auto_portal"

    events = await leads.wait_for_events(
        lambda evs: any(isinstance(e, LeadCreated) for e in evs), what="LeadCreated"
    )
    created = next(e for e in events if isinstance(e, LeadCreated))
    assert created.lead_id == found[0]["lead_id"]
    assert created.submission_id == "DCD-77"
    assert created.consultant_id == "c-wu"
    assert created.interest.models == ["L6"]


async def test_garbage_goes_to_the_dlq_with_the_reason_and_the_next_record_is_processed(
    leads: Any,
) -> None:
    topic = leads.topics.name("inbound.leads")
    good = {"customer": {"name": "周杰", "phones": ["13700001234"]}, "source": "oem"}
    await leads.produce("inbound.leads", b"<adf><prospect>", key=KEY)  # cut off
    await leads.produce(
        "inbound.leads",
        json.dumps({"customer": {"phones": ["123"]}}).encode(),
        key=KEY,
        headers=[("dealer-id", DEALER.encode())],
    )
    await leads.produce(
        "inbound.leads",
        json.dumps(good).encode(),
        key=KEY,
        headers=[("content-type", b"application/json"), ("dealer-id", DEALER.encode())],
    )
    found = await leads.eventually(
        lambda: _leads_of(leads, phone="13700001234"), what="the record after the garbage"
    )
    assert found[0]["source"] == "oem"

    async def dead_letters() -> list[Any]:
        letters = await leads.read_topic(leads.topics.dlq(topic))
        return letters if len(letters) >= 2 else []

    letters = sorted(
        await leads.eventually(dead_letters, what="2 dead letters"), key=lambda r: r.offset
    )
    headers = [{k: v.decode() for k, v in letter.headers} for letter in letters]
    assert letters[0].value == b"<adf><prospect>"
    assert "malformed XML" in headers[0][H_ERROR]
    assert headers[0][H_ORIGINAL_TOPIC] == topic
    assert headers[0][H_CONSUMER] == "leads.inbound"
    assert "no way to contact the customer" in headers[1][H_ERROR]
    assert "123" in headers[1][H_ERROR]
    assert headers[1]["dealer-id"] == DEALER  # the original headers travel along
    assert int(headers[1][H_ORIGINAL_OFFSET]) == int(headers[0][H_ORIGINAL_OFFSET]) + 1


async def test_a_redelivered_document_changes_nothing(leads: Any) -> None:
    doc = json.dumps({"customer": {"phones": ["13600005678"]}, "source": "app"}).encode()
    headers = [("dealer-id", DEALER.encode())]
    for _ in range(2):  # the provider sends the very same document twice
        await leads.produce("inbound.leads", doc, key=KEY, headers=headers)
    marker = json.dumps({"customer": {"phones": ["13600009999"]}}).encode()
    await leads.produce("inbound.leads", marker, key=KEY, headers=headers)
    await leads.eventually(lambda: _leads_of(leads, phone="13600009999"), what="the marker lead")

    first = await _leads_of(leads, phone="13600005678")
    assert len(first) == 1
    assert first[0]["touch_count"] == 1  # the copy was a duplicate, not a touch
