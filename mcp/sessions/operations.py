"""What a 2025-era session is and does, below HTTP.

The transport, the legacy transport, the sweeper and the operator side (admin, status) all
act on sessions through these functions, never through a view:

- ``owned`` finds a live session for a caller (another principal's session looks unknown);
- ``push`` queues a message on a session's GET stream (the admin's test notification);
- ``end`` forgets a session everywhere: its record, its streams (every reader, on every
  process, ends), and the requests it has running in this process; ``end_if`` does so
  only for a caller whose ``Claim`` holds (a DELETE: one Redis round trip in all);
  ``release`` does the last two for a session the store already dropped (expiry);
- ``counted_stream`` / ``open_streams`` count the SSE streams a session holds open here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.conf import settings

from mcp import figures
from mcp.bus import OUTBOX, Bus
from mcp.calls import running
from mcp.errors import SessionNotFound
from mcp.store import Session, SessionStore
from mcp.store.base import DELETED, Claim


async def owned(
    session_id: str, principal: str | None, store: SessionStore, *, echo_id: bool, stateless: bool = False
) -> Session:
    """The live session if it belongs to ``principal``; SessionNotFound (404) otherwise.

    ``echo_id`` names the id in the answer's Mcp-Session-Id header. The store also holds the
    stateless era's records (state handles, tasks: protocol version 2026-07-28); they are
    found only with ``stateless``, so a handle never works as a session id, nor the reverse.
    """
    session = await store.get(session_id)
    # A session bound to another principal looks exactly like an unknown one.
    if session is None or not owns(session, principal, stateless=stateless):
        raise SessionNotFound(headers={"Mcp-Session-Id": session_id} if echo_id else None)
    return session


def owns(session: Session, principal: str | None, *, stateless: bool = False) -> bool:
    """Whether ``principal`` may use ``session`` in this era (see ``owned``)."""
    return (
        session.principal == principal
        and (session.protocol_version == settings.MODERN_PROTOCOL_VERSION) == stateless
    )


async def end(session_id: str, store: SessionStore, bus: Bus) -> None:
    """Forget a session everywhere: its record, its streams (readers end), its running requests."""
    await store.delete(session_id)
    await release(session_id, bus)


async def end_if(session_id: str, claim: Claim, store: SessionStore, bus: Bus) -> str:
    """``end`` if ``claim`` holds, checked and done in one atomic step (the bus's part too,
    when the store can run it: both in Redis); ``DELETED``, ``UNKNOWN`` or ``REFUSED``."""
    step = bus.drop_step(session_id)
    if step is not None and not store.runs(step):
        step = None
    outcome = await store.delete_if(session_id, claim, then=step)
    if outcome == DELETED:
        if step is not None:
            bus.dropped(session_id)
        else:
            await bus.drop_session(session_id)
        running.cancel_session(session_id)
    return outcome


async def push(session_id: str, message: dict[str, Any], store: SessionStore, bus: Bus) -> bool:
    """Queue ``message`` on a live session's outbox (its GET stream, on whichever process
    holds it); False if the session is gone."""
    if await store.get(session_id, touch=False) is None:
        return False
    await bus.publish(session_id, OUTBOX, message)
    return True


async def release(session_id: str, bus: Bus) -> None:
    """Free what a session that is gone from the store still holds: streams and requests."""
    await bus.drop_session(session_id)
    running.cancel_session(session_id)


# session id -> SSE streams (GET, resumed, POST) open in this process.
_open_streams: dict[str, int] = {}


def open_streams(session_id: str) -> int:
    """SSE streams (GET, resumed and POST) this process holds open for the session."""
    return _open_streams.get(session_id, 0)


@contextlib.contextmanager
def counted_stream(session_id: str, kind: str) -> Iterator[None]:
    """Count a stream as open for its whole life (``kind`` labels the metric)."""
    _open_streams[session_id] = _open_streams.get(session_id, 0) + 1
    figures.child(figures.OPEN_STREAMS, kind).inc()
    try:
        yield
    finally:
        figures.child(figures.OPEN_STREAMS, kind).dec()
        remaining = _open_streams.get(session_id, 1) - 1
        if remaining > 0:
            _open_streams[session_id] = remaining
        else:
            _open_streams.pop(session_id, None)
