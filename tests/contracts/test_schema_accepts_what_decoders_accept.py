"""The published event schemas say what the services accept (issue 7, point 5).

For every committed event schema, payloads sampled from the schema (hypothesis-jsonschema)
are decoded by `envelope.decode` inside a binary- or structured-mode CloudEvent: none may
be refused, so a producer that follows the schema is never dead-lettered. The reverse
checks: payloads the schema rejects for each rule it states are refused by the decoder too.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator

from dealerflow.contracts.envelope import (
    BINARY_CONTENT_TYPE,
    STRUCTURED_CONTENT_TYPE,
    EventDecodeError,
    decode,
)
from dealerflow.contracts.events import ALL_EVENTS, DomainEvent
from dealerflow.contracts.events.complaints import ComplaintEscalated
from dealerflow.contracts.events.leads import LeadCreated
from dealerflow.contracts.examples import EXAMPLES
from dealerflow.contracts.registry import EVENT_TYPES
from dealerflow.contracts.tools.schemas import schema_path

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "contracts/schemas"
SCHEMA_FILES = sorted(SCHEMAS.glob("v[0-9]*/*/*.json"))

# per event; DEALERFLOW_SCHEMA_EXAMPLES=1000 for a deeper run by hand
EXAMPLES_PER_EVENT = int(os.environ.get("DEALERFLOW_SCHEMA_EXAMPLES", "50"))
# The suite draws the same examples every run (a CI run cannot go red by chance);
# DEALERFLOW_SCHEMA_RANDOM=1 explores new ones (with a larger count, by hand).
DERANDOMIZE = not os.environ.get("DEALERFLOW_SCHEMA_RANDOM")


@functools.cache
def _schema(path: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


@functools.cache
def _validator(path: Path) -> Draft202012Validator:
    return Draft202012Validator(_schema(path))


@functools.cache
def _payloads(path: Path) -> st.SearchStrategy[Any]:
    schema = _schema(path)
    return _strategy(schema, schema.get("$defs", {}))


# hypothesis-jsonschema re-canonicalises a nested object's whole schema on every draw,
# which costs seconds per example for events that carry a ContactSnapshot. So objects
# and arrays are composed here from their own keywords (properties, required, items and
# their bounds), and everything else - strings with their patterns and formats, numbers,
# enums, consts - comes from `from_schema`. Objects that add combinators (the contact's
# anyOf, the escalation's oneOf) are filtered by a real 2020-12 validator, and so is
# the whole payload in the test.
#
# Random text almost never hits the edges where schema and validators part (a blank name,
# a naive timestamp), so every leaf also draws from hand-picked edge values - those its
# schema accepts: a gap in the schema then shows up as a refusal.

_WHITESPACE = (
    "\t\n\v\f\r \x1c\x1f\x85\xa0\u1680\u2000\u200a\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_EDGE_VALUES: tuple[Any, ...] = (
    *_WHITESPACE,
    " \t ",
    "\u3000\u00a0",
    " x ",
    "\ufeff",
    "\x00",
    "a\x85b@example.cn",
    "a\ufeffb@example.cn",
    " zhang@example.cn ",
    "2024-05-01T09:30:00",
    "2024-05-01T09:30",
    "2024-05-01 09:30:00Z",
    "2024-05-01t09:30:00z",
    "2024-05-01T09:30:00+0800",
    "2024-05-01T09:30:00.123456789123+08:00",
    "2024-02-29T23:59:59-23:59",
    "2023-02-29T00:00:00Z",
    "2024-04-31T00:00:00Z",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "0000-01-01T00:00:00Z",
    "2024-02-29",
    "2023-02-29",
    "2100-02-29",
    "2000-02-29",
    "0001-01-01",
    "1700000000",
    "+8613800138000",
    "+86 138 0013 8000",
    "LSVAU2180N2183294",
    "lsvau2180n2183294",
    "179800.00",
    " 1.5",
    "1.23456",
    "00000000-0000-0000-0000-000000000000",
    "5B0F3C1E-2D7A-5C4E-9A61-6D65616C6572",
    "5b0f3c1e2d7a5c4e9a616d65616c6572",
    "{5b0f3c1e-2d7a-5c4e-9a61-6d65616c6572}",
    0.0,
    1.0,
    2.0,
    3.0,
    -0.0,
    10.0**20,
    2**64,
)

_UNKNOWN_FIELD_VALUES = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
_COMBINATORS = ("allOf", "anyOf", "oneOf", "not", "if", "dependentRequired")


def _strategy(node: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    while "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    own_type = {"type", "properties", "enum", "const"} & node.keys()
    if not own_type and ("anyOf" in node or "oneOf" in node):
        return st.one_of([_strategy(b, defs) for b in node.get("anyOf", node.get("oneOf"))])
    if node.get("type") == "array" and "items" in node:
        return st.lists(
            _strategy(node["items"], defs),
            min_size=node.get("minItems", 0),
            max_size=node.get("maxItems", 3),
        )
    if node.get("type") == "object" and "properties" in node:
        return _object_strategy(node, defs)
    leaf = {k: v for k, v in node.items() if k not in ("$id", "$schema")}
    validator = Draft202012Validator(leaf)
    edges = [value for value in _EDGE_VALUES if validator.is_valid(value)]
    return from_schema(leaf) | st.sampled_from(edges) if edges else from_schema(leaf)


def _object_strategy(node: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    properties: dict[str, Any] = node["properties"]
    required = set(node.get("required", []))
    fields = {name: _strategy(sub, defs) for name, sub in properties.items()}
    known = st.fixed_dictionaries(
        {name: fields[name] for name in properties if name in required},
        optional={name: fields[name] for name in properties if name not in required},
    )
    # unknown fields, which a tolerant reader ignores (extra="ignore")
    unknown = st.dictionaries(
        st.text(max_size=8).filter(lambda name: name not in properties),
        _UNKNOWN_FIELD_VALUES,
        max_size=2,
    )
    strategy = st.builds(lambda k, u: {**u, **k}, known, unknown)
    if any(key in node for key in _COMBINATORS):
        validator = Draft202012Validator({**node, "$defs": defs})
        strategy = strategy.filter(validator.is_valid)
    return strategy


def _record(
    ce_type: str, payload: Any, *, structured: bool
) -> tuple[bytes, list[tuple[str, bytes]]]:
    """A CloudEvent record around `payload`, as an outside producer would send it."""
    event_id = str(uuid.uuid4())
    dealer_id = payload.get("dealer_id") if isinstance(payload, dict) else None
    if structured:
        document: dict[str, Any] = {
            "specversion": "1.0",
            "id": event_id,
            "type": ce_type,
            "source": "/outside/producer",
            "data": payload,
        }
        if isinstance(dealer_id, str):
            document["dealerid"] = dealer_id
        value = json.dumps(document, ensure_ascii=False).encode()
        return value, [("content-type", f"{STRUCTURED_CONTENT_TYPE}; charset=UTF-8".encode())]
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", event_id.encode()),
        ("ce_type", ce_type.encode()),
        ("ce_source", b"/outside/producer"),
        ("content-type", BINARY_CONTENT_TYPE.encode()),
    ]
    if isinstance(dealer_id, str):
        headers.append(("ce_dealerid", dealer_id.encode()))
    return json.dumps(payload, ensure_ascii=False).encode(), headers


def test_every_registered_event_has_a_committed_schema() -> None:
    committed = {_schema(p)["x-dealerflow-ce-type"]: p.relative_to(SCHEMAS) for p in SCHEMA_FILES}
    assert set(committed) == set(EVENT_TYPES)
    for ce_type, path in committed.items():
        assert path.as_posix() == schema_path(EVENT_TYPES[ce_type]).as_posix()


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.stem)
@settings(
    max_examples=EXAMPLES_PER_EVENT,
    deadline=None,
    database=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_decoder_accepts_every_payload_the_schema_accepts(path: Path, data: st.DataObject) -> None:
    ce_type = _schema(path)["x-dealerflow-ce-type"]
    payload = data.draw(_payloads(path), label="payload")
    # hypothesis-jsonschema is not a validator; keep only what a real one accepts
    assume(_validator(path).is_valid(payload))
    structured = data.draw(st.booleans(), label="structured")
    value, headers = _record(ce_type, payload, structured=structured)
    try:
        envelope = decode(value, headers)
    except EventDecodeError as exc:
        pytest.fail(f"the schema accepts it, the decoder refused it: {exc.reason}")
    assert envelope.meta.type == ce_type


# --- the reverse: what the schema rejects, the decoder refuses -------------------------


def _example(cls: type[DomainEvent]) -> dict[str, Any]:
    payload: dict[str, Any] = EXAMPLES[cls].model_dump(mode="json")
    return payload


def _schema_of(cls: type[DomainEvent]) -> Path:
    return SCHEMAS / schema_path(cls)


def _invalid_payloads() -> list[tuple[str, type[DomainEvent], dict[str, Any]]]:
    lead_created = LeadCreated
    cases: list[tuple[str, type[DomainEvent], dict[str, Any]]] = []

    def case(name: str, cls: type[DomainEvent], edit: Any) -> None:
        payload = copy.deepcopy(_example(cls))
        edit(payload)
        cases.append((name, cls, payload))

    case("blank id", lead_created, lambda p: p.update(lead_id=" \u3000\t"))
    case("blank name", lead_created, lambda p: p["contact"].update(name="\u0085"))
    case(
        "unreachable contact",
        lead_created,
        lambda p: p["contact"].update(phone=None, email=None, wechat_openid=None),
    )
    case(
        "contact without any channel key",
        lead_created,
        lambda p: [p["contact"].pop(k, None) for k in ("phone", "email", "wechat_openid")],
    )
    case("naive timestamp", lead_created, lambda p: p.update(occurred_at="2024-05-01T09:30:00"))
    case("30 February", lead_created, lambda p: p.update(created_at="2024-02-30T09:30:00Z"))
    case("29 February 2023", lead_created, lambda p: p.update(created_at="2023-02-29T09:30:00Z"))
    case("hour 24", lead_created, lambda p: p.update(created_at="2024-05-01T24:00:00Z"))
    case("year 0", lead_created, lambda p: p.update(occurred_at="0000-05-01T09:30:00Z"))
    case("customer id", lead_created, lambda p: p.update(customer_id="zhang-wei"))
    case("dealer id", lead_created, lambda p: p.update(dealer_id="sh pudong"))
    case("phone", lead_created, lambda p: p["contact"].update(phone="138 0013 8000"))
    case("email", lead_created, lambda p: p["contact"].update(email="zhang\u0085wei@example.cn"))
    case("locale", lead_created, lambda p: p["contact"].update(locale="fr"))
    for level, role in ((1, "gm"), (2, "department_manager"), (3, "gm")):
        case(
            f"escalation level {level} to {role}",
            ComplaintEscalated,
            lambda p, level=level, role=role: p.update(level=level, to_role=role),
        )
    return cases


INVALID = _invalid_payloads()


@pytest.mark.parametrize(("name", "cls", "payload"), INVALID, ids=[c[0] for c in INVALID])
def test_what_the_schema_rejects_the_decoder_refuses(
    name: str, cls: type[DomainEvent], payload: dict[str, Any]
) -> None:
    assert not _validator(_schema_of(cls)).is_valid(payload), f"{name}: schema accepts it"
    for structured in (False, True):
        value, headers = _record(cls.event_type, payload, structured=structured)
        with pytest.raises(EventDecodeError, match="invalid"):
            decode(value, headers)


def test_the_unchanged_examples_are_valid_both_ways() -> None:
    for cls in ALL_EVENTS:
        payload = _example(cls)
        assert _validator(_schema_of(cls)).is_valid(payload), cls.__name__
        value, headers = _record(cls.event_type, payload, structured=False)
        assert decode(value, headers).event == EXAMPLES[cls]


# --- the allow-list of tightenings: each one states what the decoder already refused ----


@functools.cache
def _donors() -> dict[str, dict[str, Any]]:
    """A valid nested object per field name, from the examples that have one (LeadUpdated's
    example has no contact; LeadCreated's lends it one)."""
    donors: dict[str, dict[str, Any]] = {}
    for cls in ALL_EVENTS:
        for name, value in _example(cls).items():
            if isinstance(value, dict):
                donors.setdefault(name, value)
    return donors


def _put(node: dict[str, Any], fields: list[str], witness: dict[str, Any]) -> bool:
    """Put `witness` at the field path below `node`; False when there is no parent
    object (or list element) there to put it in."""
    if not fields:
        node.update(witness["merge"])
        return True
    name, many, rest = fields[0].removesuffix("[]"), fields[0].endswith("[]"), fields[1:]
    if node.get(name) is None and name in _donors() and not many:
        node[name] = copy.deepcopy(_donors()[name])
    child = node.get(name)
    if many:
        if "value" in witness and not rest:
            node[name] = [witness["value"]]
            return True
        elements = child if isinstance(child, list) else []
        return any([_put(e, rest, witness) for e in elements if isinstance(e, dict)])
    if not rest and "value" in witness:
        node[name] = witness["value"]
        return True
    return isinstance(child, dict) and _put(child, rest, witness)


def _allow_list() -> list[dict[str, Any]]:
    document = json.loads((SCHEMAS / "allowed-tightenings.json").read_text(encoding="utf-8"))
    entries: list[dict[str, Any]] = document["tightenings"]
    return entries


@pytest.mark.parametrize("entry", _allow_list(), ids=lambda e: e["detail"][:40])
def test_each_allowed_tightening_was_already_enforced_by_the_decoder(entry: dict[str, Any]) -> None:
    by_path = {schema_path(cls).as_posix(): cls for cls in ALL_EVENTS}
    assert entry["paths"]
    for path in entry["paths"]:
        key, _, rest = path.partition(".json")
        cls = by_path[key + ".json"]
        fields = [f for f in rest.split(".") if f]
        payload = copy.deepcopy(_example(cls))
        assert _put(payload, fields, entry["witness"]), path
        assert not _validator(_schema_of(cls)).is_valid(payload), f"{path}: schema accepts it"
        value, headers = _record(cls.event_type, payload, structured=False)
        with pytest.raises(EventDecodeError, match="invalid") as refused:
            decode(value, headers)
        assert not fields or fields[-1].removesuffix("[]") in refused.value.reason, path
