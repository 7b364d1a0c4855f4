"""The event catalogue's promises, checked against the code (issue 7, point 4).

For every event, `EventDoc.emitted_by` and `EventDoc.reacted_by` name who publishes it and
who reacts. For each of our services named there:

- a reaction is kept when one of the service's subscriptions (its own and the runtime's,
  `ServiceDefinition.all_subscriptions`) covers the event's topic and its `EventRouter`
  has a handler for the event class (the app DEFINITION is imported and its
  subscriptions built, nothing connects);
- an emission is kept when the service's source constructs the event class (a call of the
  class name, found with ast; tests do not count).

A promise that is not kept fails, unless the catalogue marks it `Planned(..., issue=N)`.
A planned promise that is kept fails too, so the marker goes when the work lands. When a
service has kept and planned reactions to one event, only the kept part is checkable (the
handler exists); its planned part is up to the reader of the issue.

tests/contracts/test_event_ownership.py checks the other half of ownership: the classes
live only in contracts and map to their context's topic.
"""

from __future__ import annotations

import ast
import functools
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from dealerflow.contracts.events import ALL_EVENTS, DomainEvent, Planned
from dealerflow.contracts.topics import TopicRegistry
from dealerflow.runtime.publisher import event_source
from dealerflow.runtime.service import ServiceContext, ServiceDefinition
from tests.architecture.codebase import SERVICES, SERVICES_BY_NAME, Service

EVENT_IDS = [cls.__name__ for cls in ALL_EVENTS]


@dataclass(frozen=True)
class Promise:
    """One service's part of one catalogue entry."""

    service: str
    planned_issue: int | None  # None: stated as fact
    text: str


def reactors(entry: str) -> tuple[str, ...]:
    """The services a reaction entry names ("leads, complaints: ..." -> both)."""
    head, colon, _ = entry.partition(":")
    if not colon:
        return ()
    return tuple(name.strip() for name in head.split(","))


def _unwrap(entry: str | Planned) -> tuple[str, int | None]:
    if isinstance(entry, Planned):
        return entry.promise, entry.issue
    return entry, None


def reactions_of(cls: type[DomainEvent]) -> Iterator[Promise]:
    for entry in cls.doc.reacted_by:
        text, issue = _unwrap(entry)
        for service in reactors(text):
            yield Promise(service, issue, text)


def emissions_of(cls: type[DomainEvent]) -> Iterator[Promise]:
    for entry in cls.doc.emitted_by:
        text, issue = _unwrap(entry)
        if text in SERVICES_BY_NAME:
            yield Promise(text, issue, text)


@functools.cache
def handled_events(service: Service) -> frozenset[type[DomainEvent]]:
    """Event classes the running service has a handler for, on a topic it consumes."""
    app = importlib.import_module(f"{service.dotted}.app")
    definition: ServiceDefinition[Any] = app.DEFINITION
    settings = definition.settings_factory()
    ctx = ServiceContext(
        settings=settings,
        clock=settings.clock(),
        topics=TopicRegistry(settings.topic_prefix),
        source=event_source(settings.service_name),
        dealers=definition.dealer_configuration(settings),
    )
    handled = set()
    for subscription in definition.all_subscriptions(ctx):
        if subscription.router is None:
            continue  # a raw-record processor (e.g. inbound lead documents)
        for cls in ALL_EVENTS:
            if cls.context in subscription.contexts and any(subscription.router.handlers_for(cls)):
                handled.add(cls)
    return frozenset(handled)


@functools.cache
def constructed_events(service: Service) -> frozenset[str]:
    """Names of the event classes the service's source calls (constructs)."""
    names = {cls.__name__ for cls in ALL_EVENTS}
    called = set()
    for module in service.modules():
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if name in names:
                    called.add(name)
    return frozenset(called)


def test_the_six_services_are_found() -> None:
    assert [s.name for s in SERVICES] == [
        "complaints",
        "dealers",
        "leads",
        "notifier",
        "sales",
        "service-center",
    ]


@pytest.mark.parametrize("cls", ALL_EVENTS, ids=EVENT_IDS)
def test_reactions_name_our_services_or_none(cls: type[DomainEvent]) -> None:
    for entry in cls.doc.reacted_by:
        text, _ = _unwrap(entry)
        if text.startswith("none"):
            continue
        names = reactors(text)
        assert names, f"{cls.__name__}: {text!r} must read '<service>[, <service>]: ...'"
        unknown = [name for name in names if name not in SERVICES_BY_NAME]
        assert unknown == [], f"{cls.__name__}: not one of {sorted(SERVICES_BY_NAME)}"


@pytest.mark.parametrize("cls", ALL_EVENTS, ids=EVENT_IDS)
def test_every_promised_reaction_has_a_handler(cls: type[DomainEvent]) -> None:
    problems = []
    by_service: dict[str, list[Promise]] = {}
    for promise in reactions_of(cls):
        by_service.setdefault(promise.service, []).append(promise)
    for name, promises in sorted(by_service.items()):
        handled = cls in handled_events(SERVICES_BY_NAME[name])
        kept = [p for p in promises if p.planned_issue is None]
        if kept and not handled:
            problems.append(
                f"{name} has no handler for {cls.__name__} on a topic it consumes, but the "
                f"catalogue says: {kept[0].text!r} (register it, or mark it "
                "Planned(..., issue=N) with the issue that delivers it)"
            )
        if not kept and handled:
            issues = sorted({p.planned_issue or 0 for p in promises})
            problems.append(
                f"{name} handles {cls.__name__} now: drop the planned marker (issue "
                f"{', '.join(map(str, issues))}) from {promises[0].text!r}"
            )
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("cls", ALL_EVENTS, ids=EVENT_IDS)
def test_every_named_emitter_builds_the_event(cls: type[DomainEvent]) -> None:
    problems = []
    for promise in emissions_of(cls):
        built = cls.__name__ in constructed_events(SERVICES_BY_NAME[promise.service])
        if promise.planned_issue is None and not built:
            problems.append(
                f"{promise.service} is named emitter of {cls.__name__} but never constructs "
                "it (publish it, or mark the emitter Planned(..., issue=N))"
            )
        if promise.planned_issue is not None and built:
            problems.append(
                f"{promise.service} constructs {cls.__name__} now: drop the planned marker "
                f"(issue {promise.planned_issue}) from its emitted_by"
            )
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_a_service_builds_only_events_it_is_named_emitter_of(service: Service) -> None:
    emitted = {
        cls.__name__
        for cls in ALL_EVENTS
        if any(p.service == service.name for p in emissions_of(cls))
    }
    assert sorted(constructed_events(service) - emitted) == []
