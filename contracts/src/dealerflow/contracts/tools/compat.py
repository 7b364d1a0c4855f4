"""Backward-compatibility gate for event schemas.

Compares a released JSON Schema with the current one and lists every change that would
break a producer or consumer built against the released version. Allowed: new optional
fields, new enum values, wider types (integer -> number, adding null), looser
constraints, new documentation. Refused:

- field_removed          a released property no longer exists
- required_added         a new required property, or an optional one made required
- required_dropped       a required property became optional (old consumers rely on it)
- type_changed           a released type is no longer accepted (e.g. string -> integer)
- nullability_removed    null was accepted and is not any more
- enum_value_removed     an enum/const value of the released schema is no longer accepted
- constraint_narrowed    pattern/format changed, bounds tightened, values restricted,
                         additional properties forbidden, a combinator that constrains a
                         value (allOf/anyOf/oneOf/not/if-then-else beside its type) added
                         or changed
- event_removed          a released event schema has no current counterpart

A tightening that only states what the decoder already refused (a schema catching up with
its validators) breaks nobody; such differences are accepted when an `AllowedTightening`
names them exactly: kind, detail and every path, with the reason (`apply_allowances`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "AllowedTightening",
    "Incompatibility",
    "allowances_from_json",
    "allowances_to_json",
    "apply_allowances",
    "compare_schema_sets",
    "compare_schemas",
    "draft_allowances",
]

Schema = dict[str, Any]


@dataclass(frozen=True)
class Incompatibility:
    """One backward-incompatible difference between a released and a current schema."""

    path: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class AllowedTightening:
    """A reviewed tightening: the schema now states a constraint the decoder already
    enforced. It accepts exactly the incompatibilities with this kind and detail at these
    paths; `reason` says which validator enforced it. `witness` is a value (`{"value": x}`
    for the node at the path, or `{"merge": {...}}` into the object there) that the
    released schema accepted and the decoder refuses (tests check that it does)."""

    kind: str
    detail: str
    reason: str
    paths: tuple[str, ...]
    witness: Mapping[str, Any]

    def allows(self, incompatibility: Incompatibility) -> bool:
        return (
            incompatibility.kind == self.kind
            and incompatibility.detail == self.detail
            and incompatibility.path in self.paths
        )


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _kind(node: Schema) -> str:
    if isinstance(node.get("type"), str):
        return str(node["type"])
    if "const" in node:
        return _json_kind(node["const"])
    if "enum" in node:
        kinds = {_json_kind(v) for v in node["enum"]}
        return kinds.pop() if len(kinds) == 1 else "any"
    if "properties" in node:
        return "object"
    return "any"


def _values(node: Schema) -> list[str] | None:
    """The allowed values (as JSON text) of an enum/const node, or None if unrestricted."""
    if "enum" in node:
        return [json.dumps(v, sort_keys=True) for v in node["enum"]]
    if "const" in node:
        return [json.dumps(node["const"], sort_keys=True)]
    return None


class _Comparer:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.found: list[Incompatibility] = []
        self._in_progress: set[tuple[str, str]] = set()  # guards recursive definitions

    def report(self, path: str, kind: str, detail: str) -> None:
        self.found.append(Incompatibility(path, kind, detail))

    @staticmethod
    def _resolve(node: Schema, root: Schema) -> tuple[str, Schema]:
        """Follow local $refs; return the last ref followed ("" if none) and the target."""
        last_ref = ""
        hops = 0
        while "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise ValueError(f"only local $refs are supported, got {ref!r}")
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            last_ref = ref
            hops += 1
            if hops > 50:
                raise ValueError(f"$ref cycle at {ref}")
        return last_ref, node

    def _branches(self, node: Schema, root: Schema) -> list[tuple[str, Schema]]:
        ref, node = self._resolve(node, root)
        for key in ("anyOf", "oneOf"):
            # a union (`X | None`), unless the node has a type of its own: then the
            # combinator constrains that type (e.g. "phone or e-mail") and is compared
            # as a constraint (_compare_assertions)
            if key in node and not _OWN_TYPE_KEYS & node.keys():
                return [b for sub in node[key] for b in self._branches(sub, root)]
        if isinstance(node.get("type"), list):
            return [(ref, {**node, "type": t}) for t in node["type"]]
        return [(ref, node)]

    def compare(self, old: Schema, new: Schema, path: str) -> None:
        new_branches = self._branches(new, self.new_root)
        new_kinds = [_kind(b) for _, b in new_branches]
        for old_ref, branch in self._branches(old, self.old_root):
            kind = _kind(branch)
            if "any" in new_kinds:
                continue  # the new schema accepts anything here
            if kind == "any":
                self.report(path, "type_changed", f"accepted anything, now only {new_kinds}")
                continue
            match = next(
                (pair for pair, k in zip(new_branches, new_kinds, strict=True) if k == kind), None
            )
            if match is None and kind == "integer" and "number" in new_kinds:
                continue  # widened integer -> number
            if match is None:
                if kind == "null":
                    self.report(path, "nullability_removed", "null is no longer accepted")
                else:
                    self.report(path, "type_changed", f"{kind} is no longer accepted ({new_kinds})")
                continue
            new_ref, new_branch = match
            refs = (old_ref, new_ref)
            if old_ref and new_ref:
                if refs in self._in_progress:
                    continue  # a recursive definition, being compared further up
                self._in_progress.add(refs)
            try:
                self._compare_same_kind(branch, new_branch, kind, path)
            finally:
                self._in_progress.discard(refs)

    def _compare_same_kind(self, old: Schema, new: Schema, kind: str, path: str) -> None:
        self._compare_values(old, new, path)
        self._compare_assertions(old, new, path)
        if kind == "string":
            self._compare_strings(old, new, path)
        elif kind in ("integer", "number"):
            self._compare_numbers(old, new, path)
        elif kind == "array":
            self._compare_arrays(old, new, path)
        elif kind == "object":
            self._compare_objects(old, new, path)

    def _compare_values(self, old: Schema, new: Schema, path: str) -> None:
        old_values, new_values = _values(old), _values(new)
        if new_values is None:
            return
        if old_values is None:
            self.report(path, "constraint_narrowed", f"now restricted to {sorted(new_values)}")
            return
        for value in old_values:
            if value not in new_values:
                self.report(path, "enum_value_removed", f"value {value} is no longer accepted")

    def _compare_assertions(self, old: Schema, new: Schema, path: str) -> None:
        # Any new or changed combinator may exclude values the released schema accepted;
        # proving it does not is beyond this comparator, so it counts as narrowing.
        for key in _ASSERTION_KEYS:
            if key in new and new[key] != old.get(key):
                detail = f"{key} changed from {_compact(old.get(key))} to {_compact(new[key])}"
                self.report(path, "constraint_narrowed", detail)

    def _compare_strings(self, old: Schema, new: Schema, path: str) -> None:
        for key in ("pattern", "format", "contentMediaType"):
            if key in new and new.get(key) != old.get(key):
                detail = f"{key} changed from {old.get(key)!r} to {new[key]!r}"
                self.report(path, "constraint_narrowed", detail)
        self._bound(old, new, "maxLength", path, lower_is_tighter=True)
        self._bound(old, new, "minLength", path, lower_is_tighter=False)

    def _compare_numbers(self, old: Schema, new: Schema, path: str) -> None:
        for key in ("maximum", "exclusiveMaximum"):
            self._bound(old, new, key, path, lower_is_tighter=True)
        for key in ("minimum", "exclusiveMinimum"):
            self._bound(old, new, key, path, lower_is_tighter=False)
        if "multipleOf" in new and new.get("multipleOf") != old.get("multipleOf"):
            self.report(path, "constraint_narrowed", "multipleOf changed")

    def _compare_arrays(self, old: Schema, new: Schema, path: str) -> None:
        self._bound(old, new, "maxItems", path, lower_is_tighter=True)
        self._bound(old, new, "minItems", path, lower_is_tighter=False)
        if "items" in new:
            self.compare(old.get("items", {}), new["items"], f"{path}[]")

    def _compare_objects(self, old: Schema, new: Schema, path: str) -> None:
        old_props: Schema = old.get("properties", {})
        new_props: Schema = new.get("properties", {})
        old_required = set(old.get("required", []))
        new_required = set(new.get("required", []))
        for name, old_prop in old_props.items():
            if name not in new_props:
                self.report(f"{path}.{name}", "field_removed", "field no longer exists")
                continue
            self.compare(old_prop, new_props[name], f"{path}.{name}")
        for name in sorted(new_required - old_required):
            detail = "optional field made required" if name in old_props else "new required field"
            self.report(f"{path}.{name}", "required_added", detail)
        for name in sorted(old_required - new_required):
            if name in new_props:
                self.report(f"{path}.{name}", "required_dropped", "required field made optional")
        if (
            new.get("additionalProperties") is False
            and old.get("additionalProperties") is not False
        ):
            self.report(path, "constraint_narrowed", "additional properties are now forbidden")

    def _bound(
        self, old: Schema, new: Schema, key: str, path: str, *, lower_is_tighter: bool
    ) -> None:
        if key not in new:
            return
        if key not in old:
            self.report(path, "constraint_narrowed", f"{key} {new[key]} added")
            return
        tighter = new[key] < old[key] if lower_is_tighter else new[key] > old[key]
        if tighter:
            self.report(path, "constraint_narrowed", f"{key} {old[key]} -> {new[key]}")


_OWN_TYPE_KEYS = frozenset({"type", "properties", "items", "enum", "const"})
_ASSERTION_KEYS = (
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentSchemas",
)


def _compact(value: Any) -> str:
    return "None" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)


def compare_schemas(released: Schema, current: Schema, name: str = "$") -> list[Incompatibility]:
    """Every backward-incompatible change from `released` to `current` (empty = compatible)."""
    comparer = _Comparer(released, current)
    comparer.compare(released, current, name)
    return comparer.found


def compare_schema_sets(
    released: Mapping[str, Schema], current: Mapping[str, Schema]
) -> list[Incompatibility]:
    """Compare released and current schemas keyed by path; a released one must not vanish."""
    found: list[Incompatibility] = []
    for key, old in sorted(released.items()):
        if key not in current:
            found.append(Incompatibility(key, "event_removed", "released event schema is gone"))
            continue
        found += compare_schemas(old, current[key], key)
    return found


def apply_allowances(
    found: Iterable[Incompatibility], allowances: Sequence[AllowedTightening]
) -> tuple[list[Incompatibility], list[Incompatibility]]:
    """Split `found` by the allow-list: (incompatibilities no allowance accepts, one
    `allowance_unused` entry per allowed path that matched nothing). An unused path means
    the allow-list is stale (the tightening was released, or the constraint changed) and
    must be edited: the list stays an exact record, never a blanket exemption."""
    remaining: list[Incompatibility] = []
    used: set[tuple[int, str]] = set()
    for incompatibility in found:
        index = next((i for i, a in enumerate(allowances) if a.allows(incompatibility)), None)
        if index is None:
            remaining.append(incompatibility)
        else:
            used.add((index, incompatibility.path))
    unused = [
        Incompatibility(path, "allowance_unused", f"allowed {a.kind} ({a.detail}) did not occur")
        for index, a in enumerate(allowances)
        for path in a.paths
        if (index, path) not in used
    ]
    return remaining, unused


def allowances_from_json(document: Mapping[str, Any]) -> list[AllowedTightening]:
    """Read the allow-list document (`{"tightenings": [{kind, detail, reason, witness,
    paths}, ...]}`); every entry needs a reason."""
    allowances = []
    for entry in document.get("tightenings", []):
        reason = str(entry.get("reason", "")).strip()
        if not reason or reason.upper().startswith("TODO"):
            raise ValueError(f"allowed tightening without a reason: {entry.get('detail')!r}")
        allowances.append(
            AllowedTightening(
                kind=str(entry["kind"]),
                detail=str(entry["detail"]),
                reason=reason,
                paths=tuple(entry["paths"]),
                witness=dict(entry.get("witness", {})),
            )
        )
    return allowances


def allowances_to_json(allowances: Sequence[AllowedTightening], about: str = "") -> dict[str, Any]:
    """The allow-list document for `allowances` (inverse of `allowances_from_json`)."""
    return {
        "about": about,
        "tightenings": [
            {
                "reason": a.reason,
                "kind": a.kind,
                "detail": a.detail,
                "witness": dict(a.witness),
                "paths": list(a.paths),
            }
            for a in allowances
        ],
    }


def draft_allowances(found: Iterable[Incompatibility]) -> list[AllowedTightening]:
    """Allow-list entries (reason "TODO") grouping `found` by kind and detail: a starting
    point to review and complete, never to commit unread."""
    groups: dict[tuple[str, str], list[str]] = {}
    for incompatibility in found:
        groups.setdefault((incompatibility.kind, incompatibility.detail), []).append(
            incompatibility.path
        )
    return [
        AllowedTightening(kind, detail, "TODO", tuple(paths), {"value": None})
        for (kind, detail), paths in groups.items()
    ]
