"""Every client connects with SASL/SCRAM (and TLS) through kafka_client_options, and the
ACLs of runtime.kafka_acls hold, against a real broker that requires them.

The broker is a separate KRaft instance (devinfra.secure_kafka: the test profile's jars,
its own ports) with SCRAM-SHA-512 on SASL_PLAINTEXT and SASL_SSL and KRaft's
StandardAuthorizer; it is started once for this module and must start (never skipped).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError
from prometheus_client import CollectorRegistry

from dealerflow.devinfra.config import resolve_config
from dealerflow.devinfra.secure_kafka import SecureBroker, add_acls, running_secure_broker
from dealerflow.runtime.broker import attach_consumer, create_broker
from dealerflow.runtime.dlq import read_dead_letters
from dealerflow.runtime.kafka_acls import acl_table, principal_names
from dealerflow.runtime.kafka_admin import catalogue_topics, describe_topics, ensure_topics
from dealerflow.runtime.kafka_security import kafka_client_options
from dealerflow.runtime.migrations import migrate, runtime_migrations
from dealerflow.runtime.outbox import OutboxMessage, enqueue
from dealerflow.runtime.relay import OutboxRelay
from dealerflow.runtime.settings import ServiceSettings

pytestmark = pytest.mark.integration

PREFIX = f"s{uuid.uuid4().hex[:8]}.dealerflow."


@pytest.fixture(scope="session")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    """The SCRAM/TLS broker with every principal of the ACL table and its ACLs for
    :data:`PREFIX`, plus one user with no ACLs at all."""
    directory = tmp_path_factory.mktemp("secure-kafka")
    users = [*principal_names(), "nobody"]
    with running_secure_broker(resolve_config("test"), directory, users) as broker:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(
                ensure_topics(broker.plaintext_bootstrap, catalogue_topics(PREFIX), partitions=1)
            )
            loop.run_until_complete(add_acls(broker.plaintext_bootstrap, acl_table(PREFIX)))
        finally:
            loop.close()
        yield broker


def settings_of(
    broker: SecureBroker,
    user: str,
    *,
    password: str | None = None,
    tls: bool = False,
    **values: Any,
) -> ServiceSettings:
    """A service's settings for ``user`` on the SASL_PLAINTEXT (or SASL_SSL) listener."""
    return ServiceSettings(
        kafka_bootstrap=broker.ssl_bootstrap if tls else broker.sasl_bootstrap,
        kafka_security_protocol="SASL_SSL" if tls else "SASL_PLAINTEXT",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username=user,
        kafka_sasl_password=password or broker.users[user],
        kafka_ssl_cafile=str(broker.tls.ca) if tls else None,
        topic_prefix=PREFIX,
        consumer_batch_timeout_ms=50,
        **values,
    )


@contextlib.asynccontextmanager
async def producer_of(
    settings: ServiceSettings, *, idempotent: bool = True
) -> AsyncIterator[AIOKafkaProducer]:
    """A producer like the relay's (idempotent: the principal needs Write on a topic)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        enable_idempotence=idempotent,
        acks="all",
        request_timeout_ms=10_000,
        **kafka_client_options(settings),
    )
    try:
        await producer.start()
    except BaseException:
        await producer.stop()
        raise
    try:
        yield producer
    finally:
        await producer.stop()


class Collector:
    """A BatchProcessor that keeps what it is handed."""

    def __init__(self, name: str, settings: ServiceSettings) -> None:
        self.name = name
        self.settings = settings
        self.values: list[bytes] = []
        self.arrived = asyncio.Event()

    async def process_batch(self, records: Any) -> None:
        self.values += [record.value for record in records]
        self.arrived.set()


async def consume_until(collector: Collector, wanted: bytes, settings: ServiceSettings) -> None:
    broker = create_broker(settings, registry=CollectorRegistry())
    attach_consumer(
        broker, collector, f"{PREFIX}sales", group_id=f"{PREFIX}{settings.service_name}.sales"
    )
    await broker.start()
    try:
        while wanted not in collector.values:
            collector.arrived.clear()
            await asyncio.wait_for(collector.arrived.wait(), timeout=60)
    finally:
        await broker.stop()


async def test_relay_publishes_and_a_consumer_reads_over_scram(
    secure_broker: SecureBroker, pg_dsn: str, pg_schema: str, pg_pool: asyncpg.Pool
) -> None:
    sales = settings_of(secure_broker, "dealerflow-sales", service_name="sales")
    leads = settings_of(secure_broker, "dealerflow-leads", service_name="leads")
    await migrate(pg_dsn, pg_schema, runtime_migrations())
    value = f"contract-{uuid.uuid4().hex}".encode()
    async with pg_pool.acquire() as conn, conn.transaction():
        await enqueue(conn, [OutboxMessage(f"{PREFIX}sales", b"c-1", value, [])])
    relay = OutboxRelay(
        pg_pool,
        sales.kafka_bootstrap,
        poll_interval_s=0.2,
        client_id="sales-relay",
        client_options=kafka_client_options(sales),
    )
    task = asyncio.create_task(relay.run())
    try:
        # the leads service's consumer: a FastStream broker, its group <prefix>leads.*
        await consume_until(Collector("leads.sales", leads), value, leads)
    finally:
        await relay.stop(grace_s=10)
        await task
    assert await pg_pool.fetchval("SELECT count(*) FROM outbox") == 0


async def test_scram_over_tls(secure_broker: SecureBroker) -> None:
    sales = settings_of(secure_broker, "dealerflow-sales", tls=True, service_name="sales")
    value = f"tls-{uuid.uuid4().hex}".encode()
    async with producer_of(sales) as producer:
        await producer.send_and_wait(f"{PREFIX}sales", value, key=b"c-2")
    leads = settings_of(secure_broker, "dealerflow-leads", tls=True, service_name="leads")
    await consume_until(Collector("leads.sales", leads), value, leads)


async def test_a_wrong_password_is_refused(
    secure_broker: SecureBroker, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = settings_of(secure_broker, "dealerflow-sales", password="not-the-password")
    with (
        caplog.at_level(logging.DEBUG, logger="aiokafka"),
        pytest.raises(KafkaError, match="Unable to bootstrap"),
    ):
        async with producer_of(wrong):
            pass
    # aiokafka reports the broker's answer in its log, not in the exception
    assert "SaslAuthenticationFailed" in caplog.text
    assert "invalid credentials" in caplog.text


async def test_plaintext_is_not_accepted_on_the_scram_listener(
    secure_broker: SecureBroker,
) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=secure_broker.sasl_bootstrap, request_timeout_ms=5_000
    )
    with pytest.raises(KafkaError):
        await producer.start()
    await producer.stop()


async def test_a_service_cannot_write_another_services_topic(
    secure_broker: SecureBroker,
) -> None:
    sales = settings_of(secure_broker, "dealerflow-sales")
    async with producer_of(sales) as producer:
        await producer.send_and_wait(f"{PREFIX}sales", b"own topic", key=b"c-3")
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait(f"{PREFIX}leads", b"not mine", key=b"c-3")
    nobody = settings_of(secure_broker, "nobody")
    async with producer_of(nobody, idempotent=False) as producer:
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait(f"{PREFIX}sales", b"no acl at all", key=b"c-3")


async def test_the_integration_principal_writes_outside_topics_only(
    secure_broker: SecureBroker,
) -> None:
    integration = settings_of(secure_broker, "dealerflow-integration")
    async with producer_of(integration) as producer:
        await producer.send_and_wait(f"{PREFIX}inbound.leads", b"{}", key=None)
        await producer.send_and_wait(f"{PREFIX}sales", b"VehicleDelivered", key=b"c-4")
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait(f"{PREFIX}complaints", b"no", key=b"c-4")


async def test_admin_and_dlq_clients_use_the_same_options(secure_broker: SecureBroker) -> None:
    migrate_user = settings_of(secure_broker, "dealerflow-migrate")
    counts = await describe_topics(
        migrate_user.kafka_bootstrap,
        [f"{PREFIX}sales", f"{PREFIX}leads"],
        client_options=kafka_client_options(migrate_user),
    )
    assert counts == {f"{PREFIX}sales": 1, f"{PREFIX}leads": 1}
    operator = settings_of(secure_broker, "dealerflow-operator")
    letters = await read_dead_letters(
        operator.kafka_bootstrap,
        f"{PREFIX}sales.dlq",
        client_options=kafka_client_options(operator),
        timeout_s=2,
    )
    assert letters == []


def test_the_tls_files_are_what_the_broker_uses(secure_broker: SecureBroker) -> None:
    properties = (secure_broker.directory / "server.properties").read_text()
    assert f"ssl.truststore.location={secure_broker.tls.ca}" in properties
    assert Path(secure_broker.tls.server_keystore).is_file()
