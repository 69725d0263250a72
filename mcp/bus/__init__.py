"""Message buses: one contract (``base.Bus``), an implementation per backend.

``get_bus()`` returns the process-wide bus chosen by settings (``MCP_STORE``).
"""

from __future__ import annotations

from functools import cache

from django.conf import settings

from mcp.bus.base import OUTBOX, Bus, Event, ReplyWaiter, StreamClosed, StreamInfo, parse_event_id
from mcp.redis_client import uses_redis

__all__ = ["OUTBOX", "Bus", "Event", "ReplyWaiter", "StreamClosed", "StreamInfo", "get_bus", "parse_event_id"]


@cache
def get_bus() -> Bus:
    options = {
        "outbox_capacity": settings.MCP_QUEUE_SIZE,
        "stream_capacity": settings.MCP_REPLAY_SIZE,
        "retained_streams": settings.MCP_RETAINED_STREAMS,
    }
    if uses_redis():
        from mcp.bus.redis import RedisBus

        # Streams outlive the longest idle session, so a resumable stream is never cut early.
        ttl = max(86400.0, 2.0 * settings.MCP_SESSION_TIMEOUT)
        return RedisBus(url=settings.REDIS_URL, prefix=settings.MCP_REDIS_PREFIX, ttl=ttl, **options)
    from mcp.bus.memory import MemoryBus

    return MemoryBus(**options)
