"""GET /health: readiness for load balancers and container health checks.

200 ``{"status": "ok", ...}`` when the session store answered a real round trip (a PING in
Redis mode, a write and read-back in memory mode); 503 when it did not, or when the process
is draining after SIGTERM (so a balancer stops sending it new work). A 503 here is an
expected answer, logged at INFO at most, never as an error.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from echoserver import __version__
from mcp.process import draining as drain
from mcp.store import get_store


async def probe_store() -> tuple[bool, float, int | None]:
    """(reachable, round-trip milliseconds, live sessions or None)."""
    store = get_store()
    started = time.perf_counter()
    try:
        reachable = bool(await store.ping())
    except Exception:
        reachable = False
    latency = (time.perf_counter() - started) * 1000
    sessions = None
    if reachable:
        try:
            sessions = (await store.stats()).active
        except Exception:
            reachable = False
    return reachable, latency, sessions


async def health(request: HttpRequest) -> JsonResponse:
    reachable, latency, sessions = await probe_store()
    draining = drain.active()
    status = "draining" if draining else "ok" if reachable else "unavailable"
    body = {
        "status": status,
        "store": {"backend": get_store().backend, "reachable": reachable, "latency_ms": round(latency, 3)},
        "sessions": sessions,
        "version": __version__,
        "server": settings.MCP_SERVER_NAME,
    }
    response = JsonResponse(body, status=200 if status == "ok" else 503)
    response["Cache-Control"] = "no-store"
    # An expected answer: keep Django from reporting the 503 as an error (django.request).
    response._has_been_logged = True
    return response
