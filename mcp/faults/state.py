"""A session's fault profile in the store, and the draw each exchange gets.

The profile lives in the session's state (``faults``: the profile, or None when the session
cleared it, and a generation token); the draw counter is an item of the session
(``incr``, atomic on every backend), named by the generation, so setting a new profile starts
a new sequence at 1 and any node continues the same sequence. A session that never set or
cleared a profile gets the server-wide one (MCP_FAULTS), with a counter of its own.

Nothing here can reach another session: every function takes the caller's own session.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings

from mcp import figures
from mcp.faults.draws import Draw, draw
from mcp.faults.profile import is_empty, parse

if TYPE_CHECKING:
    from mcp.store import Session, SessionStore

HEADER = "MCP-Faults"
STATE_KEY = "faults"
COUNTERS = "faults"
SERVER = "server"
POSTS, GETS = "", "/get"
LANES = (POSTS, GETS)


def max_bytes() -> int:
    """The largest ``oversized`` result a profile may ask for: the server's own body limit."""
    return settings.MCP_MAX_BODY_BYTES


def from_header(headers: Mapping[str, str]) -> dict[str, Any] | None:
    """The profile an ``MCP-Faults`` header asks for (None without one); ProfileError if invalid."""
    raw = headers.get(HEADER.lower())
    if raw is None:
        return None
    return parse(raw, max_bytes=max_bytes())


def in_force(session: Session | None) -> tuple[dict[str, Any] | None, str]:
    """(profile, where it comes from: "session", "cleared", "server" or "none") for ``session``."""
    entry = session.state.get(STATE_KEY) if session is not None else None
    if isinstance(entry, dict):
        profile = entry.get("profile")
        return (profile, "session") if profile else (None, "cleared")
    if settings.MCP_FAULTS:
        return settings.MCP_FAULTS, SERVER
    return None, "none"


def _generation(session: Session) -> str:
    entry = session.state.get(STATE_KEY)
    return str(entry.get("generation", "")) if isinstance(entry, dict) else SERVER


async def set_profile(store: SessionStore, session: Session, profile: dict[str, Any] | None) -> bool:
    """Put ``profile`` (None: clear, overriding MCP_FAULTS too) in force for ``session``.

    The draw sequences start again at 1. False if the session is gone.
    """
    old = _generation(session)
    entry = {"profile": profile, "generation": secrets.token_hex(6)}
    if not await store.set_state(session.id, STATE_KEY, entry):
        return False
    session.state[STATE_KEY] = entry
    for lane in LANES:
        await store.delete_item(session.id, COUNTERS, old + lane)
    return True


async def next_draw(store: SessionStore, session: Session | None, *, lane: str = POSTS) -> Draw | None:
    """The faults this exchange of ``session`` gets; None (and no store work) without a profile.

    POSTs and GET streams draw from separate sequences (``lane``), so a client's GET stream,
    opened concurrently with its requests, never shifts the faults its requests get.
    """
    profile, _ = in_force(session)
    if session is None or is_empty(profile):
        return None
    assert profile is not None
    index = await store.incr(session.id, COUNTERS, _generation(session) + lane)
    if index <= 0:
        return None
    return draw(profile, index)


def inject(marks: list[str] | None, kind: str) -> None:
    """Record that fault ``kind`` was injected: in the exchange's marks and in /metrics."""
    figures.FAULTS_INJECTED.labels(kind=kind).inc()
    if marks is not None and kind not in marks:
        marks.append(kind)
