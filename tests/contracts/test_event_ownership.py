"""Cross-service contract rules: event classes live only in dealerflow.contracts (services
import them, never copy them), and every catalogue event is published on its context's
topic with a catalogue ce_type. Who emits and who reacts, as the catalogue promises, is
checked against the services in tests/architecture/test_catalogue_promises.py."""

from __future__ import annotations

import ast
from pathlib import Path

from dealerflow.contracts.events import ALL_EVENTS
from dealerflow.contracts.registry import EVENT_TYPES
from dealerflow.contracts.topics import TopicRegistry

REPO = Path(__file__).resolve().parents[2]
EVENT_NAMES = {cls.event_name for cls in ALL_EVENTS} | {cls.__name__ for cls in ALL_EVENTS}


def _class_names(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]


def test_no_service_or_lib_redefines_an_event_class() -> None:
    copies = [
        f"{path.relative_to(REPO)}: class {name}"
        for folder in ("services", "libs")
        for path in sorted((REPO / folder).rglob("*.py"))
        if ".venv" not in path.parts
        for name in _class_names(path)
        if name in EVENT_NAMES
    ]
    assert copies == [], "import event classes from dealerflow.contracts instead of copying them"


def test_every_event_type_maps_to_its_context_topic() -> None:
    topics = TopicRegistry()
    for ce_type, cls in EVENT_TYPES.items():
        _, context, name, version = ce_type.split(".")
        assert (context, name, version) == (cls.context, cls.event_name, f"v{cls.version}")
        assert topics.for_event(cls) == f"dealerflow.{context}"
