"""The six services as separate processes on real Kafka and PostgreSQL.

One stack per test session: its own topic prefix and schema prefix, so it never sees
another run's data, and an accelerated clock shared by all six services (they anchor it
on the same start instant, so they agree on "now"). Each test uses its own dealer id.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from dealerflow.contracts.topics import TopicRegistry
from dealerflow.devinfra.client import DealerflowClient
from dealerflow.devinfra.config import app_dsn
from dealerflow.devinfra.issuer import DevIssuer
from dealerflow.devinfra.pytest_plugin import register_topic_prefix
from dealerflow.devinfra.services import (
    DEV_CHANNEL_ENV,
    SERVICES,
    ProcessHandle,
    StackConfig,
    restart_services,
    running_stack,
)

# 1 real second = 2 hours of schedule: a 24 h callback falls due after 12 s, a 3-day
# follow-up after 36 s. Online first-contact SLAs (15 business minutes) breach at once.
#: The test profile's development issuer: the services trust it, the clients use it.
ISSUER = DevIssuer.for_profile("test")

CLOCK_SPEED = float(os.environ.get("DEALERFLOW_E2E_CLOCK_SPEED", "7200"))


@dataclass(frozen=True)
class Stack:
    """What tests need to talk to the running system."""

    config: StackConfig
    urls: dict[str, str]
    topics: TopicRegistry
    kafka_bootstrap: str
    log_dir: Path
    clock_start: datetime
    clock_speed: float
    handles: dict[str, ProcessHandle]

    def now(self) -> datetime:
        """The services' (accelerated) clock, computed the same way they do."""
        real = datetime.now(UTC)
        return self.clock_start + (real - self.clock_start) * self.clock_speed

    def real_seconds_until(self, when: datetime) -> float:
        """Wall seconds until the services' clock reaches ``when``."""
        return max(0.0, (when - self.now()).total_seconds() / self.clock_speed)

    async def configuration_seen(
        self, dealer_id: str, version: int, services: tuple[str, ...] | None = None
    ) -> bool | None:
        """True once each named service (every one when none is named) has materialised
        the dealer's configuration ``version`` (its ``dealer_configurations`` row)."""
        conn = await asyncpg.connect(self.config.pg_dsn)
        try:
            for spec in SERVICES:
                if services is not None and spec.name not in services:
                    continue
                found = await conn.fetchval(
                    f'SELECT configuration_version FROM "{self.config.schema(spec)}"'
                    ".dealer_configurations WHERE dealer_id = $1",
                    dealer_id,
                )
                if found != version:
                    return None
            return True
        finally:
            await conn.close()

    def restart(self, *names: str) -> None:
        """Stop and start again the named services (all when none is named)."""
        restart_services(self.config, self.handles, list(names) or None, timeout_s=120)

    def logs(self) -> str:
        """The tail of every service log (attached to failures)."""
        parts = []
        for spec in SERVICES:
            path = self.log_dir / f"{spec.name}.log"
            text = path.read_text("utf-8", "replace") if path.exists() else ""
            parts.append(f"----- {spec.name} -----\n" + "\n".join(text.splitlines()[-40:]))
        return "\n".join(parts)


def _free_ports(count: int) -> list[int]:
    import socket

    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@contextlib.asynccontextmanager
async def started_stack(
    kafka_bootstrap: str,
    pg_dsn: str,
    log_dir: Path,
    extra_env: Mapping[str, str] | None = None,
) -> AsyncIterator[Stack]:
    """Start the six services (migrated, topics created) with a run id of their own;
    ``extra_env`` over the suite's settings (e.g. a stack that refuses unknown dealers)."""
    from dealerflow.runtime.kafka_admin import create_catalogue_topics

    run = uuid.uuid4().hex[:8]
    prefix = register_topic_prefix(f"e2e{run}.dealerflow.")
    topics = TopicRegistry(prefix)
    await create_catalogue_topics(kafka_bootstrap, prefix, partitions=3)
    clock_start = datetime.now(UTC).replace(microsecond=0)
    ports = dict(zip([s.name for s in SERVICES], _free_ports(len(SERVICES)), strict=True))
    config = StackConfig(
        kafka_bootstrap=kafka_bootstrap,
        pg_dsn=pg_dsn,
        pg_app_dsn=app_dsn(pg_dsn),  # services run as the non-owner role: RLS holds
        topic_prefix=prefix,
        schema_prefix=f"e2e{run}_",
        ports=ports,
        clock_speed=CLOCK_SPEED,
        clock_start=clock_start.isoformat(),
        auth_env=ISSUER.environment(),
        extra_env={
            "DEALERFLOW_TIMER_POLL_INTERVAL_S": "0.2",
            "DEALERFLOW_RELAY_POLL_INTERVAL_S": "0.2",
            "DEALERFLOW_CONSUMER_BATCH_TIMEOUT_MS": "50",
            "DEALERFLOW_LOG_LEVEL": "INFO",
            **DEV_CHANNEL_ENV,  # the notifier's drivers, set explicitly: recording
            **(extra_env or {}),
        },
    )
    with running_stack(config, log_dir, timeout_s=120) as handles:
        yield Stack(
            config=config,
            urls={s.name: config.url(s) for s in SERVICES},
            topics=topics,
            kafka_bootstrap=kafka_bootstrap,
            log_dir=log_dir,
            clock_start=clock_start,
            clock_speed=CLOCK_SPEED,
            handles=handles,
        )


@pytest.fixture(scope="session")
async def stack(
    kafka_bootstrap: str, pg_dsn: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """Start the six services (migrated, topics created) for the whole session."""
    log_dir = tmp_path_factory.mktemp("e2e-logs")
    async with started_stack(kafka_bootstrap, pg_dsn, log_dir) as started:
        yield started


@pytest.fixture
def dealer_id() -> str:
    """A dealer of its own for each test, so tests never see each other's rows."""
    return f"dealer-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def client(stack: Stack) -> AsyncIterator[DealerflowClient]:
    """The scenario client (HTTP to the services, an outside producer on Kafka)."""
    token = ISSUER.token(sub="e2e-admin", roles=["admin"], dealers=["*"])
    async with DealerflowClient(
        stack.urls, kafka_bootstrap=stack.kafka_bootstrap, topics=stack.topics, token=token
    ) as dealerflow:
        yield dealerflow


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[pytest.TestReport]:
    """Attach the services' logs to a failed end-to-end test."""
    report: pytest.TestReport = yield
    funcargs = getattr(item, "funcargs", {})
    stack = funcargs.get("stack", funcargs.get("refusing_stack"))
    if report.failed and isinstance(stack, Stack):
        report.sections.append(("service logs", stack.logs()))
    return report
