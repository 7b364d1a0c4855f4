"""Kafka topic names of the public contract.

Topics are `<prefix><context>` for the six contexts, `<prefix>inbound.leads` for raw lead
submissions from outside (JSON or ADF XML), and `<topic>.dlq` as each topic's dead-letter
topic. The prefix defaults to "dealerflow." and is configurable (tests use a unique prefix
per test, e.g. "t1a2b3c4d.dealerflow.").

`TOPIC_CONFIGS` and `topic_config` are the one place that says how topics are kept:
`<prefix>dealers` is log-compacted (the latest configuration of every dealer stays, keyed
by dealer id, so a service that starts from scratch reads every dealer's configuration);
every other topic deletes its records after `EVENT_RETENTION_MS` (7 days) and every
dead-letter topic after `DLQ_RETENTION_MS` (14 days), set on the topic rather than left to
the broker's default, because events carry customers' contact snapshots and an erased
customer's data may stay on Kafka no longer than that (docs/security.md, "Personal data").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from dealerflow.contracts.events import EVENTS_BY_CONTEXT
from dealerflow.contracts.events.base import CONTEXTS, DomainEvent

__all__ = [
    "CONTEXTS",
    "DEFAULT_PARTITIONS",
    "DLQ_RETENTION_MS",
    "DLQ_SUFFIX",
    "EVENT_RETENTION_MS",
    "INBOUND_LEADS",
    "TOPIC_CONFIGS",
    "TopicRegistry",
    "topic_config",
    "topic_key",
]

DEFAULT_PARTITIONS: int = 6
"""Partitions per topic unless a deployment says otherwise (consumer parallelism bound)."""

INBOUND_LEADS = "inbound.leads"
"""Pseudo-context of the raw lead submission topic."""

DLQ_SUFFIX = ".dlq"

_DAY_MS = 24 * 60 * 60 * 1000

EVENT_RETENTION_MS: int = 7 * _DAY_MS
"""How long an event (or raw lead submission) stays on its topic."""
DLQ_RETENTION_MS: int = 14 * _DAY_MS
"""How long a dead letter stays on its DLQ topic: time to fix and replay it."""

_EVENTS: Mapping[str, str] = MappingProxyType({"retention.ms": str(EVENT_RETENTION_MS)})
_DEAD_LETTERS: Mapping[str, str] = MappingProxyType({"retention.ms": str(DLQ_RETENTION_MS)})

TOPIC_CONFIGS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "dealers": MappingProxyType(
            {
                "cleanup.policy": "compact",
                # Only closed segments are compacted: roll daily (the default is a week) so
                # superseded configurations go within a day or two on a quiet topic.
                "segment.ms": str(_DAY_MS),
                # Every change stays readable for an hour before it may be compacted away,
                # so a consumer that is only a little behind still sees each version.
                "min.compaction.lag.ms": str(60 * 60 * 1000),
            }
        ),
    }
)
"""Kafka topic configuration of the contexts whose topic is not kept by time."""


def topic_config(context: str) -> Mapping[str, str]:
    """Topic configuration of a context's topic (`TOPIC_CONFIGS`, else deleted after
    `EVENT_RETENTION_MS`)."""
    if context not in CONTEXTS and context != INBOUND_LEADS:
        raise ValueError(f"unknown context {context!r}; expected one of {CONTEXTS}")
    return TOPIC_CONFIGS.get(context, _EVENTS)


def topic_key(context: str) -> str:
    """The payload field whose value is the Kafka key on a context's topic: `customer_id`
    (one customer's events keep their order), `dealer_id` on the dealers topic (compaction
    keeps each dealer's latest configuration). Raw inbound leads have no contract key."""
    if context not in CONTEXTS:
        raise ValueError(f"unknown context {context!r}; expected one of {CONTEXTS}")
    (field,) = {cls.key_field for cls in EVENTS_BY_CONTEXT[context]}
    return field


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

    def config(self, topic: str) -> Mapping[str, str]:
        """Topic configuration of one of this registry's topics (`topic_config` of its
        context; dead-letter topics are deleted after `DLQ_RETENTION_MS`, never compacted)."""
        if topic.endswith(DLQ_SUFFIX):
            self.context_of(topic.removesuffix(DLQ_SUFFIX))  # refuse foreign topics
            return _DEAD_LETTERS
        return topic_config(self.context_of(topic))

    def configs(self, include_dlq: bool = True) -> dict[str, Mapping[str, str]]:
        """Every topic of `all` that needs a configuration of its own, with it."""
        configs = {topic: self.config(topic) for topic in self.all(include_dlq=include_dlq)}
        return {topic: config for topic, config in configs.items() if config}

    def all(self, include_dlq: bool = True) -> list[str]:
        """Every topic: the six contexts, inbound leads, and (by default) their DLQs."""
        topics = [self.name(c) for c in (*CONTEXTS, INBOUND_LEADS)]
        if include_dlq:
            topics += [self.dlq(t) for t in topics]
        return topics

    def __repr__(self) -> str:
        return f"TopicRegistry(prefix={self.prefix!r})"
