"""The figures: what each number the operator side shows means, defined once, and recorded once.

Definitions (every reader, /status, /status.json, /metrics, the admin and OpenTelemetry, gets
these values through the ``record_*`` functions below and never counts on its own):

- An *exchange* is one HTTP request to an MCP endpoint (/mcp, /sse, /messages) with its whole
  answer. Every exchange is a *request*: initialize, notifications, responses, batches, GET
  streams and DELETE included. Its ``method`` is the JSON-RPC method when it is one the server
  knows, ``batch`` for a batch, the HTTP verb for what carries no JSON-RPC message (``GET``,
  ``DELETE``), else ``unknown``: a client cannot grow the label set.
- An exchange's *outcome* is its error class: ``5xx`` / ``4xx`` by HTTP status, ``jsonrpc_error``
  when a 2xx answer carried a JSON-RPC error, else ``ok``. The *error rate* counts all three.
- *Latency* is measured over request/response exchanges only. A long-lived *stream* (the 2025
  GET stream, ``subscriptions/listen``, the legacy ``/sse``) is measured as a stream duration.
- A *tool call* names a registered tool; calls to any other name count as ``unknown``.
- A *session* is a 2025-era session (``initialize``). State handles and stateless tasks are
  records of their own kinds, counted apart.

Prometheus metrics are module-level objects with fixed label sets. Cluster-wide numbers (live
records, open streams) are read from the store at scrape time (``mcp.ops.prometheus``), never
kept as per-process gauges. A further exporter (OpenTelemetry) registers a ``Recorder`` with
``add_recorder`` and receives exactly what Prometheus and the shared statistics receive.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import Counter, Gauge, Histogram

# --- Definitions ------------------------------------------------------------------------------------

OK = "ok"
CLIENT_ERROR = "4xx"
SERVER_ERROR = "5xx"
RPC_ERROR = "jsonrpc_error"
ERRORS = (CLIENT_ERROR, SERVER_ERROR, RPC_ERROR)
OUTCOMES = (OK, *ERRORS)
UNKNOWN = "unknown"

SESSION, STATE_HANDLE, TASK = "session", "state_handle", "task"
KINDS = (SESSION, STATE_HANDLE, TASK)

GET_STREAM, LISTEN_STREAM, LEGACY_STREAM = "get", "listen", "legacy"
STREAM_KINDS = (GET_STREAM, LISTEN_STREAM, LEGACY_STREAM)


def outcome(status: int, rpc_error: bool) -> str:
    """The error class of an exchange answered with ``status`` (``rpc_error``: a JSON-RPC error
    inside the answer)."""
    if status >= 500:
        return SERVER_ERROR
    if status >= 400:
        return CLIENT_ERROR
    return RPC_ERROR if rpc_error else OK


@dataclass(frozen=True, slots=True)
class Exchange:
    """One exchange as the figures count it."""

    method: str
    outcome: str
    seconds: float  # to the end of the answer; for a stream, how long it stayed open
    stream: str | None = None  # one of STREAM_KINDS for a long-lived stream, else None
    era: str = "2025"  # "2025", "2026-07-28" or "legacy"


class Recorder(Protocol):
    def exchange(self, exchange: Exchange) -> None: ...

    def tool_call(self, tool: str, outcome: str) -> None: ...

    def created(self, kind: str) -> None: ...


# --- Prometheus --------------------------------------------------------------------------------------

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

MESSAGES = Counter("mcp_messages_total", "JSON-RPC messages received, by kind", ["kind"])
REQUESTS = Counter(
    "mcp_requests_total",
    "MCP exchanges (every HTTP request on an MCP endpoint, initialize included), by method and "
    "outcome (ok, 4xx, 5xx, jsonrpc_error)",
    ["method", "outcome"],
)
REQUEST_SECONDS = Histogram(
    "mcp_request_duration_seconds",
    "Time to answer a request/response exchange (streams excluded), by method",
    ["method"],
    buckets=LATENCY_BUCKETS,
)
STREAM_SECONDS = Histogram(
    "mcp_stream_duration_seconds",
    "How long long-lived streams stayed open, by kind (get, listen, legacy)",
    ["kind"],
    buckets=(1, 5, 15, 60, 300, 900, 3600, 14400),
)
CANCELLED = Counter(
    "mcp_requests_cancelled_total",
    "Requests whose handler was cancelled (the client hung up or sent notifications/cancelled), by method",
    ["method"],
)
CALCULATIONS = Counter(
    "mcp_calculations_total", "Calculator operations performed, by operation", ["operation"]
)
TOOL_CALLS = Counter(
    "mcp_tool_calls_total", "Tool calls, by registered tool (else unknown) and outcome", ["tool", "outcome"]
)
CREATED = {
    SESSION: Counter("mcp_sessions_created_total", "2025-era sessions created by this process"),
    STATE_HANDLE: Counter(
        "mcp_state_handles_created_total", "2026-07-28 state handles created by this process"
    ),
    TASK: Counter("mcp_tasks_created_total", "Stateless tasks created by this process"),
}
SESSIONS_DELETED = Counter("mcp_sessions_deleted_total", "Sessions ended by DELETE in this process")
SESSIONS_EXPIRED = Counter(
    "mcp_sessions_expired_total", "Records (every kind) removed by this process's sweeper"
)
# The cluster-wide ``mcp_open_streams`` comes from the heartbeats (mcp.ops.prometheus).
OPEN_STREAMS = Gauge(
    "mcp_process_open_streams",
    "SSE streams open in this process, by kind",
    ["kind"],
    multiprocess_mode="livesum",
)
FAULTS_INJECTED = Counter(
    "mcp_faults_injected_total", "Faults injected into exchanges (fault profiles), by kind", ["kind"]
)


@functools.lru_cache(maxsize=4096)
def child(metric: Counter | Gauge | Histogram, *values: str) -> Counter | Gauge | Histogram:
    """``metric.labels(*values)``, looked up once: ``labels`` validates, locks and builds a key on
    every call, which the hot path would otherwise pay several times per request. Label values
    are bounded sets (known methods, registered tools, statuses), so the cache stays small.
    """
    return metric.labels(*values)


class PrometheusRecorder:
    def exchange(self, exchange: Exchange) -> None:
        child(REQUESTS, exchange.method, exchange.outcome).inc()
        if exchange.stream is None:
            child(REQUEST_SECONDS, exchange.method).observe(exchange.seconds)
        else:
            child(STREAM_SECONDS, exchange.stream).observe(exchange.seconds)

    def tool_call(self, tool: str, outcome: str) -> None:
        child(TOOL_CALLS, tool, outcome).inc()

    def created(self, kind: str) -> None:
        CREATED[kind].inc()


# --- Recording -----------------------------------------------------------------------------------------

# Explicit registry: Prometheus here; the shared statistics (mcp.ops.stats) and OpenTelemetry add
# themselves at start-up.
RECORDERS: list[Recorder] = [PrometheusRecorder()]


def add_recorder(recorder: Recorder) -> None:
    """Have ``recorder`` receive every figure from now on (once, however often it is added)."""
    if recorder not in RECORDERS:
        RECORDERS.append(recorder)


def record_exchange(exchange: Exchange) -> None:
    for recorder in RECORDERS:
        recorder.exchange(exchange)


def record_tool_call(tool: str, outcome: str) -> None:
    """A call of the registered tool ``tool`` ended: ``ok``, or ``error`` (an ``isError`` result
    or an exception)."""
    for recorder in RECORDERS:
        recorder.tool_call(tool, outcome)


def record_created(kind: str) -> None:
    """A record of ``kind`` (one of KINDS) was created."""
    for recorder in RECORDERS:
        recorder.created(kind)
