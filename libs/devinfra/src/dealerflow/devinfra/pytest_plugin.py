"""pytest fixtures that hand tests real Kafka and PostgreSQL.

Where the infrastructure comes from, per server, first match wins:

1. ``DEALERFLOW_KAFKA_BOOTSTRAP`` / ``DEALERFLOW_PG_DSN`` when set (``make test`` sets
   them to the native ``test`` profile it started);
2. testcontainers (``apache/kafka`` in KRaft mode, ``postgres``) when a Docker engine
   answers;
3. the native ``test`` profile of ``dealerflow-infra`` (Kafka 127.0.0.1:19092, PostgreSQL
   127.0.0.1:15432 by default), started if it is not running and left running for the
   next session (``dealerflow-infra down --profile test`` or ``make down`` stops it).

``DEALERFLOW_TEST_INFRA=docker|native`` forces 2 or 3. A fixture that cannot get its
server fails the test with the reason; it never skips.

PostgreSQL: ``pg_dsn`` is the owner's DSN (``DEALERFLOW_PG_MIGRATION_DSN`` when set, as
``dealerflow-infra env`` prints it, else ``DEALERFLOW_PG_DSN``): tests create schemas and
migrate with it. ``pg_app_dsn`` is the same server as the non-owner application role
(created when missing), which row-level security applies to.

Like the dev and test profiles, a test session answers events of dealers with no
materialised configuration with the defaults (``DEALERFLOW_UNKNOWN_DEALERS=defaults``
unless set); a test of the refusal passes ``unknown_dealers="refuse"``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any

import asyncpg
import pytest

from dealerflow.contracts.topics import TopicRegistry
from dealerflow.devinfra import kafka as native_kafka
from dealerflow.devinfra import postgres as native_postgres
from dealerflow.devinfra.config import InfraError, app_dsn, resolve_config
from dealerflow.devinfra.proc import run_coroutine
from dealerflow.devinfra.versions import KAFKA_IMAGE, POSTGRES_IMAGE
from dealerflow.runtime.kafka_admin import admin_client, ensure_topics

ENV_KAFKA = "DEALERFLOW_KAFKA_BOOTSTRAP"
ENV_PG = "DEALERFLOW_PG_DSN"
ENV_PG_OWNER = "DEALERFLOW_PG_MIGRATION_DSN"
ENV_MODE = "DEALERFLOW_TEST_INFRA"

TopicCreator = Callable[..., Awaitable[None]]
"""Type of the ``create_topics`` fixture: ``await create_topics(*names, partitions=3)``."""

# What each session fixture ended up using, shown in the terminal summary.
_SOURCES: dict[str, str] = {}


def _progress(message: str) -> None:
    # Long first-time steps (Maven download, apt-get) must be visible despite capture.
    stream = sys.__stderr__ or sys.stderr
    print(f"\ndealerflow-devinfra: {message}", file=stream, flush=True)


def _mode() -> str:
    mode = os.environ.get(ENV_MODE, "auto").strip().lower() or "auto"
    if mode not in ("auto", "docker", "native"):
        pytest.fail(f"{ENV_MODE}={mode!r}: use auto, docker or native", pytrace=False)
    return mode


def docker_engine_answers() -> bool:
    """True when testcontainers is installed and a Docker engine answers a ping."""
    try:
        from testcontainers.core.docker_client import DockerClient
    except ImportError:
        return False
    try:
        return bool(DockerClient().client.ping())
    except Exception:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _kafka_container() -> Iterator[str]:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.docker_client import DockerClient

    # The advertised listener must name the host port, so the port is chosen up front.
    host, port = DockerClient().host(), _free_port()
    container = DockerContainer(KAFKA_IMAGE).with_bind_ports(9092, port)
    for key, value in {
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": "PLAINTEXT://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093",
        "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://{host}:{port}",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
        "KAFKA_NUM_PARTITIONS": "3",
    }.items():
        container.with_env(key, value)
    container.start()
    try:
        bootstrap = f"{host}:{port}"
        deadline = time.monotonic() + 120
        while not native_kafka.broker_answers(bootstrap, timeout_s=2.0):
            if time.monotonic() > deadline:
                raise InfraError(f"{KAFKA_IMAGE} did not answer at {bootstrap}")
            time.sleep(0.5)
        yield bootstrap
    finally:
        container.stop()


@contextlib.contextmanager
def _postgres_container() -> Iterator[str]:
    from testcontainers.community.postgres import PostgresContainer

    container = PostgresContainer(
        POSTGRES_IMAGE, username="postgres", password="postgres", dbname="dealerflow", driver=None
    )
    container.start()
    try:
        yield str(container.get_connection_url())
    finally:
        container.stop()


@contextlib.contextmanager
def _provide(kind: str, sources: dict[str, str]) -> Iterator[str]:
    """Yield a bootstrap address (kind "kafka") or a DSN (kind "postgres").

    ``sources[kind]`` records where it came from, for the terminal summary.
    """
    env_name = ENV_KAFKA if kind == "kafka" else ENV_PG
    from_env = os.environ.get(env_name)
    if kind == "postgres" and os.environ.get(ENV_PG_OWNER):
        env_name = ENV_PG_OWNER  # the owner: tests create schemas and migrate
        from_env = os.environ[env_name]
    if from_env:
        sources[kind] = f"{from_env} (from {env_name})"
        yield from_env
        return
    mode = _mode()
    reasons: list[str] = []
    if mode in ("auto", "docker"):
        if docker_engine_answers():
            starter = _kafka_container if kind == "kafka" else _postgres_container
            image = KAFKA_IMAGE if kind == "kafka" else POSTGRES_IMAGE
            stack = contextlib.ExitStack()
            try:
                address = stack.enter_context(starter())
            except Exception as exc:  # e.g. the image cannot be pulled: try native next
                reasons.append(f"testcontainers {image} failed: {exc!r}")
            else:
                sources[kind] = f"{address} (testcontainers {image})"
                with stack:
                    yield address
                return
        else:
            reasons.append("no Docker engine answers")
        if mode == "docker":
            pytest.fail(f"no {kind}: {'; '.join(reasons)}", pytrace=False)
    cfg = resolve_config("test")
    try:
        if kind == "kafka":
            native_kafka.start(cfg, progress=_progress)
            address = cfg.kafka_bootstrap
        else:
            native_postgres.start(cfg, progress=_progress)
            address = cfg.pg_dsn
    except InfraError as exc:
        reasons.append(f"native test profile failed: {exc}")
        pytest.fail(
            f"no {kind} for tests: set {env_name}, run a Docker engine, or fix the native "
            f"runner ({'; '.join(reasons)})",
            pytrace=False,
        )
    sources[kind] = (
        f"{address} (native test profile, state {cfg.state_dir}; left running, "
        "`dealerflow-infra down --profile test` stops it)"
    )
    yield address


#: Topic prefixes handed out in this session; their topics are deleted at its end.
_TOPIC_PREFIXES: set[str] = set()


def register_topic_prefix(prefix: str) -> str:
    """Have this session delete the topics starting with ``prefix`` when it ends."""
    _TOPIC_PREFIXES.add(prefix)
    return prefix


async def delete_topics_with_prefixes(bootstrap: str, prefixes: Iterable[str]) -> int:
    """Delete every topic whose name starts with one of ``prefixes``; return how many.

    Tests give each run its own prefixes; deleting their topics afterwards keeps a
    long-lived test broker from accumulating partitions (each one holds open files).
    """
    wanted = tuple(prefixes)
    if not wanted:
        return 0
    async with admin_client(bootstrap) as admin:
        doomed = [t for t in await admin.list_topics() if t.startswith(wanted)]
        for start in range(0, len(doomed), 200):
            await admin.delete_topics(doomed[start : start + 200], timeout_ms=30_000)
    return len(doomed)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap servers of a real Kafka broker for the whole session.

    At the end of the session the topics of every registered prefix are deleted, so a
    broker reused across runs (the native test profile) does not pile up partitions.
    """
    with _provide("kafka", _SOURCES) as address:
        yield address
        if _TOPIC_PREFIXES:
            try:
                deleted = run_coroutine(
                    lambda: delete_topics_with_prefixes(address, sorted(_TOPIC_PREFIXES))
                )
                _progress(f"deleted {deleted} test topics")
            except Exception as exc:  # cleanup must not turn a green run red
                _progress(f"could not delete test topics: {exc!r}")


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """DSN of a real PostgreSQL database for the whole session (tests use own schemas)."""
    with _provide("postgres", _SOURCES) as dsn:
        yield dsn


@pytest.fixture(scope="session")
def pg_app_dsn(pg_dsn: str) -> str:
    """DSN of the same database as the application role (not the schemas' owner; row-level
    security applies to it); the role is created when the server lacks it."""
    run_coroutine(lambda: native_postgres.ensure_app_role(pg_dsn))
    return app_dsn(pg_dsn)


@pytest.fixture
async def pg_schema(pg_dsn: str) -> AsyncIterator[str]:
    """A fresh schema for one test, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute(f'CREATE SCHEMA "{name}"')
        yield name
        await conn.execute(f'DROP SCHEMA "{name}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture
async def pg_pool(pg_dsn: str, pg_schema: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool whose connections use the test's own schema as search_path."""
    pool = await asyncpg.create_pool(
        pg_dsn, min_size=1, max_size=10, server_settings={"search_path": pg_schema}
    )
    assert pool is not None
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def topic_prefix() -> str:
    """A topic prefix unique to one test, e.g. ``t3f9a1c2b.dealerflow.``."""
    return register_topic_prefix(f"t{uuid.uuid4().hex[:8]}.dealerflow.")


@pytest.fixture
def create_topics(kafka_bootstrap: str, topic_prefix: str) -> TopicCreator:
    """``await create_topics(*names, partitions=3)``: create topics idempotently; the
    catalogue topics under the test's ``topic_prefix`` get their contract configuration
    (the dealers topic is log-compacted)."""
    configs = TopicRegistry(topic_prefix).configs()

    async def _create(*names: str, partitions: int = 3) -> None:
        await ensure_topics(kafka_bootstrap, names, partitions=partitions, configs=configs)

    return _create


def pytest_configure(config: Any) -> None:
    """Test-profile defaults for settings the services read from the environment."""
    os.environ.setdefault("DEALERFLOW_UNKNOWN_DEALERS", "defaults")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say which Kafka and PostgreSQL the session used."""
    for kind, source in sorted(_SOURCES.items()):
        terminalreporter.write_line(f"dealerflow infra: {kind} = {source}")
