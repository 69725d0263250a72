"""Prometheus metrics: module-level objects with fixed label sets, counted at one call site each.

Cluster-wide numbers (live sessions) are read from the store at scrape time by
``StoreCollector``, never kept as per-process gauges.
"""

from __future__ import annotations

import functools

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter("mcp_messages_total", "JSON-RPC messages received, by kind", ["kind"])
REQUESTS = Counter(
    "mcp_requests_total", "JSON-RPC requests answered, by method and outcome", ["method", "outcome"]
)
REQUEST_SECONDS = Histogram(
    "mcp_request_duration_seconds",
    "Time to answer a JSON-RPC request, by method",
    ["method"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CALCULATIONS = Counter(
    "mcp_calculations_total", "Calculator operations performed, by operation", ["operation"]
)
TOOL_CALLS = Counter("mcp_tool_calls_total", "Tool calls, by tool and outcome", ["tool", "outcome"])
HTTP_ERRORS = Counter(
    "mcp_http_errors_total", "Refused HTTP exchanges on the MCP endpoints, by status", ["status"]
)
SESSIONS_CREATED = Counter("mcp_sessions_created_total", "Sessions created by this process")
SESSIONS_DELETED = Counter("mcp_sessions_deleted_total", "Sessions ended by DELETE in this process")
SESSIONS_EXPIRED = Counter("mcp_sessions_expired_total", "Sessions removed by this process's sweeper")
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
