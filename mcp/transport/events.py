"""SSE event sources shared by the transports: what a stream writes, read from the bus.

Each source is an async iterator of encoded SSE chunks, counted as an open stream of its
session for its whole life (``mcp.sessions.counted_stream``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings

from mcp import jsonrpc, sse
from mcp.bus import OUTBOX, Bus, StreamClosed
from mcp.sessions import counted_stream
from mcp.store import SessionStore


async def one_shot(messages: list[dict[str, Any]]) -> AsyncIterator[bytes]:
    """A stream that carries ``messages`` and ends (an answer for a client that wants SSE)."""
    for message in messages:
        yield sse.event(jsonrpc.encode(message))


async def request_events(
    bus: Bus, session_id: str, stream: str, after: int, *, live: bool
) -> AsyncIterator[bytes]:
    """A request stream from ``after`` to its response; ``live`` honours hang-ups (dropStream)."""
    retry_ms = settings.MCP_SSE_RETRY_MS
    keepalive = settings.MCP_KEEPALIVE_INTERVAL
    cursor = after
    with counted_stream(session_id, "post" if live else "resume"):
        while True:
            try:
                events = await bus.read(session_id, stream, cursor, keepalive)
            except StreamClosed:
                return
            if not events:
                yield sse.comment()
                continue
            for event in events:
                cursor = event.seq
                if event.hangup:
                    if live:
                        yield sse.retry(retry_ms)
                        return
                elif event.message is not None:
                    yield sse.event(jsonrpc.encode(event.message), id=event.id)
                elif not event.final:
                    yield sse.priming(event.id, retry_ms)
                if event.final:
                    return


async def outbox_events(
    store: SessionStore, bus: Bus, session_id: str, after: int, token: int
) -> AsyncIterator[bytes]:
    """The session's GET stream: what is queued, then each new message, with keep-alives.

    Ends when the session ends or a newer GET stream of the same session takes over.
    """
    retry_ms = settings.MCP_SSE_RETRY_MS
    keepalive = settings.MCP_KEEPALIVE_INTERVAL
    cursor = after
    with counted_stream(session_id, "get"):
        while True:
            if await bus.owner(session_id, OUTBOX) != token:
                return
            try:
                events = await bus.read(session_id, OUTBOX, cursor, keepalive)
            except StreamClosed:
                return
            if not events:
                # An open stream is activity; a session that ended meanwhile closes it.
                if await store.get(session_id) is None:
                    return
                yield sse.comment()
                continue
            for event in events:
                cursor = event.seq
                if event.message is not None:
                    yield sse.event(jsonrpc.encode(event.message), id=event.id)
                elif not event.final and not event.hangup:
                    yield sse.priming(event.id, retry_ms)
                await bus.mark_delivered(session_id, OUTBOX, event.seq)
