"""The FastStream Kafka broker every service uses, and how a consumer is attached to it.

:func:`create_broker` builds the broker (telemetry + Prometheus middleware);
:func:`attach_consumer` subscribes an :class:`~dealerflow.runtime.consumer.EventConsumer`
as a batch subscriber with offsets committed only after the batch transaction.

Decoding CloudEvents is ours (:func:`dealerflow.contracts.envelope.decode`), so our batch
subscribers hand the raw aiokafka ``ConsumerRecord`` tuple to the handler: FastStream's
default decoder (``json.loads`` per message) is replaced by :func:`raw_records`, and the
parser is wrapped by :func:`lenient_batch_parser` so that one record with non-UTF-8 header
bytes cannot make the whole batch unparseable (which would block the partition forever).
Binary and structured CloudEvents therefore both reach our decoder untouched.

FastStream's batch subscriber sleeps ``batch_timeout_ms`` after every poll that found
nothing, on top of the poll's own wait of as long: an event arriving during that nap
waited up to another 100 ms (the default) before its consumer saw it, on every hop of a
reaction chain. :func:`attach_consumer` gives its subscribers a poll without the nap
(:func:`poll_without_nap`): the long poll itself paces an idle consumer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from itertools import chain
from typing import TYPE_CHECKING, Any, Literal, Protocol

from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.kafka.schemas import Topic
from faststream.kafka.subscriber.usecase import BatchSubscriber
from faststream.middlewares import AckPolicy
from prometheus_client import REGISTRY, CollectorRegistry

from dealerflow.runtime import recovery
from dealerflow.runtime.kafka_security import faststream_security

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer, ConsumerRecord
    from faststream.message import StreamMessage
    from opentelemetry.trace import TracerProvider

    from dealerflow.runtime.settings import ServiceSettings

Records = tuple["ConsumerRecord[Any, Any]", ...]
BatchParser = Callable[[Records], Awaitable["StreamMessage[Records]"]]

# Ack after the handler returned, and on an exception nack: seek every partition of the
# batch back to its first record so the batch is fetched again (nothing is committed).
# Our consumer catches handler errors itself, so an exception here means the batch's
# database transaction did not commit.
CONSUMER_ACK_POLICY = AckPolicy.NACK_ON_ERROR

_LOGGER = logging.getLogger("dealerflow.broker")


class BatchProcessor(Protocol):
    """What :func:`attach_consumer` drives: a named batch processor with settings.

    :class:`~dealerflow.runtime.consumer.EventConsumer` is the one for CloudEvents; a
    service with a topic of other records (raw lead submissions) brings its own, with the
    same contract: ``process_batch`` commits its effects, inbox rows and dead letters in
    one transaction and raises when that transaction did not commit.
    """

    @property
    def name(self) -> str: ...

    @property
    def settings(self) -> ServiceSettings: ...

    async def process_batch(self, records: Any) -> object: ...


def create_broker(
    settings: ServiceSettings,
    *,
    tracer_provider: TracerProvider | None = None,
    registry: CollectorRegistry | None = None,
    graceful_timeout_s: float = 15.0,
    **kwargs: Any,
) -> KafkaBroker:
    """A ``KafkaBroker`` for ``settings.kafka_bootstrap`` with telemetry and metrics.

    - ``KafkaTelemetryMiddleware``: a consumer span per batch (and per published
      message); ``tracer_provider`` defaults to the global one (see ``setup_tracing``).
    - ``KafkaPrometheusMiddleware``: ``faststream_*`` metrics in ``registry`` (default:
      the process-wide prometheus registry that ``/metrics`` serves), labelled with the
      service name.
    - Subscribers default to :data:`CONSUMER_ACK_POLICY`; aiokafka auto-commit is off.
    - ``graceful_timeout_s``: on ``stop()`` an in-flight batch gets this long to finish
      (and commit its offsets) before its task is cancelled.
    - Security (SASL/SCRAM, TLS) from the ``kafka_*`` settings
      (:func:`~dealerflow.runtime.kafka_security.faststream_security`).

    Nothing connects until ``await broker.start()`` (or ``broker.connect()``).
    """
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=settings.service_name,
        middlewares=[
            KafkaTelemetryMiddleware(tracer_provider=tracer_provider),
            KafkaPrometheusMiddleware(
                registry=registry if registry is not None else REGISTRY,
                app_name=settings.service_name,
            ),
        ],
        ack_policy=CONSUMER_ACK_POLICY,
        graceful_timeout=graceful_timeout_s,
        # Topics are provisioned explicitly (partition counts matter for ordering and
        # parallelism); never let a subscriber create one with broker defaults.
        allow_auto_create_topics=False,
        logger=_LOGGER,
        security=faststream_security(settings),
        **kwargs,
    )


def _text_safe(record: ConsumerRecord[Any, Any]) -> ConsumerRecord[Any, Any]:
    headers = [
        (k, v.decode("utf-8", errors="replace").encode() if v is not None else b"")
        for k, v in record.headers
    ]
    return dataclasses.replace(record, headers=headers)


async def lenient_batch_parser(
    records: Records, default_parser: BatchParser
) -> StreamMessage[Records]:
    """FastStream batch parser hook: the default parser, tolerant of bad header bytes.

    ``raw_message`` always stays the original records (byte-exact, for dead letters).
    Each record's ``ce_id`` is also exposed as FastStream's ``correlation_id`` header,
    which is what its telemetry middleware keys span links by: the batch span then links
    to every producer span.
    """
    try:
        message = await default_parser(records)
    except UnicodeDecodeError:
        message = await default_parser(tuple(_text_safe(r) for r in records))
        message.raw_message = records
    for headers in message.batch_headers:
        if "correlation_id" not in headers and (ce_id := headers.get("ce_id")):
            headers["correlation_id"] = ce_id
    return message


async def raw_records(message: StreamMessage[Records]) -> Records:
    """FastStream decoder hook: the body handed to the handler is the raw record tuple."""
    return message.raw_message


#: How an idle poll that returned early is paced, and its clock (tests replace them).
_pause = asyncio.sleep
_clock = time.monotonic


def poll_without_nap(subscriber: BatchSubscriber) -> None:
    """Replace ``subscriber``'s poll by one that hands records on as soon as they arrive
    and, finding none, returns after the poll's own wait rather than sleeping as long
    again (module docstring). A poll that returns early with nothing (no partitions yet)
    still waits out the rest of ``batch_timeout_ms``, so an idle loop never spins."""
    timeout_ms: int = subscriber.batch_timeout_ms
    max_records: int | None = subscriber.max_records

    async def get_msg(consumer: AIOKafkaConsumer) -> Records:
        started = _clock()
        batches = await consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
        if not batches:
            rest = timeout_ms / 1000 - (_clock() - started)
            if rest > 0.001:
                await _pause(rest)
            return ()
        return tuple(chain.from_iterable(batches.values()))

    subscriber.get_msg = get_msg  # type: ignore[method-assign]


def attach_consumer(
    broker: KafkaBroker,
    consumer: BatchProcessor,
    topics: str | Iterable[str],
    *,
    group_id: str | None = None,
    max_records: int | None = None,
    batch_timeout_ms: int | None = None,
    auto_offset_reset: Literal["earliest", "latest", "none"] = "earliest",
    failure_backoff_s: float = 0.5,
    max_failure_backoff_s: float = 10.0,
    **subscriber_kwargs: Any,
) -> BatchSubscriber:
    """Subscribe ``consumer`` to ``topics`` on ``broker`` as a batch subscriber.

    ``group_id`` defaults to the consumer's name, ``max_records`` to
    ``settings.consumer_batch_size``, ``batch_timeout_ms`` (how long a poll waits for
    records) to ``settings.consumer_batch_timeout_ms``. Offsets are committed by
    FastStream after the handler returned, i.e. after the batch transaction committed.
    When the transaction fails the handler waits (exponential ``failure_backoff_s`` ..
    ``max_failure_backoff_s``, cut short once a probe of the consumer's ``pool`` finds
    PostgreSQL back after an outage) and raises, and the batch is nacked: redelivered
    from its first record of every partition.
    Returns the FastStream subscriber (call before ``broker.start()``).
    """
    names = [topics] if isinstance(topics, str) else list(topics)
    subscriber: BatchSubscriber = broker.subscriber(
        *[Topic(name, declare=False) for name in names],
        batch=True,
        group_id=group_id or consumer.name,
        max_records=max_records or consumer.settings.consumer_batch_size,
        batch_timeout_ms=(
            consumer.settings.consumer_batch_timeout_ms
            if batch_timeout_ms is None
            else batch_timeout_ms
        ),
        auto_offset_reset=auto_offset_reset,
        ack_policy=CONSUMER_ACK_POLICY,
        parser=lenient_batch_parser,
        decoder=raw_records,
        **subscriber_kwargs,
    )
    consecutive_failures = 0
    # the database is what a failed batch transaction waits for: probed while backing off
    pool = getattr(consumer, "pool", None)
    probe = recovery.pool_probe(pool) if pool is not None else None

    async def handle_batch(records: Any) -> None:
        nonlocal consecutive_failures
        batch: Records = records
        try:
            await consumer.process_batch(batch)
        except Exception as exc:
            consecutive_failures += 1
            delay = min(max_failure_backoff_s, failure_backoff_s * 2 ** (consecutive_failures - 1))
            # FastStream logs the exception with its traceback when we re-raise.
            _LOGGER.warning(
                "batch of %d records not committed (%s); redelivering in %.1fs",
                len(batch),
                type(exc).__name__,
                delay,
                extra={"consumer": consumer.name},
            )
            if await recovery.pause(delay, probe) == "recovered":
                consecutive_failures = 0  # back within a second or two of PostgreSQL
            raise
        consecutive_failures = 0

    handle_batch.__name__ = f"consume_{consumer.name}".replace(".", "_").replace("-", "_")
    subscriber(handle_batch)
    poll_without_nap(subscriber)
    return subscriber
