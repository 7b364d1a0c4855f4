"""The compatibility comparator catches every kind of breaking change and lets compatible
evolution through."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dealerflow.contracts.events import ALL_EVENTS, DomainEvent
from dealerflow.contracts.tools import compat
from dealerflow.contracts.tools.compat import compare_schema_sets, compare_schemas
from dealerflow.contracts.tools.schemas import event_schema

BASE: dict[str, Any] = {
    "$defs": {
        "Grade": {"enum": ["N", "H", "A"], "type": "string"},
        "Money": {
            "properties": {
                "amount": {"type": "string", "pattern": r"^\d+$"},
                "currency": {"type": "string", "maxLength": 3},
            },
            "required": ["amount", "currency"],
            "type": "object",
        },
        "Node": {
            "properties": {"child": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}},
            "type": "object",
        },
    },
    "properties": {
        "type": {"const": "LeadGraded", "type": "string"},
        "lead_id": {"type": "string", "minLength": 1},
        "grade": {"$ref": "#/$defs/Grade"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "count": {"type": "integer", "minimum": 0, "maximum": 10},
        "price": {"$ref": "#/$defs/Money"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "tree": {"$ref": "#/$defs/Node"},
    },
    "required": ["lead_id", "grade", "price"],
    "type": "object",
}


def _changed(edit: Any) -> list[tuple[str, str]]:
    new = copy.deepcopy(BASE)
    edit(new)
    return [(i.path, i.kind) for i in compare_schemas(BASE, new, "E")]


def test_identical_schema_is_compatible() -> None:
    assert compare_schemas(BASE, copy.deepcopy(BASE)) == []


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda s: s["properties"].pop("note"), ("E.note", "field_removed")),
        (
            lambda s: s["$defs"]["Money"]["properties"].pop("currency"),
            ("E.price.currency", "field_removed"),
        ),
        (
            lambda s: (s["properties"].update(vin={"type": "string"}), s["required"].append("vin")),
            ("E.vin", "required_added"),
        ),
        (lambda s: s["required"].append("note"), ("E.note", "required_added")),
        (lambda s: s["required"].remove("grade"), ("E.grade", "required_dropped")),
        (
            lambda s: s["properties"].update(lead_id={"type": "integer"}),
            ("E.lead_id", "type_changed"),
        ),
        (lambda s: s["properties"].update(count={"type": "string"}), ("E.count", "type_changed")),
        (
            lambda s: s["properties"].update(note={"type": "string"}),
            ("E.note", "nullability_removed"),
        ),
        (lambda s: s["$defs"]["Grade"]["enum"].remove("H"), ("E.grade", "enum_value_removed")),
        (
            lambda s: s["properties"]["type"].update(const="LeadRegraded"),
            ("E.type", "enum_value_removed"),
        ),
        (lambda s: s["properties"]["count"].update(maximum=5), ("E.count", "constraint_narrowed")),
        (lambda s: s["properties"]["count"].update(minimum=1), ("E.count", "constraint_narrowed")),
        (
            lambda s: s["properties"]["lead_id"].update(minLength=3),
            ("E.lead_id", "constraint_narrowed"),
        ),
        (
            lambda s: s["properties"]["lead_id"].update(maxLength=64),
            ("E.lead_id", "constraint_narrowed"),
        ),
        (
            lambda s: s["$defs"]["Money"]["properties"]["amount"].update(pattern=r"^\d{1,3}$"),
            ("E.price.amount", "constraint_narrowed"),
        ),
        (
            lambda s: s["properties"]["lead_id"].update(format="uuid"),
            ("E.lead_id", "constraint_narrowed"),
        ),
        (
            lambda s: s["properties"].update(tags={"type": "array", "items": {"type": "integer"}}),
            ("E.tags[]", "type_changed"),
        ),
        (lambda s: s["properties"]["tags"].update(maxItems=3), ("E.tags", "constraint_narrowed")),
        (
            lambda s: s["properties"].update(lead_id={"enum": ["a", "b"], "type": "string"}),
            ("E.lead_id", "constraint_narrowed"),
        ),
        (lambda s: s.update(additionalProperties=False), ("E", "constraint_narrowed")),
        (
            lambda s: s["$defs"]["Node"]["properties"].update(child={"$ref": "#/$defs/Node"}),
            ("E.tree.child", "nullability_removed"),
        ),
    ],
)
def test_breaking_changes_are_caught(edit: Any, expected: tuple[str, str]) -> None:
    assert expected in _changed(edit)


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s["properties"].update(vin={"type": "string"}),  # optional field added
        lambda s: s["$defs"]["Grade"]["enum"].append("B"),  # enum value added
        lambda s: s["properties"].update(count={"type": "number"}),  # integer widened
        lambda s: s["properties"].update(lead_id={"anyOf": [{"type": "string"}, {"type": "null"}]}),
        lambda s: s["properties"]["count"].pop("maximum"),  # bound loosened
        lambda s: s["properties"]["count"].update(maximum=100),
        lambda s: s["properties"]["lead_id"].update(description="Better docs"),
        lambda s: (
            s["$defs"].update(Grade2=s["$defs"].pop("Grade"))
            or s["properties"]["grade"].update({"$ref": "#/$defs/Grade2"})
        ),  # definition renamed
        lambda s: s["properties"].update(tags={}),  # anything accepted now
    ],
)
def test_compatible_evolution_passes(edit: Any) -> None:
    assert _changed(edit) == []


def test_removed_event_and_sets() -> None:
    released = {"v1/leads/A.json": BASE, "v1/leads/B.json": BASE}
    found = compare_schema_sets(released, {"v1/leads/A.json": BASE})
    assert [(i.path, i.kind) for i in found] == [("v1/leads/B.json", "event_removed")]
    assert str(found[0]) == "v1/leads/B.json: event_removed: released event schema is gone"


def test_external_refs_are_refused() -> None:
    schema = {"properties": {"x": {"$ref": "other.json#/x"}}, "type": "object"}
    with pytest.raises(ValueError, match="local"):
        compare_schemas(schema, schema)


@pytest.mark.parametrize("cls", ALL_EVENTS[:5], ids=lambda c: c.__name__)
def test_real_event_schemas_are_self_compatible(cls: type[DomainEvent]) -> None:
    assert compare_schemas(event_schema(cls), event_schema(cls)) == []


# --- combinators beside a type: constraints, not unions ----------------------------------

REACHABLE = [
    {"required": ["phone"], "properties": {"phone": {"not": {"type": "null"}}}},
    {"required": ["email"], "properties": {"email": {"not": {"type": "null"}}}},
]


def _contact(**extra: Any) -> dict[str, Any]:
    return {
        "properties": {
            "contact": {
                "type": "object",
                "properties": {
                    "phone": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    "email": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                },
                **extra,
            }
        },
        "type": "object",
    }


def test_a_combinator_added_beside_a_type_narrows_and_nothing_else() -> None:
    found = compare_schemas(_contact(), _contact(anyOf=REACHABLE), "E")
    assert [(i.path, i.kind) for i in found] == [("E.contact", "constraint_narrowed")]
    assert found[0].detail.startswith('anyOf changed from None to [{"properties": {"phone"')


@pytest.mark.parametrize("key", ["oneOf", "allOf", "not", "if", "dependentRequired"])
def test_every_constraining_combinator_counts(key: str) -> None:
    value: Any = {"required": ["phone"]} if key in ("not", "if") else REACHABLE
    if key == "dependentRequired":
        value = {"phone": ["email"]}
    found = compare_schemas(_contact(), _contact(**{key: value}), "E")
    assert [(i.path, i.kind) for i in found] == [("E.contact", "constraint_narrowed")]


def test_a_combinator_changed_narrows_and_one_removed_loosens() -> None:
    assert [
        i.kind for i in compare_schemas(_contact(anyOf=REACHABLE), _contact(anyOf=REACHABLE[:1]))
    ] == ["constraint_narrowed"]
    assert compare_schemas(_contact(anyOf=REACHABLE), _contact()) == []
    assert compare_schemas(_contact(anyOf=REACHABLE), _contact(anyOf=REACHABLE)) == []


# --- the allow-list --------------------------------------------------------------------


def _narrowed() -> list[compat.Incompatibility]:
    new = copy.deepcopy(BASE)
    new["properties"]["lead_id"]["pattern"] = r"\S"
    new["properties"]["note"]["anyOf"][0]["pattern"] = r"\S"
    new["properties"]["count"]["maximum"] = 5
    return compare_schemas(BASE, new, "E")


def _allow(
    *paths: str, detail: str = "pattern changed from None to '\\\\S'"
) -> compat.AllowedTightening:
    return compat.AllowedTightening(
        "constraint_narrowed", detail, "already refused", tuple(paths), {"value": " "}
    )


def test_an_allowance_accepts_exactly_its_kind_detail_and_paths() -> None:
    remaining, unused = compat.apply_allowances(_narrowed(), [_allow("E.lead_id", "E.note")])
    assert [(i.path, i.detail) for i in remaining] == [("E.count", "maximum 10 -> 5")]
    assert unused == []
    # another detail, or a path not listed, is not allowed
    other = _allow("E.lead_id", "E.note", detail="pattern changed from None to 'x'")
    assert len(compat.apply_allowances(_narrowed(), [other])[0]) == 3
    assert [i.path for i in compat.apply_allowances(_narrowed(), [_allow("E.lead_id")])[0]] == [
        "E.note",
        "E.count",
    ]


def test_an_allowance_that_matches_nothing_is_reported() -> None:
    _, unused = compat.apply_allowances(_narrowed(), [_allow("E.lead_id", "E.note", "E.gone")])
    assert [(i.path, i.kind) for i in unused] == [("E.gone", "allowance_unused")]


def test_allowances_round_trip_and_need_a_reason() -> None:
    allowances = [_allow("E.lead_id", "E.note")]
    assert compat.allowances_from_json(compat.allowances_to_json(allowances, "about")) == allowances
    drafted = compat.draft_allowances(_narrowed())
    assert [(a.detail, a.paths, a.reason) for a in drafted] == [
        ("pattern changed from None to '\\\\S'", ("E.lead_id", "E.note"), "TODO"),
        ("maximum 10 -> 5", ("E.count",), "TODO"),
    ]
    with pytest.raises(ValueError, match="without a reason"):
        compat.allowances_from_json(compat.allowances_to_json(drafted))
