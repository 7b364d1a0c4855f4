"""Kafka topic administration: create the catalogue's topics idempotently, describe them
(and describe a consumer group: which member reads which partitions).

The migration job (``dealerflow-topics create``, compose ``init``, the Kubernetes Job) and
the development tooling (``dealerflow-infra up``, the test fixtures) create topics through
this one module. Names and per-topic configuration (the dealers topic is log-compacted)
come from ``dealerflow.contracts.topics.TopicRegistry``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

from dealerflow.contracts.topics import DEFAULT_PARTITIONS, TopicRegistry

__all__ = [
    "DEFAULT_PREFIX",
    "GroupAssignment",
    "TopicAdminError",
    "admin_client",
    "catalogue_topics",
    "create_catalogue_topics",
    "default_partitions",
    "default_replication_factor",
    "describe_group",
    "describe_topic_configs",
    "describe_topics",
    "ensure_topics",
]

DEFAULT_PREFIX = "dealerflow."

# Kafka error codes that mean "the topic is there" when creating it.
_TOPIC_ALREADY_EXISTS = 36
_OK = 0


class TopicAdminError(RuntimeError):
    """Kafka is unreachable, refused a topic, or a setting is not a positive number."""


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise TopicAdminError(f"{name}={raw!r} is not a number") from None
    if value < 1:
        raise TopicAdminError(f"{name} must be at least 1")
    return value


def default_partitions(env: Mapping[str, str] | None = None) -> int:
    """$DEALERFLOW_TOPIC_PARTITIONS, else ``dealerflow.contracts.topics.DEFAULT_PARTITIONS``."""
    return _positive(
        os.environ if env is None else env, "DEALERFLOW_TOPIC_PARTITIONS", DEFAULT_PARTITIONS
    )


def default_replication_factor(env: Mapping[str, str] | None = None) -> int:
    """$DEALERFLOW_TOPIC_REPLICATION_FACTOR, else 1 (a single development broker)."""
    return _positive(os.environ if env is None else env, "DEALERFLOW_TOPIC_REPLICATION_FACTOR", 1)


def catalogue_topics(prefix: str = DEFAULT_PREFIX, *, include_dlq: bool = True) -> list[str]:
    """Every topic of the public contract for ``prefix`` (contexts, inbound, DLQs)."""
    return list(TopicRegistry(prefix).all(include_dlq=include_dlq))


@asynccontextmanager
async def admin_client(
    bootstrap: str, *, timeout_s: float = 30.0, client_options: Mapping[str, Any] | None = None
) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started admin client, closed on exit; unreachable Kafka is a TopicAdminError.

    ``client_options``: SASL/TLS arguments (:func:`dealerflow.runtime.kafka_security.
    kafka_client_options`); every function of this module passes its own on.
    """
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=int(timeout_s * 1000),
        **(client_options or {}),
    )
    try:
        await admin.start()
    except Exception as exc:  # aiokafka raises its own error types, or OSError
        await admin.close()
        raise TopicAdminError(f"cannot reach Kafka at {bootstrap}: {exc!r}") from exc
    try:
        yield admin
    finally:
        await admin.close()


async def ensure_topics(
    bootstrap: str,
    names: Iterable[str],
    *,
    partitions: int,
    replication_factor: int = 1,
    configs: Mapping[str, Mapping[str, str]] | None = None,
    timeout_s: float = 30.0,
    client_options: Mapping[str, Any] | None = None,
) -> list[str]:
    """Create the topics that do not exist yet; return the names actually created.

    ``configs`` holds topic configuration by name (``TopicRegistry.configs()``, e.g.
    ``cleanup.policy=compact``); names it does not list get the broker's defaults. Safe to
    run concurrently: "already exists" counts as success. Waits until the new topics show
    up in metadata so that producers can use them right away. Existing topics are left as
    they are (neither their partition count nor their configuration is changed).
    """
    per_topic = configs or {}
    wanted = list(dict.fromkeys(names))
    async with admin_client(bootstrap, timeout_s=timeout_s, client_options=client_options) as admin:
        existing = set(await admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [
                NewTopic(
                    name,
                    partitions,
                    replication_factor,
                    topic_configs=dict(per_topic.get(name, {})),
                )
                for name in missing
            ],
            timeout_ms=int(timeout_s * 1000),
        )
        created: list[str] = []
        for error in response.topic_errors:
            name, code = error[0], error[1]
            message = error[2] if len(error) > 2 else ""
            if code == _OK:
                created.append(name)
            elif code != _TOPIC_ALREADY_EXISTS:
                raise TopicAdminError(f"creating topic {name!r} failed: error {code} {message}")
        await _wait_visible(admin, missing, timeout_s)
        return created


async def describe_topics(
    bootstrap: str,
    names: Iterable[str],
    *,
    timeout_s: float = 30.0,
    client_options: Mapping[str, Any] | None = None,
) -> dict[str, int | None]:
    """Partition count of each topic in ``names``; None for a topic that does not exist."""
    wanted = list(dict.fromkeys(names))
    async with admin_client(bootstrap, timeout_s=timeout_s, client_options=client_options) as admin:
        existing = set(await admin.list_topics())
        present = [name for name in wanted if name in existing]
        counts = _partition_counts(await admin.describe_topics(present)) if present else {}
    return {name: counts.get(name) for name in wanted}


async def describe_topic_configs(
    bootstrap: str,
    names: Iterable[str],
    keys: Iterable[str],
    *,
    timeout_s: float = 30.0,
    client_options: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, str]]:
    """The values of the configuration ``keys`` of each existing topic in ``names``
    (defaults included); topics that do not exist are left out."""
    wanted = list(dict.fromkeys(names))
    filter_keys = dict.fromkeys(keys, "")  # describe only these keys
    async with admin_client(bootstrap, timeout_s=timeout_s, client_options=client_options) as admin:
        existing = set(await admin.list_topics())
        present = [name for name in wanted if name in existing]
        if not present:
            return {}
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name, filter_keys) for name in present]
        )
    found: dict[str, dict[str, str]] = {}
    for response in responses:
        for error_code, message, _type, name, entries, *_ in response.resources:
            if error_code != _OK:
                raise TopicAdminError(f"describing {name!r} failed: error {error_code} {message}")
            found[name] = {entry[0]: entry[1] for entry in entries}
    return {name: found[name] for name in present if name in found}


@dataclass(frozen=True)
class GroupAssignment:
    """A consumer group as its coordinator describes it: its state (``Stable``,
    ``PreparingRebalance``, ``CompletingRebalance``, ``Empty``, ``Dead``) and the
    partitions each member was assigned, by topic."""

    group_id: str
    state: str
    #: member id -> topic -> partitions (sorted)
    members: Mapping[str, Mapping[str, tuple[int, ...]]]

    def readers_of(self, topic: str) -> int:
        """How many members read at least one partition of ``topic``."""
        return sum(1 for topics in self.members.values() if topics.get(topic))

    def balanced_on(self, topic: str, members: int) -> bool:
        """Stable with exactly ``members`` members, each reading a partition of ``topic``
        (a group's members beyond the partitions of a topic read none of it)."""
        return (
            self.state == "Stable"
            and len(self.members) == members
            and self.readers_of(topic) == members
        )


async def describe_group(
    bootstrap: str,
    group_id: str,
    *,
    timeout_s: float = 30.0,
    client_options: Mapping[str, Any] | None = None,
) -> GroupAssignment:
    """The state and the members' assignments of the consumer group ``group_id`` (an
    unknown group is ``Dead`` with no members)."""
    async with admin_client(bootstrap, timeout_s=timeout_s, client_options=client_options) as admin:
        [response] = await admin.describe_consumer_groups([group_id])
    # DescribeGroups v0-v3: (error_code, group, state, protocol_type, protocol, members,
    # ...), each member (member_id, client_id, client_host, metadata, assignment)
    [(error_code, _, state, _, _, described, *_)] = response.groups
    if error_code != _OK:
        raise TopicAdminError(f"describing group {group_id!r} failed: error {error_code}")
    members: dict[str, dict[str, tuple[int, ...]]] = {}
    for member_id, _, _, _, raw, *_ in described:
        assigned = ConsumerProtocolMemberAssignment.decode(raw).assignment if raw else []
        members[member_id] = {topic: tuple(sorted(partitions)) for topic, partitions in assigned}
    return GroupAssignment(group_id=group_id, state=state, members=members)


async def create_catalogue_topics(
    bootstrap: str,
    prefix: str = DEFAULT_PREFIX,
    *,
    partitions: int | None = None,
    replication_factor: int | None = None,
    client_options: Mapping[str, Any] | None = None,
) -> list[str]:
    """Create every topic of ``TopicRegistry(prefix).all()`` with its configuration
    (``TopicRegistry.configs``: the dealers topic log-compacted); return those created.

    Partitions and replication factor default to $DEALERFLOW_TOPIC_PARTITIONS and
    $DEALERFLOW_TOPIC_REPLICATION_FACTOR (see :func:`default_partitions`).
    """
    return await ensure_topics(
        bootstrap,
        catalogue_topics(prefix),
        partitions=partitions or default_partitions(),
        replication_factor=replication_factor or default_replication_factor(),
        configs=TopicRegistry(prefix).configs(),
        client_options=client_options,
    )


def _partition_counts(described: Iterable[Mapping[str, object]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for topic in described:
        partitions = topic.get("partitions")
        if topic.get("error_code", 0) == _OK and isinstance(partitions, list) and partitions:
            counts[str(topic["topic"])] = len(partitions)
    return counts


async def _wait_visible(admin: AIOKafkaAdminClient, names: list[str], timeout_s: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        ready = set(_partition_counts(await admin.describe_topics(names)))
        if ready >= set(names):
            return
        if loop.time() > deadline:
            raise TopicAdminError(
                f"topics not visible after {timeout_s:.0f}s: {sorted(set(names) - ready)}"
            )
        await asyncio.sleep(0.1)
