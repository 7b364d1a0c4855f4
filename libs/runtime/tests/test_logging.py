"""Unit tests of JSON logging and PII masking."""

from __future__ import annotations

import io
import json
import logging
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import REGISTRY

from dealerflow.runtime.logging import (
    JsonFormatter,
    RepeatFilter,
    configure_logging,
    mask_pii,
    mask_value,
)


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("call +8613812345678 now", "call +86*******5678 now"),
        ("call 13812345678 now", "call *******5678 now"),
        ("tel:138-1234-5678.", "tel:*******5678."),
        ("+86 138 1234 5678", "+86*******5678"),
        ("008613812345678", "+86*******5678"),
        ("US +14155552671", "US +14*****2671"),
        ("id 11010519491231002X ok", "id **************002X ok"),
        ("id 110105194912310021", "id **************0021"),
        ("手机13912345678，身份证440308199901011234", "手机*******5678，身份证**************1234"),
        ("mail zhang.wei+car@example.cn.", "mail ***@example.cn."),
        ("<li_na@mail.acme-auto.com.cn>", "<***@mail.acme-auto.com.cn>"),
        ("wang@例子.公司 13812345678", "***@例子.公司 *******5678"),
    ],
)
def test_mask_pii(raw: str, masked: str) -> None:
    assert mask_pii(raw) == masked


@pytest.mark.parametrize(
    "text",
    [
        "order 12345678901234567890 shipped",  # 20 digits: neither phone nor ID
        "epoch 1712345678901",
        "lead 3f2b9c0e-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
        "price 12999.00 CNY",
        "2025-03-01T08:00:00Z",
        "VIN LSVAU2180N2123456",
        "postgresql://dealerflow_app:secret@127.0.0.1:5432/dealerflow",
        "user@localhost",
    ],
)
def test_mask_pii_leaves_other_numbers_alone(text: str) -> None:
    assert mask_pii(text) == text


@pytest.mark.parametrize(
    "identifier",
    [
        # digits inside these once became "*******7893" (issue 15)
        "649f21bc-2082-4afc-93e2-b18086727893",
        "F3F15839-4892-41C9-ADE9-8A01A3661098",
        "d1b18278324744bdb23a38d85500d1f3",  # a UUID without dashes
        "2e13620101937df68ad7ef333c359336",  # a trace id
        "d5fa9212279ea23e",  # a span id
        "00-5f7d36d16036073553acfc17d1e9b5d7-660f8e8721f201bb-01",  # a traceparent
    ],
)
def test_mask_pii_never_touches_identifiers(identifier: str) -> None:
    text = f"event {identifier} for 13812345678 (trace={identifier})"
    assert mask_pii(text) == f"event {identifier} for *******5678 (trace={identifier})"
    assert mask_pii(identifier) == identifier
    assert mask_value({"event_id": identifier}) == {"event_id": identifier}


def test_mask_pii_keeps_generated_identifiers_intact() -> None:
    for _ in range(20_000):
        for identifier in (
            str(uuid.uuid4()),
            uuid.uuid4().hex,
            secrets.token_hex(16),
            f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01",
        ):
            assert mask_pii(identifier) == identifier


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        # numbers and addresses a validator refused match no phone pattern
        ("'1381234567' is not a valid phone number", "'******4567' is not a valid phone number"),
        ("'zhang.wei@example' is not an e-mail address", "'***@example' is not an e-mail address"),
        ("ID 110105194913310021 has no such date", "ID **************0021 has no such date"),
        ("call (010) 6552 1234", "call (*******1234"),
        ("+86 138 1234 5678 and 13812345678", "+86*******5678 and *******5678"),
    ],
)
def test_strict_masking_also_hides_refused_numbers(raw: str, masked: str) -> None:
    assert mask_pii(raw, strict=True) == masked


@pytest.mark.parametrize(
    "text",
    [
        "time '2026-12-07T08:00:00Z' is not RFC 3339",
        "amount 1234567.50 exceeds the limit",
        "lead 649f21bc-2082-4afc-93e2-b18086727893 at offset 123456",
        "trace 2e13620101937df68ad7ef333c359336",
        "+86*******5678 already masked",
    ],
)
def test_strict_masking_keeps_dates_amounts_and_identifiers(text: str) -> None:
    assert mask_pii(text, strict=True) == text


def test_mask_value_recurses() -> None:
    value: dict[str, Any] = {
        "phone": "13812345678",
        "phone_int": 13812345678,
        "count": 3,
        "nested": {"ids": ["110105194912310021", "ok"]},
        "flag": True,
    }
    assert mask_value(value) == {
        "phone": "*******5678",
        "phone_int": "*******5678",
        "count": 3,
        "nested": {"ids": ["**************0021", "ok"]},
        "flag": True,
    }


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging("leads", "DEBUG", json=True, stream=stream)
    yield stream
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in saved[0]:
        root.addHandler(h)
    root.setLevel(saved[1])


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_with_extras_and_masking(json_log: io.StringIO) -> None:
    logging.getLogger("dealerflow.leads").info(
        "lead from %s",
        "+8613812345678",
        extra={"lead_id": "L1", "contact": {"phone": "13912345678"}},
    )
    (line,) = _lines(json_log)
    assert line["level"] == "INFO"
    assert line["logger"] == "dealerflow.leads"
    assert line["service"] == "leads"
    assert line["msg"] == "lead from +86*******5678"
    assert line["lead_id"] == "L1"
    assert line["contact"] == {"phone": "*******5678"}
    assert line["trace_id"] is None
    assert line["span_id"] is None
    assert line["ts"].endswith("+00:00")
    assert "13812345678" not in json_log.getvalue()


def test_exception_text_is_masked(json_log: io.StringIO) -> None:
    try:
        raise ValueError("bad phone 13812345678")
    except ValueError:
        logging.getLogger("x").exception("failed for 440308199901011234")
    (line,) = _lines(json_log)
    assert line["msg"] == "failed for **************1234"
    assert "ValueError: bad phone *******5678" in line["exc"]
    assert "13812345678" not in json_log.getvalue()


def test_trace_and_span_ids_from_current_span(json_log: io.StringIO) -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("handle") as span:
        logging.getLogger("x").warning("inside")
        ctx = span.get_span_context()
    (line,) = _lines(json_log)
    assert line["trace_id"] == format(ctx.trace_id, "032x")
    assert line["span_id"] == format(ctx.span_id, "016x")


def test_text_mode_is_masked_too() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers)
    try:
        configure_logging("sales", "INFO", json=False, stream=stream)
        logging.getLogger("s").info("call 13812345678", extra={"id_no": "110105194912310021"})
        logging.getLogger("s").debug("hidden at INFO")
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved:
            root.addHandler(h)
    out = stream.getvalue()
    assert "call *******5678" in out
    assert "**************0021" in out
    assert "13812345678" not in out
    assert "hidden" not in out
    assert " sales " in out


def test_configure_twice_does_not_duplicate(json_log: io.StringIO) -> None:
    stream = io.StringIO()
    configure_logging("leads", "INFO", stream=stream)
    logging.getLogger("y").info("once")
    assert len(stream.getvalue().splitlines()) == 1
    assert json_log.getvalue() == ""


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_repeat_filter_summarises_a_flood_of_identical_errors() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("sales"))
    clock = FakeClock()
    handler.addFilter(RepeatFilter(interval_s=60.0, clock=clock))
    log = logging.getLogger("aiokafka.conn.test")
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.DEBUG)
    before = REGISTRY.get_sample_value(
        "dealerflow_log_suppressed_total", {"logger": "aiokafka.conn.test"}
    )
    try:
        for i in range(1000):  # a Kafka outage: 1,000 identical errors in 20 s
            clock.now += 0.02
            log.error("Unable connect to node with id %s: %s", i % 3, "Connect call failed")
        clock.now += 60.0  # a minute later it still fails: one line with the count
        log.error("Unable connect to node with id %s: %s", 1, "Connect call failed")
        log.error("Unable connect to node with id %s: %s", 1, "Connect call failed")
        log.info("Connected to node %s", 1)  # the state changes: the last count goes with it
        log.warning("Unable to update metadata from [%s]", 1)  # another kind passes
        logging.getLogger("dealerflow.test").error("ours pass untouched")
    finally:
        log.removeHandler(handler)
        log.propagate = True
        log.setLevel(logging.NOTSET)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["msg"] for line in lines] == [
        "Unable connect to node with id 0: Connect call failed",
        "Unable connect to node with id 1: Connect call failed",
        "Connected to node 1",
        "Unable to update metadata from [1]",
    ]
    assert "repeated" not in lines[0]
    assert lines[1]["repeated"] == 999
    assert lines[2]["suppressed"] == {"Unable connect to node with id %s: %s": 1}
    assert "suppressed" not in lines[3]
    after = REGISTRY.get_sample_value(
        "dealerflow_log_suppressed_total", {"logger": "aiokafka.conn.test"}
    )
    assert (after or 0) - (before or 0) == 1000


def test_configure_logging_summarises_client_library_repeats(json_log: io.StringIO) -> None:
    for _ in range(1000):
        logging.getLogger("aiokafka.cluster").error("Unable connect to %s", "127.0.0.1:1")
        logging.getLogger("dealerflow.relay").warning("our own line")
    lines = _lines(json_log)
    assert sum(1 for line in lines if line["logger"] == "aiokafka.cluster") == 1
    assert sum(1 for line in lines if line["logger"] == "dealerflow.relay") == 1000


def test_a_log_file_is_rotated(tmp_path: Path) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    log_file = tmp_path / "sales.log"
    try:
        handler = configure_logging("sales", "INFO", file=str(log_file), max_bytes=4096, backups=2)
        for i in range(1000):
            logging.getLogger("dealerflow.sales").info("line %d for +8613812345678", i)
        handler.close()
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["sales.log", "sales.log.1", "sales.log.2"]
    assert all((tmp_path / f).stat().st_size <= 4096 for f in files)
    last = json.loads(log_file.read_text().splitlines()[-1])
    assert last["msg"] == "line 999 for +86*******5678"
