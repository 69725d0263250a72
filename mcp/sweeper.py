"""Expiry: removing sessions idle past MCP_SESSION_TIMEOUT, with their streams and requests.

``sweep_once`` is what both the in-process loop (every MCP_SWEEP_INTERVAL seconds) and the
``sweep_sessions`` management command run. Lookups never depend on it: the store already
refuses an idle session on read; sweeping frees the memory and ends open streams.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging

from django.conf import settings

from mcp import metrics, sessions
from mcp.bus import Bus, get_bus
from mcp.redact import describe_exception
from mcp.store import SessionStore, get_store

logger = logging.getLogger("mcp.sweeper")

_task: asyncio.Task[None] | None = None


async def sweep_once(store: SessionStore | None = None, bus: Bus | None = None) -> list[str]:
    store = store or get_store()
    bus = bus or get_bus()
    gone = await store.sweep()
    # Sessions the store expired lazily on read still hold streams here.
    for session_id in bus.local_sessions():
        if session_id not in gone and await store.get(session_id, touch=False) is None:
            gone.append(session_id)
    for session_id in gone:
        await sessions.release(session_id, bus)
    if gone:
        metrics.SESSIONS_EXPIRED.inc(len(gone))
        logger.info("expired %d idle session(s)", len(gone))
    return gone


async def _loop(interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await sweep_once()
        except Exception as exc:
            logger.warning("sweep failed: %s", describe_exception(exc))


def start() -> None:
    """Start the in-process sweeper on the running loop (idempotent)."""
    global _task
    if _task is not None and not _task.done():
        return
    # A fresh context: the loop must not inherit a request's context (asgiref executors).
    _task = asyncio.get_running_loop().create_task(
        _loop(settings.MCP_SWEEP_INTERVAL), context=contextvars.Context()
    )


async def stop() -> None:
    global _task
    if _task is not None:
        _task.cancel()
        try:
            await _task
        except asyncio.CancelledError:
            pass
        _task = None
