"""Session stores: one async interface (``base.SessionStore``), a backend per storage.

``get_store()`` returns the process-wide store chosen by settings (``MCP_STORE``).
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.core.cache import caches

from mcp.errors import StoreUnavailable
from mcp.redis_client import uses_redis
from mcp.store.base import LimitReached, Limits, Session, SessionStore, StoreStats

__all__ = ["LimitReached", "Limits", "Session", "SessionStore", "StoreStats", "StoreUnavailable", "get_store"]


@cache
def get_store() -> SessionStore:
    timeout = settings.MCP_SESSION_TIMEOUT
    if uses_redis():
        from mcp.store.redis import RedisSessionStore

        return RedisSessionStore(timeout=timeout, url=settings.REDIS_URL, prefix=settings.MCP_REDIS_PREFIX)
    from mcp.store.memory import MemorySessionStore

    return MemorySessionStore(timeout=timeout, cache=caches.create_connection(settings.MCP_CACHE_ALIAS))
