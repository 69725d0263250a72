"""The OpenTelemetry SDK at work: providers, MCP server and client spans, the two histograms.

Imported only when ``mcp.telemetry.configure`` found an endpoint: nothing here runs (or is
imported) while telemetry is off. Exports go over OTLP/HTTP (protobuf) in background
threads (``BatchSpanProcessor``, ``PeriodicExportingMetricReader``); a collector that is
down costs a warning in the log, never an exchange.

Guarantees:
- one SERVER span per MCP message received, named and attributed by ``conventions``; its
  parent is the context in ``params._meta`` (traceparent, tracestate, baggage), else the HTTP
  request's ``traceparent`` header, else the context a multi round-trip request's state
  carried from the round before (any node); when ``_meta`` won and the HTTP headers name
  another context, that one is a link;
- a CLIENT span, child of the server span, for each request the server sends to the client
  (sampling, elicitation, roots, input requests), its context injected into that request's
  ``params._meta`` by the configured propagators (OTEL_PROPAGATORS);
- ``finish`` is idempotent: the span ends and the duration is recorded once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context as OtelContext
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.metrics import Histogram, NoOpMeterProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, NoOpTracerProvider, Span, SpanContext, SpanKind, Status, StatusCode

from echoserver import __version__
from mcp.telemetry import carrier, conventions
from mcp.telemetry.config import Config

DEFAULT_SERVICE_NAME = "mcp-echo-stateful-server"
SCOPE = "mcp.telemetry"


class Installed:
    """The providers of this process and the instruments made from them."""

    def __init__(self, config: Config) -> None:
        resource = Resource.create({SERVICE_VERSION: __version__})
        if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
            resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
        self.tracer_provider: TracerProvider | None = None
        self.meter_provider: MeterProvider | None = None
        if config.traces:
            self.tracer_provider = TracerProvider(resource=resource)
            self.tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            self.tracer = self.tracer_provider.get_tracer(SCOPE, __version__)
        else:
            self.tracer = NoOpTracerProvider().get_tracer(SCOPE)
        if config.metrics:
            reader = PeriodicExportingMetricReader(OTLPMetricExporter())
            self.meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
            meter = self.meter_provider.get_meter(SCOPE, __version__)
        else:
            meter = NoOpMeterProvider().get_meter(SCOPE)
        self.operation_duration: Histogram = meter.create_histogram(
            conventions.OPERATION_DURATION,
            unit="s",
            description="MCP request or notification duration as observed on the receiver",
            explicit_bucket_boundaries_advisory=conventions.DURATION_BUCKETS,
        )
        self.session_duration: Histogram = meter.create_histogram(
            conventions.SESSION_DURATION,
            unit="s",
            description="The duration of the MCP session as observed on the MCP server",
            explicit_bucket_boundaries_advisory=conventions.DURATION_BUCKETS,
        )

    def flush(self, timeout_ms: int = 5000) -> None:
        if self.tracer_provider is not None:
            self.tracer_provider.force_flush(timeout_ms)
        if self.meter_provider is not None:
            self.meter_provider.force_flush(timeout_ms)

    def shutdown(self) -> None:
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()
        if self.meter_provider is not None:
            self.meter_provider.shutdown()


_installed: Installed | None = None


def install(config: Config) -> Installed:
    global _installed
    uninstall()
    _installed = Installed(config)
    return _installed


def uninstall() -> None:
    global _installed
    if _installed is not None:
        _installed.shutdown()
        _installed = None


def installed() -> Installed:
    if _installed is None:
        raise RuntimeError("mcp.telemetry.tracing used before install()")
    return _installed


def _meta_carrier(meta: Any) -> dict[str, str]:
    if not isinstance(meta, Mapping):
        return {}
    return {key: value for key in carrier.KEYS if isinstance(value := meta.get(key), str)}


def _extracted(source: Mapping[str, str]) -> tuple[OtelContext | None, SpanContext | None]:
    if "traceparent" not in source:
        return None, None
    context = propagate.extract(source)
    span_context = trace.get_current_span(context).get_span_context()
    return (context, span_context) if span_context.is_valid else (None, None)


def _hex(span_context: SpanContext) -> tuple[str, str]:
    return trace.format_trace_id(span_context.trace_id), trace.format_span_id(span_context.span_id)


def traceparent_of(span_context: SpanContext) -> str:
    trace_id, span_id = _hex(span_context)
    return f"00-{trace_id}-{span_id}-{int(span_context.trace_flags):02x}"


class ClientOperation:
    """A request the server sends to the client, from sending it to the client's answer."""

    __slots__ = ("_ended", "_started", "attributes", "params", "span")

    def __init__(self, span: Span, params: dict[str, Any], attributes: dict[str, Any]) -> None:
        self.span = span
        self.params = params
        self.attributes = attributes
        self._started = time.perf_counter()
        self._ended = False

    def finish(self, reply: Mapping[str, Any] | None, *, failure: str | None = None) -> None:
        """End with the client's reply message, or ``failure`` (``timeout``, ...) without one."""
        if self._ended:
            return
        self._ended = True
        error_type, status_code, message = conventions.outcome(reply)
        error_type = error_type or failure
        if error_type:
            self.span.set_attribute(conventions.ERROR_TYPE, error_type)
            if status_code:
                self.span.set_attribute(conventions.STATUS_CODE, status_code)
            self.span.set_status(Status(StatusCode.ERROR, message or failure))
        self.span.end()


class ServerOperation:
    """One MCP message received: its SERVER span and its duration."""

    __slots__ = ("_ended", "_started", "attributes", "carried", "parent_source", "session_id", "span")

    def __init__(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        request_id: Any,
        session_id: str | None,
        protocol_version: str | None,
        headers: Mapping[str, str],
        client: tuple[str, int] | None = None,
        round_parent: str | None = None,
        known_target: bool = True,
        started: float | None = None,
    ) -> None:
        self._started = time.perf_counter() if started is None else started
        self._ended = False
        self.session_id = session_id
        meta = params.get("_meta")
        self.carried = carrier.inspect(meta, headers)
        self.attributes = conventions.operation_attributes(
            method, params if known_target else {}, protocol_version, bounded=True
        )
        parent, parent_context = _extracted(_meta_carrier(meta))
        self.parent_source = "_meta" if parent is not None else None
        links = []
        http_parent, http_context = _extracted(headers)
        if parent is None and http_parent is not None:
            parent, parent_context, self.parent_source = http_parent, http_context, "http"
        elif http_context is not None and parent_context is not None and http_context != parent_context:
            links.append(Link(http_context, {"mcp.link": "http"}))
        round_context = _extracted({"traceparent": round_parent})[1] if round_parent else None
        if parent is None and round_context is not None:
            parent, parent_context = _extracted({"traceparent": round_parent})[0], round_context
            self.parent_source = "round"
        elif round_context is not None and round_context != parent_context:
            links.append(Link(round_context, {"mcp.link": "round"}))
        self.span = installed().tracer.start_span(
            conventions.span_name(method, params),
            context=parent,
            kind=SpanKind.SERVER,
            attributes=conventions.span_attributes(
                method,
                params,
                request_id=request_id,
                session_id=session_id,
                protocol_version=protocol_version,
                client=client,
            ),
            links=links,
        )

    def in_session(self, session_id: str, protocol_version: str) -> None:
        """The session this message created (initialize): named on the span and its figure."""
        self.session_id = session_id
        self.span.set_attribute(conventions.SESSION_ID, session_id)
        self.span.set_attribute(conventions.PROTOCOL_VERSION, protocol_version)
        self.attributes[conventions.PROTOCOL_VERSION] = protocol_version

    @property
    def span_context(self) -> SpanContext:
        return self.span.get_span_context()

    @property
    def recording(self) -> bool:
        return self.span_context.is_valid

    def traceparent(self) -> str | None:
        """This span as a W3C traceparent (for a round's state), or None when not traced."""
        return traceparent_of(self.span_context) if self.recording else None

    def describe(self) -> dict[str, Any]:
        """The span context the server used, for client authors (traceInfo, the traffic record)."""
        shown: dict[str, Any] = {"tracing": "on", "trace_id": None, "span_id": None, "sampled": None}
        if self.recording:
            trace_id, span_id = _hex(self.span_context)
            shown.update(trace_id=trace_id, span_id=span_id, sampled=self.span_context.trace_flags.sampled)
        shown["parent_source"] = self.parent_source
        return shown

    def asking(self, method: str, params: dict[str, Any] | None, request_id: Any = None) -> ClientOperation:
        """A CLIENT span for ``method`` sent to the client, and ``params`` carrying its context."""
        version = self.attributes.get(conventions.PROTOCOL_VERSION)
        attributes = conventions.operation_attributes(method, params or {}, version)
        if self.session_id:
            attributes[conventions.SESSION_ID] = self.session_id
        if request_id is not None:
            attributes[conventions.REQUEST_ID] = str(request_id)
        context = trace.set_span_in_context(self.span)
        span = installed().tracer.start_span(
            method, context=context, kind=SpanKind.CLIENT, attributes=attributes
        )
        injected: dict[str, str] = {}
        propagate.inject(injected, context=trace.set_span_in_context(span, context))
        sent = dict(params or {})
        if injected:
            meta = sent.get("_meta")
            sent["_meta"] = {**(meta if isinstance(meta, Mapping) else {}), **injected}
        return ClientOperation(span, sent, attributes)

    def finish(self, response: Mapping[str, Any] | None, *, failure: str | None = None) -> None:
        """End with the response message sent (None for a notification, or ``failure`` when
        the exchange ended without one); records ``mcp.server.operation.duration``."""
        if self._ended:
            return
        self._ended = True
        seconds = time.perf_counter() - self._started
        error_type, status_code, message = conventions.outcome(response)
        error_type = error_type or failure
        measured = self.attributes
        if error_type:
            measured = {**measured, conventions.ERROR_TYPE: error_type}
            self.span.set_attribute(conventions.ERROR_TYPE, error_type)
            if status_code:
                measured[conventions.STATUS_CODE] = status_code
                self.span.set_attribute(conventions.STATUS_CODE, status_code)
            self.span.set_status(Status(StatusCode.ERROR, message or error_type))
        self.span.end()
        installed().operation_duration.record(seconds, measured)


def session_ended(seconds: float, protocol_version: str | None) -> None:
    """One ``mcp.server.session.duration`` observation."""
    attributes: dict[str, Any] = {conventions.NETWORK_TRANSPORT: "tcp", conventions.NETWORK_PROTOCOL: "http"}
    if protocol_version:
        attributes[conventions.PROTOCOL_VERSION] = protocol_version
    installed().session_duration.record(max(0.0, seconds), attributes)
