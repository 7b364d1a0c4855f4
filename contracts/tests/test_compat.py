"""The compatibility comparator catches every kind of breaking change and lets compatible
evolution through."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dealerflow.contracts.events import ALL_EVENTS, DomainEvent
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
