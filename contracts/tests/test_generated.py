"""Committed artifacts (schemas, AsyncAPI, docs/events.md) match the models, and the models
stay backward compatible with the released schemas."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from dealerflow.contracts.events import ALL_EVENTS
from dealerflow.contracts.registry import EVENT_TYPES
from dealerflow.contracts.tools.asyncapi import build_asyncapi
from dealerflow.contracts.tools.generate import (
    ALLOWED_TIGHTENINGS,
    SCHEMAS_DIR,
    artifacts,
    check,
    check_compatibility,
    default_root,
    load_allowances,
    main,
    release,
)
from dealerflow.contracts.tools.schemas import RELEASED_DIR, event_schemas
from dealerflow.contracts.topics import TopicRegistry

ROOT = default_root()


def test_committed_artifacts_are_up_to_date() -> None:
    problems = check(ROOT)
    assert problems == [], "run: uv run python -m dealerflow.contracts.tools.generate"


def test_models_are_compatible_with_released_schemas() -> None:
    incompatible = [str(i) for i in check_compatibility(ROOT)]
    assert incompatible == [], "backward-incompatible change; add a .v2 instead (docs/contracts.md)"


def test_every_event_has_a_released_schema() -> None:
    released = ROOT / SCHEMAS_DIR / RELEASED_DIR
    for path in event_schemas():
        assert (released / path).is_file(), f"{path} was never released"


def test_schemas_declare_draft_2020_12_and_ce_type() -> None:
    for cls in ALL_EVENTS:
        path = ROOT / SCHEMAS_DIR / f"v1/{cls.context}/{cls.event_name}.json"
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["x-dealerflow-ce-type"] == cls.event_type
        # Dealer configuration is about a dealer: it has no customer (customer_id null).
        assert {"dealer_id", "occurred_at"} <= set(schema["required"])
        if cls.key_field == "customer_id":
            assert "customer_id" in schema["required"]
        else:
            assert schema["properties"]["customer_id"]["type"] == "null"


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_asyncapi_document_is_complete_and_consistent() -> None:
    document = build_asyncapi()
    assert document["asyncapi"] == "3.0.0"
    for ref in _refs(document):
        assert ref.startswith("#/"), ref
        _resolve(document, ref)  # raises KeyError when dangling
    addresses = {c["address"] for c in document["channels"].values()}
    assert addresses == set(TopicRegistry().all(include_dlq=True))
    messages = document["components"]["messages"]
    for cls in ALL_EVENTS:
        message = messages[cls.__name__]
        assert message["name"] == cls.event_type
        (example,) = message["examples"]
        assert example["headers"]["ce_type"] == cls.event_type
        assert cls.model_validate(example["payload"]) is not None
        assert cls.doc.when in message["description"]
    assert set(messages) - {c.__name__ for c in ALL_EVENTS} == {
        "LeadSubmissionJson",
        "LeadSubmissionAdf",
        "DeadLetter",
    }
    assert len(EVENT_TYPES) == len(ALL_EVENTS)
    assert document["operations"]["receiveInboundLeads"]["action"] == "receive"


def test_events_md_documents_every_event_with_its_metadata() -> None:
    text = artifacts()[Path("docs/events.md")]
    for cls in ALL_EVENTS:
        section = text.split(f"### {cls.event_name}\n", 1)[1].split("\n### ", 1)[0]
        assert cls.event_type in section
        assert cls.doc.when in section
        for promise in (*cls.doc.emitted_by, *cls.doc.reacted_by):
            assert str(promise) in section  # a Planned one as "... — planned (issue N)"
        assert '"dealer_id": "sh-pudong-01"' in section


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """A scratch repository with freshly generated artifacts and releases."""
    assert main(["--root", str(tmp_path)]) == 0
    release(tmp_path)
    return tmp_path


def test_check_detects_drift_missing_and_stale_files(repo_copy: Path) -> None:
    assert main(["--root", str(repo_copy), "--check"]) == 0
    events_md = repo_copy / "docs/events.md"
    events_md.write_text(events_md.read_text() + "edited by hand\n")
    (repo_copy / "contracts/asyncapi.json").unlink()
    stale = repo_copy / "contracts/schemas/v1/sales/VehicleTeleported.json"
    stale.write_text("{}")
    assert sorted(check(repo_copy)) == [
        "contracts/asyncapi.json: missing",
        "contracts/schemas/v1/sales/VehicleTeleported.json: stale (no event generates it)",
        "docs/events.md: out of date",
    ]
    assert main(["--root", str(repo_copy), "--check"]) == 1
    assert main(["--root", str(repo_copy)]) == 0
    assert check(repo_copy) == []
    assert not stale.exists()


def test_gate_fails_when_released_schema_is_stricter_in_the_past(repo_copy: Path) -> None:
    # Simulate that v1 had released a field the current model no longer has.
    released = repo_copy / "contracts/schemas/released/v1/sales/VehicleDelivered.json"
    schema = json.loads(released.read_text())
    schema["properties"]["licence_plate"] = {"type": "string", "description": "Plate."}
    released.write_text(json.dumps(schema))
    found = [str(i) for i in check_compatibility(repo_copy)]
    assert found == [
        "v1/sales/VehicleDelivered.json.licence_plate: field_removed: field no longer exists"
    ]
    assert main(["--root", str(repo_copy), "--check"]) == 1
    with pytest.raises(SystemExit, match="refusing to release"):
        release(repo_copy)


def test_gate_notices_a_vanished_event(repo_copy: Path) -> None:
    source = repo_copy / "contracts/schemas/released/v1/sales/VehicleDelivered.json"
    shutil.copy(source, source.with_name("VehicleRecalled.json"))
    assert [i.kind for i in check_compatibility(repo_copy)] == ["event_removed"]


def _unrelease_pattern(repo: Path, event: str, field: str) -> str:
    """Make the released schema of `event` lack the pattern of `field` (as if the model
    had just learnt to publish it); returns the incompatibility's detail."""
    released = repo / "contracts/schemas/released/v1" / event
    schema = json.loads(released.read_text())
    pattern = schema["properties"][field].pop("pattern")
    released.write_text(json.dumps(schema))
    return f"pattern changed from None to {pattern!r}"


def _allow_list(repo: Path, detail: str, paths: list[str], reason: str = "already refused") -> None:
    document = {
        "tightenings": [
            {
                "reason": reason,
                "kind": "constraint_narrowed",
                "detail": detail,
                "witness": {"value": "   "},
                "paths": paths,
            }
        ]
    }
    (repo / ALLOWED_TIGHTENINGS).write_text(json.dumps(document))


def test_an_allowed_tightening_passes_the_gate_and_release_prunes_it(repo_copy: Path) -> None:
    detail = _unrelease_pattern(repo_copy, "sales/VehicleDelivered.json", "dealer_id")
    path = "v1/sales/VehicleDelivered.json.dealer_id"
    assert [str(i) for i in check_compatibility(repo_copy)] == [
        f"{path}: constraint_narrowed: {detail}"
    ]
    _allow_list(repo_copy, detail, [path])
    assert check_compatibility(repo_copy) == []
    assert check(repo_copy) == []  # the allow-list is not a stale schema
    assert main(["--root", str(repo_copy), "--check"]) == 0
    written = release(repo_copy)
    assert ALLOWED_TIGHTENINGS in written
    assert load_allowances(repo_copy) == []  # released: nothing left to allow
    assert check_compatibility(repo_copy) == []


def test_the_gate_stays_strict_beside_an_allow_list(repo_copy: Path) -> None:
    detail = _unrelease_pattern(repo_copy, "sales/VehicleDelivered.json", "dealer_id")
    other = _unrelease_pattern(repo_copy, "sales/DeliveryScheduled.json", "dealer_id")
    assert other == detail
    _allow_list(repo_copy, detail, ["v1/sales/VehicleDelivered.json.dealer_id"])
    found = [i.path for i in check_compatibility(repo_copy)]
    assert found == ["v1/sales/DeliveryScheduled.json.dealer_id"]  # same rule, not listed
    with pytest.raises(SystemExit, match="refusing to release"):
        release(repo_copy)


def test_a_stale_allow_list_entry_fails_the_gate(repo_copy: Path) -> None:
    _allow_list(repo_copy, "pattern changed from None to 'x'", ["v1/sales/VehicleDelivered.json"])
    assert [i.kind for i in check_compatibility(repo_copy)] == ["allowance_unused"]
    assert main(["--root", str(repo_copy), "--check"]) == 1


def test_an_allow_list_entry_needs_a_reason(repo_copy: Path) -> None:
    _allow_list(repo_copy, "pattern changed from None to 'x'", [], reason="TODO")
    with pytest.raises(ValueError, match="without a reason"):
        check_compatibility(repo_copy)


def test_draft_lists_what_is_not_yet_allowed(
    repo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    detail = _unrelease_pattern(repo_copy, "sales/VehicleDelivered.json", "dealer_id")
    assert main(["--root", str(repo_copy), "--draft-tightenings"]) == 0
    drafted = json.loads(capsys.readouterr().out)["tightenings"]
    assert [(e["detail"], e["paths"], e["reason"]) for e in drafted] == [
        (detail, ["v1/sales/VehicleDelivered.json.dealer_id"], "TODO")
    ]


def test_committed_allow_list_names_only_real_incompatibilities() -> None:
    # every entry has a reason and a witness, and matches (the gate test above fails on
    # unused entries); the witnesses are checked against the decoder in
    # tests/contracts/test_schema_accepts_what_decoders_accept.py
    for allowance in load_allowances(ROOT):
        assert allowance.reason
        assert allowance.paths
        assert list(allowance.witness) in (["value"], ["merge"])
