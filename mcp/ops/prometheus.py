"""GET /metrics: the process metrics (all workers' with PROMETHEUS_MULTIPROC_DIR) plus the
cluster-wide gauges read from the store at scrape time.

Counters and histograms (``mcp.figures``, django-prometheus) are kept per process and summed
by prometheus_client's multiprocess mode when the console script runs several workers.
Numbers whose truth lives in the store are read once per scrape with cheap commands:
live sessions (ZCOUNT), queue overflows (one HGET), open streams and live processes (the
heartbeats of ``mcp.ops.stats``).
"""

from __future__ import annotations

import os

from django.http import HttpRequest, HttpResponse
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from mcp import figures
from mcp.bus import get_bus
from mcp.ops import stats
from mcp.store import get_store


class ClusterCollector:
    """Fixed values gathered (asynchronously) before the scrape is rendered."""

    def __init__(self, values: dict[str, float]) -> None:
        self.values = values

    def collect(self):
        v = self.values
        yield GaugeMetricFamily("mcp_active_sessions", "Live 2025-era sessions in the store", v["sessions"])
        yield GaugeMetricFamily("mcp_active_state_handles", "Live 2026-07-28 state handles", v["handles"])
        yield GaugeMetricFamily("mcp_active_tasks", "Live stateless tasks", v["tasks"])
        yield GaugeMetricFamily("mcp_open_streams", "SSE streams open in all live processes", v["streams"])
        yield GaugeMetricFamily("mcp_processes", "Server processes with a fresh heartbeat", v["processes"])
        yield CounterMetricFamily(
            "mcp_queue_overflow", "Events dropped from full session streams (all processes)", v["overflows"]
        )
        yield GaugeMetricFamily("mcp_store_up", "1 when the session store answered this scrape", v["up"])


async def cluster_values() -> dict[str, float]:
    values = dict.fromkeys(("sessions", "handles", "tasks", "streams", "processes", "overflows", "up"), 0.0)
    try:
        active = (await get_store().stats()).active_by_kind
        values["sessions"] = active.get(figures.SESSION, 0)
        values["handles"] = active.get(figures.STATE_HANDLE, 0)
        values["tasks"] = active.get(figures.TASK, 0)
        values["overflows"] = await get_bus().overflows()
        processes = await stats.get_stats().processes()
        values["processes"] = len(processes)
        values["streams"] = sum(p.get("open_streams", 0) for p in processes)
        values["up"] = 1.0
    except Exception:
        values["up"] = 0.0
    return values


def process_registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


async def metrics(request: HttpRequest) -> HttpResponse:
    cluster = CollectorRegistry(auto_describe=False)
    cluster.register(ClusterCollector(await cluster_values()))
    body = generate_latest(process_registry()) + generate_latest(cluster)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
