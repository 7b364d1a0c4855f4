"""decode() has a short path for well-formed binary records and a careful one for the
rest; both must give the same envelope, and oddly formed headers must still be read the
way the Kafka binding says (names case-insensitive, repeated identical values fine)."""

from __future__ import annotations

import dataclasses

import pytest

from dealerflow.contracts.envelope import (
    Envelope,
    EventDecodeError,
    EventMeta,
    binary_event_type,
    decode,
    encode_binary,
)
from dealerflow.contracts.events import VehicleDelivered
from dealerflow.contracts.examples import example_for

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
DELIVERED = example_for(VehicleDelivered)
RECORD = encode_binary(
    DELIVERED,
    source="/dealerflow/sales",
    event_id="evt-7",
    causation_id="cause-7",
    traceparent=TRACEPARENT,
)
EXPECTED_META = EventMeta(
    id="evt-7",
    type=VehicleDelivered.event_type,
    source="/dealerflow/sales",
    time=DELIVERED.occurred_at,
    subject=DELIVERED.subject,
    dealer_id=DELIVERED.dealer_id,
    correlation_id="evt-7",
    causation_id="cause-7",
    traceparent=TRACEPARENT,
    tracestate=None,
)


def _replace(name: str, value: bytes) -> list[tuple[str, bytes]]:
    return [(k, value if k == name else v) for k, v in RECORD.headers]


def _without_value(name: str) -> list[tuple[str, bytes]]:
    # aiokafka hands a header sent without a value over as None
    return [(k, None if k == name else v) for k, v in RECORD.headers]  # type: ignore[misc]


def test_our_binary_record_decodes_to_plain_frozen_dataclasses() -> None:
    envelope = decode(RECORD.value, RECORD.headers)
    assert envelope == Envelope(meta=EXPECTED_META, event=DELIVERED)
    assert type(envelope.event) is VehicleDelivered
    with pytest.raises(dataclasses.FrozenInstanceError):
        envelope.meta.id = "changed"  # type: ignore[misc]
    assert dataclasses.replace(envelope.meta, id="x").id == "x"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([(k.upper(), v) for k, v in RECORD.headers], id="upper-case names"),
        pytest.param([*RECORD.headers, *RECORD.headers], id="every header twice, same values"),
        pytest.param(tuple(RECORD.headers), id="a tuple, as aiokafka hands them"),
        pytest.param(
            _replace("content-type", b"application/json; charset=utf-8"), id="media parameters"
        ),
        pytest.param([h for h in RECORD.headers if h[0] != "content-type"], id="no content-type"),
    ],
)
def test_unusual_but_valid_headers_give_the_same_envelope(
    headers: list[tuple[str, bytes]],
) -> None:
    assert decode(RECORD.value, headers) == Envelope(meta=EXPECTED_META, event=DELIVERED)


def test_a_header_without_a_value_counts_as_empty() -> None:
    envelope = decode(RECORD.value, _without_value("ce_causationid"))
    assert envelope.meta == dataclasses.replace(EXPECTED_META, causation_id=None)
    with pytest.raises(EventDecodeError, match="missing or empty CloudEvents attribute 'id'"):
        decode(RECORD.value, _without_value("ce_id"))


def test_trace_context_falls_back_to_ce_prefixed_attributes() -> None:
    headers = [(k, v) for k, v in RECORD.headers if k != "traceparent"]
    headers += [("ce_traceparent", TRACEPARENT.encode()), ("ce_tracestate", b"v=1")]
    meta = decode(RECORD.value, headers).meta
    assert (meta.traceparent, meta.tracestate) == (TRACEPARENT, "v=1")


def test_ce_time_other_than_occurred_at_is_parsed_to_utc() -> None:
    meta = decode(RECORD.value, _replace("ce_time", b"2026-03-22T15:30:00+08:00")).meta
    assert meta.time.isoformat() == "2026-03-22T07:30:00+00:00"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (_replace("ce_type", b"\xff"), "header 'ce_type' is not valid UTF-8"),
        ([*RECORD.headers, ("CE_ID", b"other")], "conflicting duplicate header 'CE_ID'"),
        (_replace("ce_specversion", b"0.3"), "unsupported CloudEvents specversion '0.3'"),
        (_replace("content-type", b"text/plain"), "unsupported content-type 'text/plain'"),
        (_replace("ce_dealerid", b"bj-01"), "does not match data.dealer_id"),
    ],
)
def test_broken_binary_headers_are_refused_with_the_reason(
    headers: list[tuple[str, bytes]], reason: str
) -> None:
    with pytest.raises(EventDecodeError, match=reason):
        decode(RECORD.value, headers)


def test_binary_event_type_reads_the_type_of_binary_records_only() -> None:
    binary = [("ce_specversion", b"1.0"), ("ce_type", b"dealerflow.leads.LeadCreated.v1")]
    assert binary_event_type(binary) == "dealerflow.leads.LeadCreated.v1"
    assert binary_event_type([*binary, ("content-type", b"application/json")]) is not None
    # structured mode: the type is in the body, whatever a header says
    structured = [*binary, ("content-type", b"application/cloudevents+json; charset=utf-8")]
    assert binary_event_type(structured) is None
    assert binary_event_type([("ce_type", b"dealerflow.leads.LeadCreated.v1")]) is None
    assert binary_event_type([("ce_specversion", b"1.0")]) is None
    assert binary_event_type([*binary[:1], ("ce_type", b"\xff\xfe")]) is None
    # a null header value (Kafka allows it) leaves the record to decode, never raises
    assert binary_event_type([*binary, ("content-type", None)]) is None  # type: ignore[list-item]
