"""Consumer of the raw ``<prefix>inbound.leads`` topic (JSON or ADF XML from lead providers).

These records are not CloudEvents, so the runtime's ``EventConsumer`` (which decodes
CloudEvents) cannot take them. This consumer gives them the same guarantees, reusing the
runtime's pieces:

- a batch per poll, ONE PostgreSQL transaction per batch (a runtime ``Subscription`` with
  this class as its ``processor``, so ``attach_consumer`` drives it: offsets are
  committed only after it commits; a failed commit redelivers the batch);
- an inbox row per record (``inbox.claim_many``) keyed by a content hash of body, content
  type and dealer/group headers: a provider resending the same document, or Kafka
  redelivering it, changes nothing;
- each record in its own savepoint; a document that cannot be parsed or that the rules
  refuse (no dealer, no valid phone) is dead-lettered at once, other errors after
  ``consumer_max_retries`` retries; dead letters go to ``<topic>.dlq`` through the outbox
  (``dlq.dead_letter_message``: original record + ``dlq-error`` etc.) in the same
  transaction, and their inbox claim is released so a replay is processed.

Record headers read (all optional): ``content-type`` (else the body is sniffed),
``dealer-id`` (or ``ce_dealerid``; used when the body names no dealer), ``dealer-group``,
``consultant-id``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import asyncpg
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from prometheus_client import Counter

from dealerflow.contracts.inbound import (
    LeadSubmission,
    LeadSubmissionError,
    parse_lead_submissions,
)
from dealerflow.leads.usecases import LeadsContext, submit_lead
from dealerflow.runtime import inbox
from dealerflow.runtime.db import DbConnection
from dealerflow.runtime.dlq import dead_letter_message, describe_error
from dealerflow.runtime.outbox import OutboxMessage, enqueue
from dealerflow.runtime.problems import Problem

if TYPE_CHECKING:
    from aiokafka import ConsumerRecord

    from dealerflow.runtime.service import ServiceContext

_LOG = logging.getLogger("dealerflow.leads.inbound")

INBOUND_RECORDS = Counter(
    "dealerflow_inbound_leads_total",
    "Raw lead submissions consumed, by outcome",
    ["outcome"],  # handled | duplicate | dead_lettered
)

H_CONTENT_TYPE = "content-type"
H_DEALER = ("dealer-id", "ce_dealerid")
H_GROUP = "dealer-group"
H_CONSULTANT = "consultant-id"


def header(record: ConsumerRecord[Any, Any], *names: str) -> str | None:
    """The first of ``names`` present on the record (case-insensitive), as text."""
    wanted = {n.lower() for n in names}
    for key, value in record.headers or ():
        if key.lower() in wanted and value is not None:
            text = bytes(value).decode("utf-8", errors="replace").strip()
            if text:
                return text
    return None


def inbox_key(record: ConsumerRecord[Any, Any]) -> str:
    """Content hash of what determines the outcome: body and the headers we read."""
    digest = hashlib.sha256()
    for part in (
        header(record, H_CONTENT_TYPE) or "",
        header(record, *H_DEALER) or "",
        header(record, H_GROUP) or "",
        header(record, H_CONSULTANT) or "",
    ):
        digest.update(part.encode() + b"\x00")
    digest.update(record.value or b"")
    return "sha256:" + digest.hexdigest()


@dataclass(frozen=True)
class InboundOutcome:
    handled: int = 0
    duplicates: int = 0
    dead_lettered: int = 0


@dataclass(frozen=True)
class _Failure:
    record: ConsumerRecord[Any, Any]
    error: str
    attempts: int


def _is_infrastructure_error(exc: BaseException, conn: DbConnection) -> bool:
    """The database (not the record) failed: never dead-letter, redeliver the batch."""
    return conn.is_closed() or isinstance(
        exc,
        asyncpg.PostgresConnectionError
        | asyncpg.InterfaceError
        | asyncpg.exceptions.OperatorInterventionError
        | OSError,
    )


class InboundLeadConsumer:
    """Processes batches of raw lead submissions (see the module docstring)."""

    def __init__(
        self,
        *,
        name: str,
        pool: asyncpg.Pool,
        lc: LeadsContext,
        max_retries: int | None = None,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self.name = name
        self.pool = pool
        self.lc = lc
        # attach_consumer reads batch size and poll timeout from here.
        self.settings = lc.settings
        self.max_retries = lc.settings.consumer_max_retries if max_retries is None else max_retries
        self._tracer = trace.get_tracer("dealerflow.leads.inbound", tracer_provider=tracer_provider)

    async def process_batch(self, records: Sequence[ConsumerRecord[Any, Any]]) -> InboundOutcome:
        """Process ``records`` in one transaction; raises if it could not commit."""
        failures: list[_Failure] = []
        parsed: list[tuple[ConsumerRecord[Any, Any], str, list[LeadSubmission]]] = []
        for record in records:
            try:
                submissions = parse_lead_submissions(
                    record.value or b"",
                    header(record, H_CONTENT_TYPE) or "",
                    default_region=self.lc.settings.default_region,
                    dealer_id=header(record, *H_DEALER),
                )
            except LeadSubmissionError as exc:
                failures.append(_Failure(record, f"LeadSubmissionError: {exc.reason}", 0))
                continue
            except Exception as exc:  # a parser bug must not block the partition either
                failures.append(_Failure(record, describe_error(exc), 0))
                continue
            parsed.append((record, inbox_key(record), submissions))

        handled = duplicates = 0
        async with self.pool.acquire() as conn, conn.transaction():
            fresh = await inbox.claim_many(conn, self.name, [key for _, key, _ in parsed])
            released: list[str] = []
            for record, key, submissions in parsed:
                if key not in fresh:
                    duplicates += 1
                    continue
                fresh.discard(key)  # a later copy in this batch is a duplicate
                failure = await self._submit(conn, record, submissions)
                if failure is None:
                    handled += 1
                else:
                    failures.append(failure)
                    released.append(key)
            # Dead letters keep no inbox row, so a replay from the DLQ is processed.
            await inbox.release(conn, self.name, released)
            failed_at = datetime.now(UTC)
            await enqueue(conn, [self._dead_letter(f, failed_at) for f in failures])

        for f in failures:
            _LOG.error(
                "dead-lettered %s/%s@%s: %s",
                f.record.topic,
                f.record.partition,
                f.record.offset,
                f.error,
                extra={"consumer": self.name},
            )
        for outcome, count in (
            ("handled", handled),
            ("duplicate", duplicates),
            ("dead_lettered", len(failures)),
        ):
            if count:
                INBOUND_RECORDS.labels(outcome).inc(count)
        return InboundOutcome(handled, duplicates, len(failures))

    async def _submit(
        self,
        conn: DbConnection,
        record: ConsumerRecord[Any, Any],
        submissions: Sequence[LeadSubmission],
    ) -> _Failure | None:
        """Run the submission use case in a savepoint, retrying unexpected errors.

        An ADF document may hold several prospects: the record is one unit, so either all
        of them are recorded or the record is dead-lettered (and replayed) as a whole.
        """
        attempts = 0
        last_error: Exception | None = None
        while attempts <= self.max_retries:
            attempts += 1
            try:
                with self._tracer.start_as_current_span(
                    f"{record.topic} process lead submission",
                    kind=SpanKind.CONSUMER,
                    attributes={
                        "messaging.system": "kafka",
                        "messaging.destination.name": record.topic,
                        "messaging.kafka.destination.partition": record.partition,
                        "messaging.kafka.message.offset": record.offset,
                        "messaging.consumer.group.name": self.name,
                    },
                ):
                    async with conn.transaction():
                        for submission in submissions:
                            await submit_lead(
                                conn,
                                self.lc,
                                submission,
                                dealer_group=header(record, H_GROUP),
                                consultant_id=header(record, H_CONSULTANT),
                            )
                return None
            except Problem as exc:
                if exc.status < 500:  # refused by the rules: retrying cannot help
                    return _Failure(record, f"LeadRejected: {exc.detail or exc.title}", attempts)
                last_error = exc
            except Exception as exc:
                if _is_infrastructure_error(exc, conn):
                    raise
                last_error = exc
        assert last_error is not None
        return _Failure(record, describe_error(last_error), attempts)

    def _dead_letter(self, failure: _Failure, failed_at: datetime) -> OutboxMessage:
        rec = failure.record
        return dead_letter_message(
            topic=rec.topic,
            partition=rec.partition,
            offset=rec.offset,
            key=rec.key,
            value=rec.value,
            headers=list(rec.headers or ()),
            error=failure.error,
            consumer=self.name,
            failed_at=failed_at,
            attempts=failure.attempts,
        )


def inbound_processor(ctx: ServiceContext[Any], name: str) -> InboundLeadConsumer:
    """The runtime's ``Subscription.processor`` factory for the inbound topic."""
    from dealerflow.leads.api import leads_context

    return InboundLeadConsumer(
        name=name, pool=ctx.db, lc=leads_context(ctx), tracer_provider=ctx.tracer_provider
    )
