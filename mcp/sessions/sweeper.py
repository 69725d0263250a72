"""Expiry: removing sessions idle past MCP_SESSION_TIMEOUT, with their streams and requests.

``sweep_once`` is what both the in-process loop (every MCP_SWEEP_INTERVAL seconds) and the
``sweep_sessions`` management command run. Lookups never depend on it: the store already
refuses an idle session on read; sweeping frees the memory and ends open streams.
"""

from __future__ import annotations

import logging

from django.conf import settings

from mcp import figures
from mcp.bus import Bus, get_bus
from mcp.process.periodic import Periodic
from mcp.sessions import operations as sessions
from mcp.store import SessionStore, get_store

logger = logging.getLogger("mcp.sweeper")


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
        figures.SESSIONS_EXPIRED.inc(len(gone))
        logger.info("expired %d idle session(s)", len(gone))
    return gone


_job = Periodic("sweep", sweep_once)


def start() -> None:
    """Start the in-process sweeper on the running loop (idempotent)."""
    _job.start(settings.MCP_SWEEP_INTERVAL)


async def stop() -> None:
    await _job.stop()
