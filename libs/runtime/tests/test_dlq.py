"""Dead letters: building them, and the dealerflow-dlq CLI against real Kafka."""

from __future__ import annotations

import asyncio
import io
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry

from dealerflow.contracts.envelope import Envelope, encode_binary, encode_structured
from dealerflow.contracts.events.leads import LeadGraded
from dealerflow.contracts.identity import InvalidPhoneNumber
from dealerflow.runtime.broker import attach_consumer, create_broker
from dealerflow.runtime.consumer import EventConsumer, EventRouter, HandlerContext
from dealerflow.runtime.dlq import (
    DeadLetter,
    dead_letter_message,
    describe_error,
    dlq_topic_for,
    read_dead_letters,
    strip_dlq_headers,
)
from dealerflow.runtime.dlq_cli import run_async
from dealerflow.runtime.migrations import migrate, runtime_migrations
from dealerflow.runtime.relay import OutboxRelay
from dealerflow.runtime.settings import ServiceSettings

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def graded(lead_id: str) -> LeadGraded:
    return LeadGraded(
        dealer_id="D001",
        customer_id=uuid.uuid5(uuid.NAMESPACE_URL, lead_id),
        occurred_at=NOW,
        lead_id=lead_id,
        grade="A",
        graded_at=NOW,
    )


# -- pure helpers ----------------------------------------------------------------------


def test_dead_letter_message_keeps_the_record_and_adds_dlq_headers() -> None:
    message = dead_letter_message(
        topic="dealerflow.sales",
        partition=2,
        offset=41,
        key=b"cust",
        value=b"body",
        headers=[("ce_id", b"e1"), ("dlq-error", b"from an earlier trip")],
        error="ValueError: nope",
        consumer="notifier",
        failed_at=NOW,
        attempts=4,
    )
    assert message.topic == "dealerflow.sales.dlq"
    assert (message.key, message.value) == (b"cust", b"body")
    assert message.headers == [
        ("ce_id", b"e1"),
        ("dlq-error", b"ValueError: nope"),
        ("dlq-original-topic", b"dealerflow.sales"),
        ("dlq-original-partition", b"2"),
        ("dlq-original-offset", b"41"),
        ("dlq-consumer", b"notifier"),
        ("dlq-failed-at", b"2025-03-01T09:30:00+00:00"),
        ("dlq-attempts", b"4"),
    ]
    assert strip_dlq_headers(message.headers) == [("ce_id", b"e1")]


def test_tombstones_become_empty_bodies() -> None:
    message = dead_letter_message(
        topic="t",
        partition=0,
        offset=0,
        key=None,
        value=None,
        headers=[],
        error="x",
        consumer="c",
        failed_at=NOW,
    )
    assert message.value == b""
    assert message.key is None
    assert "dlq-attempts" not in dict(message.headers)


def test_dlq_topic_for_and_describe_error() -> None:
    assert dlq_topic_for("dealerflow.leads") == "dealerflow.leads.dlq"
    assert dlq_topic_for("dealerflow.leads.dlq") == "dealerflow.leads.dlq"
    assert describe_error(KeyError("lead")) == "KeyError: 'lead'"
    long = describe_error(ValueError("line1\nline2" + "x" * 5000))
    assert "\n" not in long
    assert len(long) == 2000


def _reason_header(error: str) -> bytes:
    message = dead_letter_message(
        topic="dealerflow.leads",
        partition=0,
        offset=1,
        key=None,
        value=b"{}",
        headers=[],
        error=error,
        consumer="c",
        failed_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    return dict(message.headers)["dlq-error"]


def test_dead_letter_reasons_carry_no_phone_id_or_email() -> None:
    reason = describe_error(
        ValueError("'+8613812345678' of li.na@example.cn (440308199901011234) is not valid")
    )
    assert (
        reason == "ValueError: '+86*******5678' of ***@example.cn (**************1234) is not valid"
    )
    assert _reason_header("customer 13812345678 unknown") == b"customer *******5678 unknown"


def test_dead_letter_reasons_hide_numbers_and_addresses_a_validator_refused() -> None:
    # the message quotes what it refused, which matches no phone or e-mail pattern
    reason = describe_error(
        InvalidPhoneNumber("'1381234567' is not a valid phone number for zhang@example")
    )
    assert reason == "InvalidPhoneNumber: '******4567' is not a valid phone number for ***@example"
    assert _reason_header("customer 138 1234 567 unknown") == b"customer ******4567 unknown"


def test_dead_letter_reads_ce_type_from_binary_or_structured() -> None:
    binary = encode_binary(graded("L"), source="/t")
    structured = encode_structured(graded("L"), source="/t")

    def as_letter(value: bytes, headers: list[tuple[str, bytes]]) -> DeadLetter:
        return DeadLetter("t.dlq", 0, 0, None, value, headers)

    assert as_letter(binary.value, binary.headers).ce_type == LeadGraded.event_type
    assert as_letter(structured.value, structured.headers).ce_type == LeadGraded.event_type
    assert as_letter(b"{oops", []).ce_type is None
    assert as_letter(b"[1]", []).ce_type is None


# -- the CLI against real Kafka --------------------------------------------------------


Headers = list[tuple[str, bytes]]


async def _produce(bootstrap: str, topic: str, records: list[tuple[bytes, Headers]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for value, headers in records:
            await producer.send_and_wait(topic, value=value, key=b"k", headers=headers)
    finally:
        await producer.stop()


async def _read_all(bootstrap: str, topic: str) -> list[tuple[bytes | None, Headers]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        found: list[tuple[bytes | None, Headers]] = []
        while await consumer.position(tp) < end:
            for records in (await consumer.getmany(tp, timeout_ms=2000)).values():
                found += [(r.value, list(r.headers)) for r in records]
        return found
    finally:
        await consumer.stop()


@pytest.fixture
async def dead_letters(
    kafka_bootstrap: str, topic_prefix: str, create_topics: Callable[..., Awaitable[None]]
) -> str:
    """Three dead letters on a one-partition DLQ of <prefix>sales; returns the topic."""
    topic = topic_prefix + "sales"
    await create_topics(topic, topic + ".dlq", partitions=1)
    records = []
    for offset, (lead, error) in enumerate(
        [("A", "ValueError: a"), ("B", "EventDecodeError: unknown event type"), ("C", "boom")]
    ):
        original = encode_binary(graded(lead), source="/t", event_id=f"id-{lead}")
        message = dead_letter_message(
            topic=topic,
            partition=0,
            offset=10 + offset,
            key=b"k",
            value=original.value,
            headers=original.headers,
            error=error,
            consumer="notifier",
            failed_at=NOW,
        )
        records.append((message.value, message.headers))
    await _produce(kafka_bootstrap, topic + ".dlq", records)
    return topic


@pytest.mark.integration
async def test_cli_lists_dead_letters(kafka_bootstrap: str, dead_letters: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = await run_async(
        ["--bootstrap", kafka_bootstrap, "list", dead_letters, "--limit", "2"], out=out, err=err
    )
    assert code == 0, err.getvalue()
    lines = out.getvalue().splitlines()
    assert lines[1:3] == [
        f"0:0\t{dead_letters}/0@10\t{LeadGraded.event_type}\tValueError: a",
        f"0:1\t{dead_letters}/0@11\t{LeadGraded.event_type}\tEventDecodeError: unknown event type",
    ]
    assert lines[-1] == "2 dead letter(s)"


@pytest.mark.integration
async def test_cli_list_masks_reasons_written_unmasked(
    kafka_bootstrap: str, topic_prefix: str, create_topics: Callable[..., Awaitable[None]]
) -> None:
    # a letter from an older version or another producer: raw phone numbers in its reason
    topic = topic_prefix + "leads"
    await create_topics(topic + ".dlq", partitions=1)
    original = encode_binary(graded("P"), source="/t", event_id="id-P")
    headers = [
        *original.headers,
        ("dlq-error", b"ValueError: +8613812345678 /\t1381234567\nli.na@example.cn"),
        ("dlq-original-topic", topic.encode()),
    ]
    await _produce(kafka_bootstrap, topic + ".dlq", [(original.value, headers)])
    out, err = io.StringIO(), io.StringIO()
    code = await run_async(["--bootstrap", kafka_bootstrap, "list", topic], out=out, err=err)
    assert code == 0, err.getvalue()
    line = out.getvalue().splitlines()[1]
    assert line.split("\t")[-1] == "ValueError: +86*******5678 / ******4567 ***@example.cn"
    for raw in ("13812345678", "1381234567", "li.na"):
        assert raw not in out.getvalue()


@pytest.mark.integration
async def test_cli_replays_one_offset_then_all(kafka_bootstrap: str, dead_letters: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    dlq = dead_letters + ".dlq"  # the .dlq name is accepted as well
    code = await run_async(
        ["--bootstrap", kafka_bootstrap, "replay", dlq, "--offset", "1"], out=out, err=err
    )
    assert code == 0, err.getvalue()
    replayed = await _read_all(kafka_bootstrap, dead_letters)
    assert len(replayed) == 1
    value, headers = replayed[0]
    original = encode_binary(graded("B"), source="/t", event_id="id-B")
    assert value == original.value
    assert headers == original.headers  # byte-exact, no dlq-* headers

    code = await run_async(["--bootstrap", kafka_bootstrap, "replay", dead_letters, "--all"])
    assert code == 0
    ids = [dict(h)["ce_id"] for _, h in await _read_all(kafka_bootstrap, dead_letters)]
    assert ids == [b"id-B", b"id-A", b"id-B", b"id-C"]


@pytest.mark.integration
async def test_cli_errors(kafka_bootstrap: str, dead_letters: str, topic_prefix: str) -> None:
    err = io.StringIO()
    code = await run_async(
        ["--bootstrap", kafka_bootstrap, "replay", dead_letters, "--offset", "99"], err=err
    )
    assert code == 1
    assert "no dead letter at offset 99" in err.getvalue()
    err = io.StringIO()
    code = await run_async(
        ["--bootstrap", kafka_bootstrap, "list", topic_prefix + "nonexistent"], err=err
    )
    assert code == 1
    assert "does not exist" in err.getvalue()
    with pytest.raises(SystemExit):  # --offset and --all are exclusive
        await run_async(["replay", dead_letters, "--offset", "1", "--all"], err=io.StringIO())


@pytest.mark.integration
async def test_console_script_runs(kafka_bootstrap: str, dead_letters: str) -> None:
    script = Path(sys.executable).parent / "dealerflow-dlq"
    env = {**os.environ, "DEALERFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap}
    proc = await asyncio.create_subprocess_exec(
        str(script),
        "list",
        dead_letters,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, stderr.decode()
    assert stdout.decode().splitlines()[-1] == "3 dead letter(s)"


# -- the whole loop: dead-lettered by a consumer, fixed, replayed, processed -------------


@pytest.fixture
async def db(pg_dsn: str, pg_schema: str, pg_pool: asyncpg.Pool) -> asyncpg.Pool:
    await migrate(pg_dsn, pg_schema, runtime_migrations())
    await pg_pool.execute("CREATE TABLE grades (event_id text PRIMARY KEY, lead_id text)")
    return pg_pool


@pytest.mark.integration
async def test_replayed_dead_letter_is_processed_once_the_bug_is_fixed(
    kafka_bootstrap: str,
    db: asyncpg.Pool,
    topic_prefix: str,
    create_topics: Callable[..., Awaitable[None]],
) -> None:
    topic = topic_prefix + "leads"
    await create_topics(topic, topic + ".dlq", partitions=2)
    settings = ServiceSettings(
        service_name="dlqloop",
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        consumer_max_retries=1,
        consumer_batch_timeout_ms=50,
    )
    bug = True
    calls = 0
    router = EventRouter()

    @router.on(LeadGraded)
    async def record_grade(ctx: HandlerContext, env: Envelope[LeadGraded]) -> None:
        nonlocal calls
        calls += 1
        if bug:
            raise RuntimeError("bug in record_grade")
        await ctx.conn.execute("INSERT INTO grades VALUES ($1, $2)", env.meta.id, env.event.lead_id)

    broker = create_broker(settings, registry=CollectorRegistry())
    consumer = EventConsumer(name="dlqloop", router=router, pool=db, settings=settings)
    attach_consumer(broker, consumer, topic, group_id=topic_prefix + "dlqloop")
    relay = OutboxRelay(db, kafka_bootstrap, poll_interval_s=0.2)
    relay_task = asyncio.create_task(relay.run())
    await broker.start()
    try:
        record = encode_binary(graded("L1"), source="/t", event_id="loop-1")
        await _produce(kafka_bootstrap, topic, [(record.value, record.headers)])

        async def dead_lettered() -> list[DeadLetter]:
            try:
                return await read_dead_letters(kafka_bootstrap, topic + ".dlq", timeout_s=1)
            except LookupError:
                return []

        async def state() -> str:
            outbox = await db.fetch("SELECT topic, published_at, last_error FROM outbox")
            return f"handler calls={calls}, outbox={[dict(r) for r in outbox]}"

        deadline = asyncio.get_running_loop().time() + 60
        while not (letters := await dead_lettered()):
            assert asyncio.get_running_loop().time() < deadline, await state()
            await asyncio.sleep(0.2)
        assert [d.error for d in letters] == ["RuntimeError: bug in record_grade"], await state()
        assert await db.fetchval("SELECT count(*) FROM grades") == 0

        bug = False  # the fix is deployed
        replay = ["--bootstrap", kafka_bootstrap, "replay", topic, "--all"]
        assert await run_async(replay, out=io.StringIO()) == 0
        deadline = asyncio.get_running_loop().time() + 60
        while not await db.fetchval("SELECT count(*) FROM grades"):
            assert asyncio.get_running_loop().time() < deadline, await state()
            await asyncio.sleep(0.1)
        rows = await db.fetch("SELECT event_id, lead_id FROM grades")
        assert [(r["event_id"], r["lead_id"]) for r in rows] == [("loop-1", "L1")]
    finally:
        await broker.stop()
        await relay.stop()
        relay_task.cancel()
