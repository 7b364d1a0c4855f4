"""setup_tracing and the W3C trace-context helpers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from dealerflow.runtime.telemetry import (
    context_from_trace_headers,
    current_trace_headers,
    otlp_traces_url,
    setup_tracing,
    trace_id_of,
)


def test_spans_carry_the_service_name_and_reach_the_exporter() -> None:
    exporter = InMemorySpanExporter()
    provider = setup_tracing("leads", exporter=exporter, set_global=False)
    with provider.get_tracer("t").start_as_current_span("work"):
        pass
    (span,) = exporter.get_finished_spans()
    assert span.name == "work"
    assert span.resource.attributes["service.name"] == "leads"


def test_current_trace_headers_follow_the_active_span() -> None:
    assert current_trace_headers() == (None, None)
    provider = setup_tracing("t", exporter=InMemorySpanExporter(), set_global=False)
    with provider.get_tracer("t").start_as_current_span("outer") as span:
        traceparent, tracestate = current_trace_headers()
        assert traceparent is not None
        assert trace_id_of(traceparent) == format(span.get_span_context().trace_id, "032x")
        assert traceparent.split("-")[2] == format(span.get_span_context().span_id, "016x")
        assert tracestate is None


def test_context_from_trace_headers_round_trips_and_rejects_garbage() -> None:
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    ctx = context_from_trace_headers(parent, "vendor=1")
    assert ctx is not None
    span_context = trace.get_current_span(ctx).get_span_context()
    assert span_context.is_remote
    assert format(span_context.trace_id, "032x") == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert span_context.trace_state.get("vendor") == "1"

    assert context_from_trace_headers(None) is None
    assert context_from_trace_headers("") is None
    assert context_from_trace_headers("not-a-traceparent") is None
    assert context_from_trace_headers("00-" + "0" * 32 + "-00f067aa0ba902b7-01") is None


def test_child_spans_continue_a_remote_parent() -> None:
    exporter = InMemorySpanExporter()
    provider = setup_tracing("t", exporter=exporter, set_global=False)
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    with provider.get_tracer("t").start_as_current_span(
        "child", context=context_from_trace_headers(parent)
    ):
        assert trace_id_of(current_trace_headers()[0]) == "4bf92f3577b34da6a3ce929d0e0e4736"
    (span,) = exporter.get_finished_spans()
    assert span.parent is not None
    assert span.parent.span_id == 0x00F067AA0BA902B7


def test_trace_id_of() -> None:
    assert trace_id_of("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") == (
        "4bf92f3577b34da6a3ce929d0e0e4736"
    )
    assert trace_id_of(None) is None
    assert trace_id_of("garbage") is None


def test_otlp_traces_url() -> None:
    assert otlp_traces_url("http://c:4318") == "http://c:4318/v1/traces"
    assert otlp_traces_url("http://c:4318/") == "http://c:4318/v1/traces"
    assert otlp_traces_url("http://c:4318/v1/traces") == "http://c:4318/v1/traces"


class _Collector(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, str, int]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        self.rfile.read(length)
        _Collector.received.append((self.path, self.headers.get("content-type", ""), length))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[str]:
    _Collector.received = []
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_otlp_http_exporter_posts_to_the_collector(collector: str) -> None:
    provider = setup_tracing("sales", collector, set_global=False)
    with provider.get_tracer("t").start_as_current_span("exported"):
        pass
    assert provider.force_flush(5_000)
    provider.shutdown()
    assert _Collector.received, "collector received nothing"
    path, content_type, length = _Collector.received[0]
    assert path == "/v1/traces"
    assert content_type == "application/x-protobuf"
    assert length > 0
