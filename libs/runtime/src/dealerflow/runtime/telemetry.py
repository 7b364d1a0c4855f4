"""OpenTelemetry tracing setup and W3C trace-context helpers.

One trace runs from an HTTP request through the outbox and Kafka into every consumer:
the publisher writes the current ``traceparent`` into the CloudEvent headers and the
consumer continues the trace from it (see :mod:`dealerflow.runtime.consumer`).
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_TRACE_CONTEXT = TraceContextTextMapPropagator()
_OTLP_TRACES_PATH = "/v1/traces"


def otlp_traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for a collector base endpoint (``http://host:4318``)."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(_OTLP_TRACES_PATH) else endpoint + _OTLP_TRACES_PATH


def setup_tracing(
    service_name: str,
    otlp_endpoint: str | None = None,
    *,
    exporter: SpanExporter | None = None,
    set_global: bool = True,
) -> TracerProvider:
    """Create a tracer provider for a service and (by default) install it globally.

    ``otlp_endpoint`` (a collector base URL such as ``http://127.0.0.1:4318``) adds an
    OTLP/HTTP exporter behind a batching processor; ``exporter`` (for tests, e.g. an
    ``InMemorySpanExporter``) is attached with a synchronous processor so finished spans
    are visible at once. W3C trace context and baggage become the global propagators.

    OpenTelemetry allows the global provider to be set only once per process; when one is
    already installed the new provider is still returned (pass it explicitly, e.g. to
    :func:`dealerflow.runtime.broker.create_broker`) and the global one is left alone.
    """
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    if otlp_endpoint:
        # Imported lazily: the exporter pulls in requests/protobuf, needless when unused.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_traces_url(otlp_endpoint)))
        )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    propagate.set_global_textmap(
        CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])
    )
    if set_global and not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(provider)
    return provider


def current_trace_headers() -> tuple[str | None, str | None]:
    """``(traceparent, tracestate)`` of the active span, ``(None, None)`` without one."""
    carrier: dict[str, str] = {}
    _TRACE_CONTEXT.inject(carrier)
    return carrier.get("traceparent"), carrier.get("tracestate") or None


def context_from_trace_headers(
    traceparent: str | None, tracestate: str | None = None
) -> otel_context.Context | None:
    """The OTel context a W3C ``traceparent`` names, or None when absent or malformed."""
    if not traceparent:
        return None
    carrier: Mapping[str, str] = (
        {"traceparent": traceparent, "tracestate": tracestate}
        if tracestate
        else {"traceparent": traceparent}
    )
    ctx = _TRACE_CONTEXT.extract(carrier)
    span_context = trace.get_current_span(ctx).get_span_context()
    return ctx if span_context.is_valid else None


def trace_id_of(traceparent: str | None) -> str | None:
    """The 32-hex-digit trace id inside a ``traceparent`` header value."""
    if not traceparent:
        return None
    parts = traceparent.split("-")
    return parts[1] if len(parts) >= 4 and len(parts[1]) == 32 else None
