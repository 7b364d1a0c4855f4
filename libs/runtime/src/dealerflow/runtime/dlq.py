"""Dead letters: the headers we add, how a dead letter is built, listed and replayed.

A consumer that gives up on a record writes a copy of it (original key, value and
headers) to ``<topic>.dlq`` through the outbox, in the same transaction as the rest of
its batch, with ``dlq-*`` headers saying why and where it came from. Operators list and
replay them with ``dealerflow-dlq`` (see :mod:`dealerflow.runtime.dlq_cli`); a replay
republishes the original record to its original topic without the ``dlq-*`` headers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from dealerflow.runtime.logging import mask_pii
from dealerflow.runtime.outbox import OutboxMessage

DLQ_SUFFIX = ".dlq"
DLQ_HEADER_PREFIX = "dlq-"
H_ERROR = "dlq-error"
H_ORIGINAL_TOPIC = "dlq-original-topic"
H_ORIGINAL_PARTITION = "dlq-original-partition"
H_ORIGINAL_OFFSET = "dlq-original-offset"
H_CONSUMER = "dlq-consumer"
H_FAILED_AT = "dlq-failed-at"
H_ATTEMPTS = "dlq-attempts"
# Long tracebacks or payload echoes in exception messages must not bloat the record.
MAX_ERROR_LENGTH = 2000


def dlq_topic_for(topic: str) -> str:
    """The dead-letter topic of ``topic`` (idempotent for a name that already is one)."""
    return topic if topic.endswith(DLQ_SUFFIX) else topic + DLQ_SUFFIX


def describe_error(exc: BaseException) -> str:
    """A one-line, bounded description of an exception for the ``dlq-error`` header
    (phone and ID numbers and e-mail addresses masked, see :func:`dead_letter_message`)."""
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ").strip()
    return mask_reason(text)


def mask_reason(text: str) -> str:
    """``text`` as a dead-letter reason: masked strictly (:func:`~dealerflow.runtime.
    logging.mask_pii` with ``strict=True``: also numbers and addresses a validator refused,
    which match no phone pattern) and bounded to :data:`MAX_ERROR_LENGTH`."""
    return _CONTROL.sub(_escape, mask_pii(text, strict=True))[:MAX_ERROR_LENGTH]


# Control characters, NUL above all, and lone surrogates (which cannot even be encoded as a
# header) are shown escaped: a reason may quote the value that was refused for holding one.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group(0)):04x}"


def dead_letter_message(
    *,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]],
    error: str,
    consumer: str,
    failed_at: datetime,
    attempts: int | None = None,
) -> OutboxMessage:
    """The outbox message that puts one failed record on ``<topic>.dlq``.

    Original key, value and headers are kept (any ``dlq-*`` headers from an earlier trip
    through a DLQ are replaced), so a replay is byte-for-byte the original record. The
    reason (``dlq-error``) is masked (:func:`mask_reason`): it is
    what operators read, list and paste into tickets; the record itself stays on the DLQ
    topic for its retention (docs/security.md, "Personal data").
    """
    dlq_headers: list[tuple[str, bytes]] = [
        (H_ERROR, mask_reason(error).encode()),
        (H_ORIGINAL_TOPIC, topic.encode()),
        (H_ORIGINAL_PARTITION, str(partition).encode()),
        (H_ORIGINAL_OFFSET, str(offset).encode()),
        (H_CONSUMER, consumer.encode()),
        (H_FAILED_AT, failed_at.isoformat().encode()),
    ]
    if attempts is not None:
        dlq_headers.append((H_ATTEMPTS, str(attempts).encode()))
    return OutboxMessage(
        topic=dlq_topic_for(topic),
        key=key,
        # A tombstone cannot go through the outbox (value is NOT NULL); an empty body
        # keeps the record and it is dead-lettered for being malformed anyway.
        value=value if value is not None else b"",
        headers=[*strip_dlq_headers(headers), *dlq_headers],
    )


def strip_dlq_headers(headers: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The headers without our ``dlq-*`` ones."""
    return [(k, v) for k, v in headers if not k.startswith(DLQ_HEADER_PREFIX)]


def _text(value: bytes | None) -> str | None:
    return value.decode("utf-8", errors="replace") if value is not None else None


@dataclass(frozen=True)
class DeadLetter:
    """One record read back from a dead-letter topic."""

    dlq_topic: str
    dlq_partition: int
    dlq_offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]

    def header(self, name: str) -> str | None:
        """The (UTF-8, lenient) value of header ``name``."""
        for key, value in self.headers:
            if key == name:
                return _text(value)
        return None

    @property
    def original_topic(self) -> str | None:
        return self.header(H_ORIGINAL_TOPIC)

    @property
    def original_partition(self) -> int | None:
        raw = self.header(H_ORIGINAL_PARTITION)
        return int(raw) if raw is not None and raw.isdigit() else None

    @property
    def original_offset(self) -> int | None:
        raw = self.header(H_ORIGINAL_OFFSET)
        return int(raw) if raw is not None and raw.isdigit() else None

    @property
    def error(self) -> str | None:
        return self.header(H_ERROR)

    @property
    def consumer(self) -> str | None:
        return self.header(H_CONSUMER)

    @property
    def ce_type(self) -> str | None:
        """``ce_type`` of binary mode, else ``type`` of a structured-mode body, if any."""
        if (ce_type := self.header("ce_type")) is not None:
            return ce_type
        try:
            body: Any = json.loads(self.value or b"")
        except (ValueError, UnicodeDecodeError):
            return None
        found = body.get("type") if isinstance(body, dict) else None
        return found if isinstance(found, str) else None

    @property
    def original_headers(self) -> list[tuple[str, bytes]]:
        return strip_dlq_headers(self.headers)


async def read_dead_letters(
    bootstrap_servers: str,
    dlq_topic: str,
    *,
    limit: int | None = None,
    partition: int | None = None,
    timeout_s: float = 10.0,
    client_options: Mapping[str, Any] | None = None,
) -> list[DeadLetter]:
    """Read a dead-letter topic from the beginning up to its end at call time.

    No consumer group is used, so reading commits nothing and disturbs no one.
    Records are returned per partition in offset order; ``limit`` caps the total.
    ``client_options``: SASL/TLS (:func:`~dealerflow.runtime.kafka_security.
    kafka_client_options`).
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **(client_options or {}),
    )
    await consumer.start()
    try:
        # consumer.topics() fetches fresh metadata but leaves the consumer's cached
        # cluster view (partitions_for_topic) stale, so ask the fetched metadata directly.
        cluster = await consumer._client.fetch_all_metadata()
        found = cluster.partitions_for_topic(dlq_topic)
        if not found:
            raise LookupError(f"topic {dlq_topic!r} does not exist")
        wanted = sorted(found) if partition is None else [partition]
        tps = [TopicPartition(dlq_topic, p) for p in wanted]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        letters: list[DeadLetter] = []
        pending = {tp for tp in tps if end[tp] > 0}
        while pending and (limit is None or len(letters) < limit):
            batch = await consumer.getmany(*pending, timeout_ms=int(timeout_s * 1000))
            if not batch:
                break  # nothing arrived within the timeout: return what we have
            for tp, records in batch.items():
                for rec in records:
                    if rec.offset < end[tp]:
                        letters.append(
                            DeadLetter(
                                dlq_topic=rec.topic,
                                dlq_partition=rec.partition,
                                dlq_offset=rec.offset,
                                key=rec.key,
                                value=rec.value,
                                headers=list(rec.headers),
                            )
                        )
                if await consumer.position(tp) >= end[tp]:
                    pending.discard(tp)
        letters.sort(key=lambda d: (d.dlq_partition, d.dlq_offset))
        return letters if limit is None else letters[:limit]
    finally:
        await consumer.stop()


async def replay_dead_letters(
    bootstrap_servers: str,
    letters: Sequence[DeadLetter],
    *,
    client_options: Mapping[str, Any] | None = None,
) -> list[DeadLetter]:
    """Republish dead letters to their original topics, without the ``dlq-*`` headers.

    Letters missing ``dlq-original-topic`` are skipped. Returns the ones republished.
    Replaying twice is harmless for our consumers: the inbox drops the second copy.
    """
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        enable_idempotence=True,
        acks="all",
        **(client_options or {}),
    )
    await producer.start()
    done: list[DeadLetter] = []
    try:
        for letter in letters:
            target = letter.original_topic
            if not target:
                continue
            await producer.send_and_wait(
                target, value=letter.value, key=letter.key, headers=letter.original_headers
            )
            done.append(letter)
    finally:
        await producer.stop()
    return done
