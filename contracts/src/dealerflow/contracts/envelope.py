"""CloudEvents 1.0 over the Kafka protocol binding, for dealerflow events.

Producers use binary mode: CloudEvents attributes in `ce_*` headers, `content-type:
application/json`, the event's JSON as the value. Consumers accept binary and structured
mode (`content-type: application/cloudevents+json`, the whole CloudEvent as a JSON object
with the event in `data`). The Kafka key is the customer id, so one customer's events stay in
order within a topic. Extensions: `dealerid`, `correlationid`, `causationid`, `actor` (who
acted, when known); W3C trace context travels in the `traceparent`/`tracestate` headers
(and, in structured mode, may also be attributes).

Anything that cannot be decoded into a catalogue event raises `EventDecodeError` with a
reason that consumers put into the dead-letter record.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from dealerflow.contracts.events.base import DomainEvent
from dealerflow.contracts.registry import EVENT_TYPES

__all__ = [
    "BINARY_CONTENT_TYPE",
    "SPECVERSION",
    "STRUCTURED_CONTENT_TYPE",
    "Envelope",
    "EventDecodeError",
    "EventMeta",
    "KafkaRecord",
    "decode",
    "encode_binary",
    "encode_structured",
    "summarise_validation_error",
]

SPECVERSION = "1.0"
BINARY_CONTENT_TYPE = "application/json"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
_STRUCTURED_HEADER = STRUCTURED_CONTENT_TYPE + "; charset=UTF-8"
_TRACE_HEADERS = ("traceparent", "tracestate")

E = TypeVar("E", bound=DomainEvent, covariant=True)


@dataclass(frozen=True)
class KafkaRecord:
    """What to hand to a Kafka producer (and what a consumer got)."""

    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


@dataclass(frozen=True)
class EventMeta:
    """CloudEvents attributes and extensions of one event."""

    id: str
    type: str
    source: str
    time: datetime
    subject: str | None
    dealer_id: str
    correlation_id: str | None
    causation_id: str | None
    traceparent: str | None
    tracestate: str | None
    #: Who acted (the staff or client id of the request that started the chain), if known.
    actor: str | None = None


@dataclass(frozen=True)
class Envelope(Generic[E]):
    """A decoded event with its CloudEvents metadata."""

    meta: EventMeta
    event: E


class EventDecodeError(ValueError):
    """A record that is not a valid dealerflow CloudEvent; `reason` says why (str(e) too)."""

    def __init__(self, reason: str, ce_type: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.ce_type = ce_type


# --- encoding -------------------------------------------------------------------------


def _format_time(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("CloudEvent time must be timezone-aware")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _attributes(
    event: DomainEvent,
    *,
    source: str,
    event_id: str | None,
    correlation_id: str | None,
    causation_id: str | None,
    time: datetime | None,
    actor: str | None = None,
) -> dict[str, str]:
    if not source:
        raise ValueError("source must not be empty")
    ce_id = event_id or str(uuid.uuid4())
    attributes = {
        "specversion": SPECVERSION,
        "id": ce_id,
        "type": event.event_type,
        "source": source,
        "time": _format_time(time or event.occurred_at),
    }
    if event.subject is not None:
        attributes["subject"] = event.subject
    attributes["dealerid"] = event.dealer_id
    # An event caused by nothing starts a new conversation: it correlates with itself.
    attributes["correlationid"] = correlation_id or ce_id
    if causation_id:
        attributes["causationid"] = causation_id
    if actor:
        attributes["actor"] = actor
    return attributes


def _trace_headers(traceparent: str | None, tracestate: str | None) -> list[tuple[str, bytes]]:
    headers = []
    if traceparent:
        headers.append(("traceparent", traceparent.encode()))
    if tracestate:
        headers.append(("tracestate", tracestate.encode()))
    return headers


def encode_binary(
    event: DomainEvent,
    *,
    source: str,
    event_id: str | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    actor: str | None = None,
    traceparent: str | None = None,
    tracestate: str | None = None,
    time: datetime | None = None,
) -> KafkaRecord:
    """Encode `event` as a binary-mode CloudEvent record (ce_* headers, JSON value).

    `event_id` defaults to a random UUID, `time` to `event.occurred_at`, `correlation_id`
    to the event id (a new conversation). The key is `event.kafka_key` (the customer id,
    or the dealer id for dealer configuration).
    """
    attributes = _attributes(
        event,
        source=source,
        event_id=event_id,
        correlation_id=correlation_id,
        causation_id=causation_id,
        time=time,
        actor=actor,
    )
    headers = [(f"ce_{name}", value.encode()) for name, value in attributes.items()]
    headers.append(("content-type", BINARY_CONTENT_TYPE.encode()))
    headers += _trace_headers(traceparent, tracestate)
    return KafkaRecord(
        key=event.kafka_key.encode(),
        value=event.model_dump_json().encode(),
        headers=headers,
    )


def encode_structured(
    event: DomainEvent,
    *,
    source: str,
    event_id: str | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    actor: str | None = None,
    traceparent: str | None = None,
    tracestate: str | None = None,
    time: datetime | None = None,
) -> KafkaRecord:
    """Encode `event` as a structured-mode CloudEvent (application/cloudevents+json).

    Trace context is written both as attributes and as headers, so tracing middleware that
    only reads headers still joins the trace.
    """
    document: dict[str, Any] = dict(
        _attributes(
            event,
            source=source,
            event_id=event_id,
            correlation_id=correlation_id,
            causation_id=causation_id,
            time=time,
            actor=actor,
        )
    )
    document["datacontenttype"] = BINARY_CONTENT_TYPE
    if traceparent:
        document["traceparent"] = traceparent
    if tracestate:
        document["tracestate"] = tracestate
    document["data"] = event.model_dump(mode="json")
    headers = [("content-type", _STRUCTURED_HEADER.encode())]
    headers += _trace_headers(traceparent, tracestate)
    return KafkaRecord(
        key=event.kafka_key.encode(),
        value=json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode(),
        headers=headers,
    )


# --- decoding -------------------------------------------------------------------------
#
# decode() runs once per consumed record, so the common case (a binary-mode record from
# our own producers: lower-case, unique, UTF-8 headers) takes a short path: one dict
# comprehension for the headers, attributes read straight from that map (no second dict,
# no per-attribute checks: header values are always strings), and the payload validated
# from the raw bytes by the model's own pydantic-core validator. Anything unusual takes the
# careful path, with the same results and the same error reasons.


def _header_map(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    try:
        result = {name.lower(): value.decode("utf-8") for name, value in headers}
    except (AttributeError, UnicodeDecodeError):  # a None value, or not UTF-8
        return _careful_header_map(headers)
    if len(result) != len(headers):  # repeated names: are they consistent?
        return _careful_header_map(headers)
    return result


def _careful_header_map(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    result: dict[str, str] = {}
    for raw_name, raw_value in headers:
        name = raw_name.lower()  # Kafka headers are case-sensitive; HTTP habits are not.
        try:
            value = (raw_value or b"").decode("utf-8")
        except UnicodeDecodeError:
            raise EventDecodeError(f"header {raw_name!r} is not valid UTF-8") from None
        if name in result and result[name] != value:
            raise EventDecodeError(f"conflicting duplicate header {raw_name!r}")
        result[name] = value
    return result


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _is_json(media_type: str) -> bool:
    return media_type in ("application/json", "text/json") or media_type.endswith("+json")


def summarise_validation_error(exc: ValidationError, limit: int = 5) -> str:
    """One line naming each failing field and why, e.g. "contact.phone: Value error, ..."."""
    parts = []
    for error in exc.errors(include_url=False)[:limit]:
        location = ".".join(str(part) for part in error["loc"]) or "<payload>"
        parts.append(f"{location}: {error['msg']}")
    if exc.error_count() > limit:
        parts.append(f"... and {exc.error_count() - limit} more")
    return "; ".join(parts)


def _require(attributes: dict[str, Any], name: str, ce_type: str | None) -> str:
    value = attributes.get(name)
    if not isinstance(value, str) or not value:
        raise EventDecodeError(f"missing or empty CloudEvents attribute {name!r}", ce_type)
    return value


def _optional(attributes: dict[str, Any], name: str, ce_type: str | None) -> str | None:
    value = attributes.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise EventDecodeError(f"CloudEvents attribute {name!r} must be a string", ce_type)
    return value


def _structured(value: bytes) -> tuple[dict[str, Any], bytes]:
    try:
        document = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventDecodeError(f"structured CloudEvent is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise EventDecodeError("structured CloudEvent must be a JSON object")
    ce_type = document.get("type") if isinstance(document.get("type"), str) else None
    content_type = document.get("datacontenttype")
    if content_type is not None and (
        not isinstance(content_type, str) or not _is_json(_media_type(content_type))
    ):
        raise EventDecodeError(f"unsupported datacontenttype {content_type!r}", ce_type)
    if "data" in document:
        data = document["data"]
        # A string holds JSON text (double-encoding producers); anything else is JSON.
        payload = data.encode() if isinstance(data, str) else json.dumps(data).encode()
    elif "data_base64" in document:
        try:
            payload = base64.b64decode(str(document["data_base64"]), validate=True)
        except (binascii.Error, ValueError):
            raise EventDecodeError("data_base64 is not valid base64", ce_type) from None
    else:
        raise EventDecodeError("structured CloudEvent has no data", ce_type)
    attributes = {k: v for k, v in document.items() if k not in ("data", "data_base64")}
    return attributes, payload


def _check_binary_content_type(headers: dict[str, str]) -> None:
    content_type = headers.get("content-type")
    if content_type is not None and not _is_json(_media_type(content_type)):
        raise EventDecodeError(
            f"unsupported content-type {content_type!r} (expected application/json)",
            headers.get("ce_type"),
        )


def binary_event_type(headers: Sequence[tuple[str, bytes]]) -> str | None:
    """The ``ce_type`` of a binary-mode record, read from its headers alone (no body
    decoded, nothing validated); None for a structured-mode record (its type is in the
    body) or one that is not a CloudEvent. The same test of the mode as :func:`decode`:
    a ``ce_specversion`` header and no ``application/cloudevents`` content type. A
    consumer passes over the types it has no handler for with it, before decoding."""
    ce_type: bytes | None = None
    binary = False
    for name, value in headers:
        if not isinstance(name, str) or not isinstance(value, bytes):
            return None  # a null or odd header: decode judges the record
        lowered = name.lower()
        if lowered == "ce_type":
            ce_type = value
        elif lowered == "ce_specversion":
            binary = True
        elif lowered == "content-type" and value.lower().startswith(b"application/cloudevents"):
            return None
    if not binary or ce_type is None:
        return None
    try:
        return ce_type.decode("utf-8")
    except UnicodeDecodeError:
        return None


def decode(value: bytes | None, headers: Sequence[tuple[str, bytes]]) -> Envelope[DomainEvent]:
    """Decode a Kafka record (binary or structured mode) into an Envelope.

    Raises EventDecodeError on a tombstone, malformed headers or body, a CloudEvents
    version other than 1.0, an unknown ce_type, or a payload that fails validation.
    """
    if value is None:
        raise EventDecodeError("record has no value (tombstone)")
    header_map = _header_map(headers)
    content_type = header_map.get("content-type")
    if content_type == BINARY_CONTENT_TYPE and "ce_specversion" in header_map:
        return _binary_envelope(header_map, value)  # what our services send
    media_type = _media_type(content_type) if content_type else None
    if media_type == STRUCTURED_CONTENT_TYPE:
        attributes, payload = _structured(value)
    elif media_type is not None and media_type.startswith("application/cloudevents"):
        raise EventDecodeError(f"unsupported CloudEvents format {content_type!r}")
    elif "ce_specversion" in header_map:
        _check_binary_content_type(header_map)
        return _binary_envelope(header_map, value)
    elif media_type is None and value.lstrip().startswith(b"{") and b"specversion" in value:
        # Structured events from producers that forgot the content-type header.
        attributes, payload = _structured(value)
    else:
        raise EventDecodeError(
            "not a CloudEvent: no ce_specversion header and no "
            "application/cloudevents+json content-type"
        )
    return _envelope(attributes, payload, header_map)


def _binary_envelope(headers: dict[str, str], payload: bytes) -> Envelope[DomainEvent]:
    """:func:`_envelope` for the attributes of a binary-mode record (``ce_*`` headers).

    Same checks in the same order; header values are strings, so an attribute is
    missing exactly when it is absent or empty.
    """
    get = headers.get
    ce_type = get("ce_type")
    specversion = get("ce_specversion")
    if specversion != SPECVERSION:
        raise EventDecodeError(f"unsupported CloudEvents specversion {specversion!r}", ce_type)
    if not ce_type:
        raise EventDecodeError("missing or empty CloudEvents attribute 'type'", ce_type)
    event_id = get("ce_id")
    if not event_id:
        raise EventDecodeError("missing or empty CloudEvents attribute 'id'", ce_type)
    source = get("ce_source")
    if not source:
        raise EventDecodeError("missing or empty CloudEvents attribute 'source'", ce_type)
    event = _validate(ce_type, payload)
    raw_time = get("ce_time")
    time = _parse_time(raw_time, ce_type) if raw_time else event.occurred_at
    _check_dealer(get("ce_dealerid"), event, ce_type)
    meta = EventMeta(
        id=event_id,
        type=ce_type,
        source=source,
        time=time,
        subject=get("ce_subject") or None,
        dealer_id=event.dealer_id,
        correlation_id=get("ce_correlationid") or None,
        causation_id=get("ce_causationid") or None,
        actor=get("ce_actor") or None,
        traceparent=get("traceparent") or get("ce_traceparent") or None,
        tracestate=get("tracestate") or get("ce_tracestate") or None,
    )
    return Envelope(meta=meta, event=event)


def _envelope(
    attributes: dict[str, Any], payload: bytes, headers: dict[str, str]
) -> Envelope[DomainEvent]:
    ce_type = attributes.get("type") if isinstance(attributes.get("type"), str) else None
    specversion = attributes.get("specversion")
    if specversion != SPECVERSION:
        raise EventDecodeError(f"unsupported CloudEvents specversion {specversion!r}", ce_type)
    ce_type = _require(attributes, "type", ce_type)
    event_id = _require(attributes, "id", ce_type)
    source = _require(attributes, "source", ce_type)
    event = _validate(ce_type, payload)
    raw_time = _optional(attributes, "time", ce_type)
    time = event.occurred_at if raw_time is None else _parse_time(raw_time, ce_type)
    _check_dealer(_optional(attributes, "dealerid", ce_type), event, ce_type)
    meta = EventMeta(
        id=event_id,
        type=ce_type,
        source=source,
        time=time,
        subject=_optional(attributes, "subject", ce_type),
        dealer_id=event.dealer_id,
        correlation_id=_optional(attributes, "correlationid", ce_type),
        causation_id=_optional(attributes, "causationid", ce_type),
        actor=_optional(attributes, "actor", ce_type),
        traceparent=headers.get("traceparent") or _optional(attributes, "traceparent", ce_type),
        tracestate=headers.get("tracestate") or _optional(attributes, "tracestate", ce_type),
    )
    return Envelope(meta=meta, event=event)


def _validate(ce_type: str, payload: bytes) -> DomainEvent:
    cls = EVENT_TYPES.get(ce_type)
    if cls is None:
        raise EventDecodeError(f"unknown event type {ce_type!r}", ce_type)
    try:
        # the model's pydantic-core validator straight on the bytes: what
        # model_validate_json does, minus a Python frame per record
        event: DomainEvent = cls.__pydantic_validator__.validate_json(payload)
    except ValidationError as exc:
        reason = f"invalid {cls.event_name} payload: {summarise_validation_error(exc)}"
        raise EventDecodeError(reason, ce_type) from None
    return event


def _check_dealer(dealer_id: str | None, event: DomainEvent, ce_type: str) -> None:
    if dealer_id and dealer_id != event.dealer_id:
        raise EventDecodeError(
            f"dealerid {dealer_id!r} does not match data.dealer_id {event.dealer_id!r}", ce_type
        )


def _parse_time(raw: str, ce_type: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise EventDecodeError(f"time {raw!r} is not an RFC 3339 timestamp", ce_type) from None
    if parsed.tzinfo is None:
        raise EventDecodeError(f"time {raw!r} has no UTC offset", ce_type)
    return parsed.astimezone(UTC)
