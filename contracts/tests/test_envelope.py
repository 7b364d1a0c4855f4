"""CloudEvents Kafka binding: both modes round-trip every event; bad records are refused
with a reason."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from dealerflow.contracts.envelope import (
    EventDecodeError,
    decode,
    encode_binary,
    encode_structured,
)
from dealerflow.contracts.events import ALL_EVENTS, DomainEvent, VehicleDelivered
from dealerflow.contracts.examples import EXAMPLES, example_for

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
DELIVERED = example_for(VehicleDelivered)


def _ids(cls: type[DomainEvent]) -> str:
    return cls.__name__


@pytest.mark.parametrize("cls", ALL_EVENTS, ids=_ids)
@pytest.mark.parametrize("encode", [encode_binary, encode_structured])
def test_every_event_round_trips(cls: type[DomainEvent], encode: object) -> None:
    event = EXAMPLES[cls]
    assert callable(encode)
    record = encode(
        event,
        source="/dealerflow/test",
        event_id="evt-1",
        correlation_id="corr-1",
        causation_id="cause-1",
        traceparent=TRACEPARENT,
        tracestate="vendor=1",
    )
    envelope = decode(record.value, record.headers)
    assert envelope.event == event
    assert type(envelope.event) is cls
    # One customer's events keep their order; dealer configuration is keyed by dealer
    # (its topic is compacted to the latest configuration of each dealer).
    key = event.dealer_id if cls.context == "dealers" else str(event.customer_id)
    assert record.key == key.encode()
    meta = envelope.meta
    assert (meta.id, meta.type, meta.source) == ("evt-1", cls.event_type, "/dealerflow/test")
    assert (meta.correlation_id, meta.causation_id) == ("corr-1", "cause-1")
    assert (meta.traceparent, meta.tracestate) == (TRACEPARENT, "vendor=1")
    assert meta.dealer_id == event.dealer_id
    assert meta.subject == event.subject
    assert meta.time == event.occurred_at


def test_binary_headers_follow_the_kafka_binding() -> None:
    record = encode_binary(DELIVERED, source="/sales", event_id="e1", traceparent=TRACEPARENT)
    headers = dict(record.headers)
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_id"] == b"e1"
    assert headers["ce_type"] == b"dealerflow.sales.VehicleDelivered.v1"
    assert headers["ce_source"] == b"/sales"
    assert headers["ce_time"] == b"2026-03-22T07:00:00Z"
    assert headers["ce_subject"] == b"dlv-601"
    assert headers["ce_dealerid"] == b"sh-pudong-01"
    assert headers["ce_correlationid"] == b"e1"  # a new conversation correlates with itself
    assert "ce_causationid" not in headers
    assert headers["content-type"] == b"application/json"
    assert headers["traceparent"] == TRACEPARENT.encode()
    assert json.loads(record.value)["vin"] == DELIVERED.vin


def test_default_event_ids_are_unique() -> None:
    first = dict(encode_binary(DELIVERED, source="/s").headers)["ce_id"]
    second = dict(encode_binary(DELIVERED, source="/s").headers)["ce_id"]
    assert first != second


def test_explicit_time_is_used_and_naive_time_refused() -> None:
    when = datetime(2026, 3, 22, 15, 0, tzinfo=UTC)
    record = encode_binary(DELIVERED, source="/s", time=when)
    assert decode(record.value, record.headers).meta.time == when
    with pytest.raises(ValueError, match="timezone-aware"):
        encode_binary(DELIVERED, source="/s", time=datetime(2026, 3, 22))


def test_content_type_header_in_any_case() -> None:
    record = encode_structured(DELIVERED, source="/s")
    headers = [("Content-Type", b"Application/CloudEvents+JSON; charset=utf-8")]
    assert decode(record.value, headers).event == DELIVERED
    binary = encode_binary(DELIVERED, source="/s")
    shouted = [(k.upper() if k == "content-type" else k, v) for k, v in binary.headers]
    assert decode(binary.value, shouted).event == DELIVERED


def _structured_doc() -> dict[str, object]:
    record = encode_structured(DELIVERED, source="/dms", event_id="x1")
    document: dict[str, object] = json.loads(record.value)
    return document


def test_structured_from_outside_producer_with_minimal_attributes() -> None:
    # An outside DMS: no extensions, no time, data as a JSON object.
    document = {
        "specversion": "1.0",
        "id": "dms-42",
        "type": "dealerflow.sales.VehicleDelivered.v1",
        "source": "urn:dms:acme",
        "data": DELIVERED.model_dump(mode="json", exclude={"type"}),
    }
    envelope = decode(
        json.dumps(document).encode(), [("content-type", b"application/cloudevents+json")]
    )
    assert envelope.event == DELIVERED
    assert envelope.meta.time == DELIVERED.occurred_at
    assert envelope.meta.correlation_id is None
    assert envelope.meta.dealer_id == "sh-pudong-01"


def test_structured_without_content_type_and_with_data_base64() -> None:
    document = _structured_doc()
    data = json.dumps(document.pop("data")).encode()
    document["data_base64"] = base64.b64encode(data).decode()
    assert decode(json.dumps(document).encode(), []).event == DELIVERED


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: d.update(type="dealerflow.sales.Teleported.v1"), "unknown event type"),
        (lambda d: d.update(specversion="0.3"), "specversion"),
        (lambda d: d.pop("id"), "'id'"),
        (lambda d: d.pop("source"), "'source'"),
        (lambda d: d.pop("data"), "no data"),
        (lambda d: d.update(time="yesterday"), "RFC 3339"),
        (lambda d: d.update(time="2026-03-22T07:00:00"), "no UTC offset"),
        (lambda d: d.update(dealerid="bj-01"), "does not match"),
        (lambda d: d.update(datacontenttype="application/xml"), "datacontenttype"),
        (
            lambda d: d["data"].update(vin="LGXC16DF3N012345I"),
            "vin: Value error, VIN must not contain",
        ),
        (lambda d: d["data"].pop("contact"), "contact: Field required"),
        (lambda d: d["data"].update(type="LeadCreated"), "type"),
    ],
)
def test_bad_structured_events_are_refused_with_a_reason(mutate: Any, reason: str) -> None:
    document = _structured_doc()
    mutate(document)
    with pytest.raises(EventDecodeError, match=reason) as info:
        decode(json.dumps(document).encode(), [("content-type", b"application/cloudevents+json")])
    assert str(info.value) == info.value.reason


def test_invalid_payload_reason_names_event_and_field() -> None:
    record = encode_binary(DELIVERED, source="/s")
    payload = json.loads(record.value)
    payload["odometer_km"] = -5
    payload["contact"]["phone"] = "138 0013 8000"
    with pytest.raises(EventDecodeError) as info:
        decode(json.dumps(payload).encode(), record.headers)
    assert info.value.ce_type == "dealerflow.sales.VehicleDelivered.v1"
    assert info.value.reason.startswith("invalid VehicleDelivered payload: ")
    assert "odometer_km: Input should be greater than or equal to 0" in info.value.reason
    assert "contact.phone" in info.value.reason
    assert "E.164" in info.value.reason


@pytest.mark.parametrize(
    ("value", "headers", "reason"),
    [
        (None, [], "tombstone"),
        (b"{}", [], "not a CloudEvent"),
        (b"not json", [("content-type", b"application/cloudevents+json")], "not valid JSON"),
        (b"[1]", [("content-type", b"application/cloudevents+json")], "JSON object"),
        (b"{}", [("content-type", b"application/cloudevents-batch+json")], "unsupported"),
        (b"{}", [("ce_specversion", b"1.0"), ("ce_type", b"\xff")], "UTF-8"),
        (b"{}", [("ce_specversion", b"1.0"), ("ce_specversion", b"0.3")], "duplicate"),
    ],
)
def test_malformed_records_are_refused(
    value: bytes | None, headers: list[tuple[str, bytes]], reason: str
) -> None:
    with pytest.raises(EventDecodeError, match=reason):
        decode(value, headers)


def test_binary_mode_errors() -> None:
    record = encode_binary(DELIVERED, source="/s")
    headers = dict(record.headers)
    unknown = {**headers, "ce_type": b"dealerflow.sales.VehicleDelivered.v9"}
    with pytest.raises(EventDecodeError, match="unknown event type") as info:
        decode(record.value, list(unknown.items()))
    assert info.value.ce_type == "dealerflow.sales.VehicleDelivered.v9"
    xml = {**headers, "content-type": b"application/xml"}
    with pytest.raises(EventDecodeError, match="content-type"):
        decode(record.value, list(xml.items()))
    with pytest.raises(EventDecodeError, match="Invalid JSON"):
        decode(b"{not json", record.headers)
    no_id = [(k, v) for k, v in record.headers if k != "ce_id"]
    with pytest.raises(EventDecodeError, match="'id'"):
        decode(record.value, no_id)


@pytest.mark.parametrize("cls", ALL_EVENTS, ids=_ids)
def test_payload_missing_a_required_field_is_refused_naming_it(cls: type[DomainEvent]) -> None:
    record = encode_binary(EXAMPLES[cls], source="/s")
    payload = json.loads(record.value)
    own_required = [
        name
        for name, field in cls.model_fields.items()
        if field.is_required() and name not in ("dealer_id", "customer_id", "occurred_at")
    ]
    field_name = own_required[0]
    del payload[field_name]
    with pytest.raises(EventDecodeError) as info:
        decode(json.dumps(payload).encode(), record.headers)
    assert info.value.reason == (f"invalid {cls.event_name} payload: {field_name}: Field required")
