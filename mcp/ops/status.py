"""/status (a live dashboard page) and /status.json (its feed, also meant for scripts).

The page polls the feed; the feed is one snapshot that any worker answers with the same
figures, because everything in it is read from the shared store: sessions and totals
(store), queue overflows (bus), rates, tool calls and latency buckets (``mcp.ops.stats``),
live processes (their heartbeats). Guarantee: the feed and the page never hold a token, a
secret or a full session id (sessions appear only as 8-character prefixes).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse

from echoserver import __version__
from mcp import figures
from mcp.bus import OUTBOX, get_bus
from mcp.ops import stats
from mcp.ops.health import probe_store
from mcp.ops.logs import short_id
from mcp.store import get_store

RATE_WINDOW = stats.RATE_WINDOW  # seconds the rates average over
LATENCY_WINDOW = 60
SERIES_SECONDS = 120
DEEPEST_QUEUES = 5
QUEUE_SAMPLE = 20  # most recently active sessions whose queues are inspected


def _rates(buckets: list[dict[str, int]], prefix: str) -> dict[str, float]:
    totals: Counter[str] = Counter()
    for bucket in buckets:
        for name, value in bucket.items():
            if name.startswith(prefix):
                totals[name[len(prefix) :]] += value
    return {name: round(count / RATE_WINDOW, 2) for name, count in totals.most_common()}


async def _queues() -> dict[str, Any]:
    bus = get_bus()
    deepest: list[dict[str, Any]] = []
    for session in await get_store().list(limit=QUEUE_SAMPLE):
        info = await bus.info(session.id, OUTBOX)
        if info.queued or info.dropped:
            deepest.append({"session": short_id(session.id), "queued": info.queued, "dropped": info.dropped})
    deepest.sort(key=lambda item: (item["queued"], item["dropped"]), reverse=True)
    return {"overflows_total": await bus.overflows(), "deepest": deepest[:DEEPEST_QUEUES]}


def _errors(bucket: dict[str, int]) -> int:
    return sum(bucket.get(f"o:{outcome}", 0) for outcome in figures.ERRORS)


async def snapshot() -> dict[str, Any]:
    """The feed's document (see the README's /status section for every field). Every figure is
    defined once, in ``mcp.figures``, and is the one /metrics shows."""
    now = time.time()
    current = int(now)
    backend = stats.get_stats()
    # The current second included: what just happened shows at once (as a partial second).
    seconds = list(range(current - SERIES_SECONDS + 1, current + 1))
    buckets = await backend.buckets(seconds)
    recent = buckets[-RATE_WINDOW:]
    histogram: Counter[int] = Counter()
    for bucket in buckets[-LATENCY_WINDOW:]:
        for name, value in bucket.items():
            if name.startswith("h:"):
                histogram[int(name[2:])] += value
    requests_recent = sum(b.get("n", 0) for b in recent)
    errors_recent = sum(_errors(b) for b in recent)
    reachable, latency, _ = await probe_store()
    store = get_store()
    doc: dict[str, Any] = {
        "generated": round(now, 3),
        "server": settings.MCP_SERVER_NAME,
        "version": __version__,
        "uptime_seconds": round(now - stats.STARTED, 1),
        "answered_by": stats.PROCESS_ID,
        "store": {"backend": store.backend, "reachable": reachable, "latency_ms": round(latency, 3)},
        "sessions": None,
        "state_handles": None,
        "tasks": None,
        "requests": {
            "per_second": round(requests_recent / RATE_WINDOW, 2),
            "errors_per_second": round(errors_recent / RATE_WINDOW, 2),
            "error_rate": round(errors_recent / requests_recent, 4) if requests_recent else 0.0,
            "errors": {
                o: round(sum(b.get(f"o:{o}", 0) for b in recent) / RATE_WINDOW, 2) for o in figures.ERRORS
            },
            "by_method": _rates(recent, "m:"),
            "total": 0,
            "errors_total": dict.fromkeys(figures.ERRORS, 0),
        },
        "tool_calls": {
            "per_second": round(sum(b.get("tc", 0) for b in recent) / RATE_WINDOW, 2),
            "by_tool": _rates(recent, "t:"),
            "total": 0,
        },
        "latency_ms": {
            "window_seconds": LATENCY_WINDOW,
            "samples": sum(histogram.values()),
            "p50": stats.percentile(histogram, 0.50),
            "p90": stats.percentile(histogram, 0.90),
            "p99": stats.percentile(histogram, 0.99),
        },
        "streams": {"open": 0, "ended_total": dict.fromkeys(figures.STREAM_KINDS, 0)},
        "queues": None,
        "processes": [],
        "series": {
            "start": seconds[0],
            "step": 1,
            "requests": [b.get("n", 0) for b in buckets],
            "errors": [_errors(b) for b in buckets],
            "tool_calls": [b.get("tc", 0) for b in buckets],
        },
    }
    if reachable:
        try:
            totals = await backend.totals()
            requests = doc["requests"]
            requests["total"] = totals.get("n", 0)
            requests["errors_total"] = {o: totals.get(f"o:{o}", 0) for o in figures.ERRORS}
            doc["tool_calls"]["total"] = totals.get("tc", 0)
            doc["streams"]["ended_total"] = {k: totals.get(f"s:{k}", 0) for k in figures.STREAM_KINDS}
            records = await store.stats()
            active = records.active_by_kind
            doc["sessions"] = {
                "active": active.get(figures.SESSION, 0),
                "created": totals.get(f"c:{figures.SESSION}", 0),
                # The sweeper and DELETE see records, not kinds: these count every kind.
                "expired": records.expired_total,
                "deleted": records.deleted_total,
            }
            doc["state_handles"] = {
                "active": active.get(figures.STATE_HANDLE, 0),
                "created": totals.get(f"c:{figures.STATE_HANDLE}", 0),
            }
            doc["tasks"] = {
                "active": active.get(figures.TASK, 0),
                "created": totals.get(f"c:{figures.TASK}", 0),
            }
            doc["queues"] = await _queues()
            processes = await backend.processes()
            doc["processes"] = [
                {
                    "id": proc["id"],
                    "pid": proc["pid"],
                    "host": proc["host"],
                    "uptime_seconds": round(now - proc["started"], 1),
                    "open_streams": proc["open_streams"],
                    "running": proc["running"],
                    "requests_per_second": proc.get("requests_per_second"),
                    "requests": proc.get("requests", 0),
                    "rss_mb": round(proc["rss_bytes"] / 2**20, 1),
                    "draining": proc["draining"],
                    "heartbeat_age": round(max(0.0, now - proc["seen"]), 1),
                }
                for proc in processes
            ]
            doc["streams"]["open"] = sum(proc["open_streams"] for proc in processes)
        except Exception:
            doc["store"]["reachable"] = False
    return doc


async def status_feed(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(await snapshot())
    response["Cache-Control"] = "no-store"
    return response


async def status_page(request: HttpRequest) -> HttpResponse:
    context = {"server": settings.MCP_SERVER_NAME, "version": __version__, "initial": await snapshot()}
    return TemplateResponse(request, "mcp/status.html", context)
