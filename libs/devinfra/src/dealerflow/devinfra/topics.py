"""Create dealerflow's Kafka topics (idempotently)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Mapping

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from dealerflow.devinfra.config import InfraError

# Kafka error codes that mean "the topic is there" when creating it.
_TOPIC_ALREADY_EXISTS = 36
_OK = 0


def default_partitions(env: Mapping[str, str] | None = None) -> int:
    """$DEALERFLOW_TOPIC_PARTITIONS, else ``dealerflow.contracts.topics.DEFAULT_PARTITIONS``."""
    env = os.environ if env is None else env
    raw = env.get("DEALERFLOW_TOPIC_PARTITIONS")
    if raw:
        try:
            value = int(raw)
        except ValueError:
            raise InfraError(f"DEALERFLOW_TOPIC_PARTITIONS={raw!r} is not a number") from None
        if value < 1:
            raise InfraError("DEALERFLOW_TOPIC_PARTITIONS must be at least 1")
        return value
    from dealerflow.contracts.topics import DEFAULT_PARTITIONS

    return DEFAULT_PARTITIONS


def catalogue_topics(prefix: str = "dealerflow.", *, include_dlq: bool = True) -> list[str]:
    """Every topic of the public contract for ``prefix`` (contexts, inbound, DLQs)."""
    from dealerflow.contracts.topics import TopicRegistry

    return list(TopicRegistry(prefix).all(include_dlq=include_dlq))


async def ensure_topics(
    bootstrap: str,
    names: Iterable[str],
    *,
    partitions: int,
    replication_factor: int = 1,
    timeout_s: float = 30.0,
) -> list[str]:
    """Create the topics that do not exist yet; return the names actually created.

    Safe to run concurrently: "already exists" counts as success. Waits until the new
    topics show up in metadata so that producers can use them right away.
    """
    wanted = list(dict.fromkeys(names))
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        await admin.start()
    except Exception as exc:  # aiokafka raises its own error types, or OSError
        await admin.close()
        raise InfraError(f"cannot reach Kafka at {bootstrap}: {exc!r}") from exc
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [NewTopic(name, partitions, replication_factor) for name in missing],
            timeout_ms=int(timeout_s * 1000),
        )
        created: list[str] = []
        for error in response.topic_errors:
            name, code = error[0], error[1]
            message = error[2] if len(error) > 2 else ""
            if code == _OK:
                created.append(name)
            elif code != _TOPIC_ALREADY_EXISTS:
                raise InfraError(f"creating topic {name!r} failed: error {code} {message}")
        await _wait_visible(admin, missing, timeout_s)
        return created
    finally:
        await admin.close()


async def delete_topics_with_prefixes(
    bootstrap: str, prefixes: Iterable[str], *, timeout_s: float = 30.0
) -> int:
    """Delete every topic whose name starts with one of ``prefixes``; return how many.

    Tests give each run its own prefixes; deleting their topics afterwards keeps a
    long-lived test broker from accumulating partitions (each one holds open files).
    """
    wanted = tuple(prefixes)
    if not wanted:
        return 0
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000)
    )
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if t.startswith(wanted)]
        for start in range(0, len(doomed), 200):
            await admin.delete_topics(doomed[start : start + 200], timeout_ms=int(timeout_s * 1000))
        return len(doomed)
    finally:
        await admin.close()


async def _wait_visible(admin: AIOKafkaAdminClient, names: list[str], timeout_s: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        described = await admin.describe_topics(names)
        ready = {
            topic["topic"]
            for topic in described
            if topic.get("error_code", 0) == _OK and topic.get("partitions")
        }
        if ready >= set(names):
            return
        if loop.time() > deadline:
            raise InfraError(f"topics not visible after {timeout_s:.0f}s: {set(names) - ready}")
        await asyncio.sleep(0.1)


async def create_catalogue_topics(
    bootstrap: str,
    prefix: str = "dealerflow.",
    *,
    partitions: int | None = None,
    replication_factor: int = 1,
) -> list[str]:
    """Create every topic of ``TopicRegistry(prefix).all()``; return those created."""
    return await ensure_topics(
        bootstrap,
        catalogue_topics(prefix),
        partitions=partitions or default_partitions(),
        replication_factor=replication_factor,
    )
