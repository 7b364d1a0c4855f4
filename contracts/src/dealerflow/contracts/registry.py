"""Lookup of event classes by CloudEvents type (`dealerflow.<context>.<EventName>.v<major>`).

A `.v2` of an event is registered beside its `.v1` during a migration: both types stay in
`EVENT_TYPES` until no producer emits the old one (see docs/contracts.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from dealerflow.contracts.events import ALL_EVENTS
from dealerflow.contracts.events.base import DomainEvent

__all__ = ["EVENT_TYPES", "event_class"]


def _build(classes: Iterable[type[DomainEvent]]) -> Mapping[str, type[DomainEvent]]:
    registry: dict[str, type[DomainEvent]] = {}
    for cls in classes:
        if cls.event_type in registry:
            raise RuntimeError(f"duplicate event type {cls.event_type}")
        registry[cls.event_type] = cls
    return MappingProxyType(registry)


EVENT_TYPES: Mapping[str, type[DomainEvent]] = _build(ALL_EVENTS)
"""ce_type -> event class, for every published event type."""


def event_class(ce_type: str) -> type[DomainEvent]:
    """Return the event class for a CloudEvents type; raise KeyError if it is unknown."""
    try:
        return EVENT_TYPES[ce_type]
    except KeyError:
        raise KeyError(f"unknown event type {ce_type!r}") from None
