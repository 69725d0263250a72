"""Read-only pages for operators: health (and the status page)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from mcp.store import get_store


async def health(request: HttpRequest) -> JsonResponse:
    """200 when the session store answers, 503 otherwise."""
    store = get_store()
    try:
        ok = await store.ping()
        stats = await store.stats()
    except Exception:
        ok, stats = False, None
    body = {"status": "ok" if ok else "unavailable", "store": store.backend}
    if stats is not None:
        body["sessions"] = stats.active
    return JsonResponse(body, status=200 if ok else 503)
