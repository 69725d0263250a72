"""A real OTLP/HTTP receiver for tests: what a collector would get, decoded from protobuf.

``OtlpReceiver`` is a small HTTP server on 127.0.0.1 (a free port chosen by the OS) that
accepts ``POST /v1/traces`` and ``POST /v1/metrics`` as the OTLP/HTTP specification sends
them (``application/x-protobuf``, optionally gzip), decodes them with the official
messages (``opentelemetry-proto``: ExportTraceServiceRequest, ExportMetricsServiceRequest),
answers the matching empty Export*ServiceResponse, and keeps what arrived:

- ``spans``: every span, flattened (resource attributes beside it), ids in lower-case hex;
- ``metrics``: every histogram/sum/gauge data point, by metric name.

``wait_for_span`` / ``wait_for_metric`` poll (bounded) until something matching arrives, so
tests assert what the server really exported. A body that does not decode is answered 400
and counted in ``rejected``: a test can assert it stays empty.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status as ProtoStatus

SPAN_KINDS = {value: name.removeprefix("SPAN_KIND_") for name, value in ProtoSpan.SpanKind.items()}
STATUS_CODES = {value: name.removeprefix("STATUS_CODE_") for name, value in ProtoStatus.StatusCode.items()}


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs if isinstance(pair, KeyValue)}


@dataclass
class ReceivedSpan:
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    status: str
    status_message: str
    links: list[tuple[str, str, dict[str, Any]]]
    resource: dict[str, Any]
    scope: str
    duration_ns: int


@dataclass
class ReceivedPoint:
    metric: str
    unit: str
    kind: str
    attributes: dict[str, Any]
    count: int | None = None
    total: float | None = None
    bounds: list[float] = field(default_factory=list)
    value: float | None = None
    resource: dict[str, Any] = field(default_factory=dict)


class OtlpReceiver:
    """Start with ``start()`` (or use as a context manager); ``endpoint`` is the base URL
    to put in OTEL_EXPORTER_OTLP_ENDPOINT."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.points: list[ReceivedPoint] = []
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.rejected: list[str] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("the receiver is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> OtlpReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
                    body = gzip.decompress(body)
                answer = receiver._accept(self.path, dict(self.headers.items()), body)
                if answer is None:
                    self.send_response(404 if self.path not in ("/v1/traces", "/v1/metrics") else 400)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="otlp-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- decoding -------------------------------------------------------------------------

    def _accept(self, path: str, headers: dict[str, str], body: bytes) -> bytes | None:
        with self._lock:
            self.requests.append((path, headers))
        try:
            if path == "/v1/traces":
                traces = ExportTraceServiceRequest.FromString(body)
                self._keep_spans(traces)
                return ExportTraceServiceResponse().SerializeToString()
            if path == "/v1/metrics":
                metrics = ExportMetricsServiceRequest.FromString(body)
                self._keep_points(metrics)
                return ExportMetricsServiceResponse().SerializeToString()
        except DecodeError as exc:
            with self._lock:
                self.rejected.append(f"{path}: {exc}")
        return None

    def _keep_spans(self, request: ExportTraceServiceRequest) -> None:
        found = []
        for resource_spans in request.resource_spans:
            resource = _attributes(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    found.append(
                        ReceivedSpan(
                            name=span.name,
                            kind=SPAN_KINDS.get(span.kind, str(span.kind)),
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex(),
                            attributes=_attributes(span.attributes),
                            status=STATUS_CODES.get(span.status.code, str(span.status.code)),
                            status_message=span.status.message,
                            links=[
                                (link.trace_id.hex(), link.span_id.hex(), _attributes(link.attributes))
                                for link in span.links
                            ],
                            resource=resource,
                            scope=scope_spans.scope.name,
                            duration_ns=span.end_time_unix_nano - span.start_time_unix_nano,
                        )
                    )
        with self._lock:
            self.spans.extend(found)

    def _keep_points(self, request: ExportMetricsServiceRequest) -> None:
        found = []
        for resource_metrics in request.resource_metrics:
            resource = _attributes(resource_metrics.resource.attributes)
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    kind = metric.WhichOneof("data")
                    data = getattr(metric, kind)
                    for point in data.data_points:
                        received = ReceivedPoint(
                            metric.name, metric.unit, kind, _attributes(point.attributes), resource=resource
                        )
                        if kind == "histogram":
                            received.count, received.total = point.count, point.sum
                            received.bounds = list(point.explicit_bounds)
                        elif kind in ("sum", "gauge"):
                            received.value = point.as_double if point.HasField("as_double") else point.as_int
                        found.append(received)
        with self._lock:
            self.points.extend(found)

    # --- waiting --------------------------------------------------------------------------

    def _wait(self, pick: Callable[[], list[Any]], timeout: float, what: str) -> list[Any]:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = pick()
            if found or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if not found:
            with self._lock:
                names = sorted({span.name for span in self.spans})
                metrics = sorted({point.metric for point in self.points})
            raise AssertionError(f"no {what} within {timeout}s; spans seen: {names}; metrics seen: {metrics}")
        return found

    def wait_for_spans(
        self, match: Callable[[ReceivedSpan], bool], *, count: int = 1, timeout: float = 10.0
    ) -> list[ReceivedSpan]:
        """At least ``count`` spans matching (polled until ``timeout``); all that match."""

        def pick() -> list[ReceivedSpan]:
            found = [span for span in self.spans if match(span)]
            return found if len(found) >= count else []

        return self._wait(pick, timeout, f"{count} matching span(s)")

    def wait_for_span(self, name: str, *, timeout: float = 10.0, **attributes: Any) -> ReceivedSpan:
        """The first span called ``name`` whose attributes include ``attributes`` (dots as __)."""
        wanted = {key.replace("__", "."): value for key, value in attributes.items()}

        def matches(span: ReceivedSpan) -> bool:
            return span.name == name and all(span.attributes.get(k) == v for k, v in wanted.items())

        return self.wait_for_spans(matches, timeout=timeout)[0]

    def wait_for_points(
        self,
        metric: str,
        match: Callable[[ReceivedPoint], bool] = lambda point: True,
        *,
        timeout: float = 10.0,
    ) -> list[ReceivedPoint]:
        return self._wait(
            lambda: [p for p in self.points if p.metric == metric and match(p)], timeout, f"{metric} point"
        )
