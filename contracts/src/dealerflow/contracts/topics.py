"""Kafka topic names of the public contract.

Topics are `<prefix><context>` for the five contexts, `<prefix>inbound.leads` for raw lead
submissions from outside (JSON or ADF XML), and `<topic>.dlq` as each topic's dead-letter
topic. The prefix defaults to "dealerflow." and is configurable (tests use a unique prefix
per test, e.g. "t1a2b3c4d.dealerflow.").
"""

from __future__ import annotations

import re

from dealerflow.contracts.events.base import CONTEXTS, DomainEvent

__all__ = ["CONTEXTS", "DEFAULT_PARTITIONS", "DLQ_SUFFIX", "INBOUND_LEADS", "TopicRegistry"]

DEFAULT_PARTITIONS: int = 6
"""Partitions per topic unless a deployment says otherwise (consumer parallelism bound)."""

INBOUND_LEADS = "inbound.leads"
"""Pseudo-context of the raw lead submission topic."""

DLQ_SUFFIX = ".dlq"

_LEGAL = re.compile(r"^[A-Za-z0-9._-]*$")


class TopicRegistry:
    """Topic names under one prefix."""

    def __init__(self, prefix: str = "dealerflow.") -> None:
        if not _LEGAL.fullmatch(prefix):
            raise ValueError(f"illegal Kafka topic prefix {prefix!r}")
        self.prefix = prefix

    def name(self, context: str) -> str:
        """Topic of a context ("sales" -> "dealerflow.sales"; "inbound.leads" too)."""
        if context not in CONTEXTS and context != INBOUND_LEADS:
            raise ValueError(f"unknown context {context!r}; expected one of {CONTEXTS}")
        return f"{self.prefix}{context}"

    def dlq(self, topic: str) -> str:
        """Dead-letter topic of `topic`."""
        return topic + DLQ_SUFFIX

    def for_event(self, event: DomainEvent | type[DomainEvent]) -> str:
        """Topic an event (instance or class) is published to."""
        return self.name(event.context)

    def context_of(self, topic: str) -> str:
        """Inverse of `name`: the context of one of this registry's (non-DLQ) topics."""
        if topic.startswith(self.prefix):
            context = topic[len(self.prefix) :]
            if context in CONTEXTS or context == INBOUND_LEADS:
                return context
        raise ValueError(f"{topic!r} is not a topic of prefix {self.prefix!r}")

    def all(self, include_dlq: bool = True) -> list[str]:
        """Every topic: the five contexts, inbound leads, and (by default) their DLQs."""
        topics = [self.name(c) for c in (*CONTEXTS, INBOUND_LEADS)]
        if include_dlq:
            topics += [self.dlq(t) for t in topics]
        return topics

    def __repr__(self) -> str:
        return f"TopicRegistry(prefix={self.prefix!r})"
