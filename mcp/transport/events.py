"""SSE event sources shared by the transports: what a stream writes, read from the bus.

Each source is an async iterator of encoded SSE chunks, counted as an open stream of its
session for its whole life (``mcp.sessions.operations.counted_stream``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings

from mcp.bus import OUTBOX, Bus, StreamClosed
from mcp.policy.budget import encode_answer
from mcp.sessions.operations import counted_stream
from mcp.store import SessionStore
from mcp.wire import sse

# Seconds the GET stream waits for a queued message before it shows it is open.
FIRST_WAIT = 0.05


async def one_shot(messages: list[dict[str, Any]]) -> AsyncIterator[bytes]:
    """A stream that carries ``messages`` and ends (an answer for a client that wants SSE)."""
    for message in messages:
        yield sse.event(encode_answer(message))


async def one_shot_encoded(bodies: list[bytes]) -> AsyncIterator[bytes]:
    """``one_shot`` of messages encoded already (a batch's answers, within its budget)."""
    for body in bodies:
        yield sse.event(body)


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
                    yield sse.event(encode_answer(event.message), id=event.id)
                elif not event.final:
                    yield sse.priming(event.id, retry_ms)
                if event.final:
                    return


async def outbox_events(
    store: SessionStore, bus: Bus, session_id: str, after: int, token: int
) -> AsyncIterator[bytes]:
    """The session's GET stream: what is queued, then each new message, with keep-alives.

    The first chunk carries the ``retry:`` field (in the first event, or, when nothing is
    queued, at once with a comment), so a client knows its reconnection delay before anything
    can cut the stream. Ends when the session ends or a newer GET stream takes over. An event
    counts as delivered once the stream has passed it on (its chunk was taken for writing).
    """
    retry_ms = settings.MCP_SSE_RETRY_MS
    keepalive = settings.MCP_KEEPALIVE_INTERVAL
    cursor = after
    first = True
    # The last event passed on and not yet recorded: the next follow records it (one round trip).
    passed = 0
    with counted_stream(session_id, "get"):
        while True:
            try:
                events = await bus.follow(
                    session_id,
                    OUTBOX,
                    cursor,
                    token,
                    min(keepalive, FIRST_WAIT) if first else keepalive,
                    delivered=passed,
                )
            except StreamClosed:
                return
            passed = 0
            if not events:
                # An open stream is activity; a session that ended meanwhile closes it.
                if await store.get(session_id) is None:
                    return
                yield sse.retry(retry_ms) + sse.comment("stream open") if first else sse.comment()
                first = False
                continue
            for event in events:
                if passed:
                    # Within a batch each event is recorded as soon as it is passed on.
                    await bus.mark_delivered(session_id, OUTBOX, passed)
                cursor = event.seq
                if event.message is not None:
                    yield sse.event(
                        encode_answer(event.message), id=event.id, retry_ms=retry_ms if first else None
                    )
                    first = False
                elif not event.final and not event.hangup:
                    yield sse.priming(event.id, retry_ms)
                    first = False
                passed = event.seq
