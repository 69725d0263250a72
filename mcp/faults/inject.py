"""The injection points: what the transport and the tool runner do with an exchange's draw.

- ``before`` runs once per POST, right after the session is found: an expired session
  (``expire``) answers 404 from then on; ``unauthorized`` answers 401 with a WWW-Authenticate
  challenge; ``httpError`` answers 500, or 503 with Retry-After, before anything is handled
  (so a retry is always safe); ``latency`` waits; ``listChangedBurst`` queues its
  notifications on the session's GET stream. It returns the draw for the later points.
- ``tool_fault`` / ``oversize`` replace or pad a tools/call result.
- ``stream`` bends an SSE response (see ``mcp.faults.sse``); a GET stream draws only these
  (``before_stream``), from a sequence of its own.

Every fault injected is marked in ``RequestInfo.marks`` (the exchange's traffic record) and
counted in mcp_faults_injected_total{kind}. All of it acts on the caller's own session only.

An expired session keeps its record (flagged, refusing every request with 404 and ending its
streams at once) until it idles out, so its traffic, the refused requests included, can
still be inspected and exported.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from django.conf import settings

from mcp.auth import config as auth
from mcp.bus import OUTBOX
from mcp.errors import BadRequest, HttpError, InternalError, SessionNotFound, Unauthorized
from mcp.faults import sse as fault_sse
from mcp.faults.draws import Draw, draw
from mcp.faults.profile import ProfileError, is_empty
from mcp.faults.state import GETS, from_header, in_force, inject, next_draw
from mcp.sessions import operations as sessions
from mcp.wire import jsonrpc

if TYPE_CHECKING:
    from mcp.bus import Bus
    from mcp.store import Session, SessionStore
    from mcp.wire.request import RequestInfo

EXPIRED = "faults_expired"
CONTROL_TOOL = "setFaults"
NOTE = "injected fault"


class InjectedHttpError(HttpError):
    """An HTTP failure a fault profile asked for (500, or 503 with Retry-After)."""

    def __init__(self, status: int, retry_after: int) -> None:
        self.status = status
        self.code = jsonrpc.INTERNAL_ERROR
        if status == 503:
            super().__init__(
                f"Service Unavailable ({NOTE}): retry after {retry_after}s",
                headers={"Retry-After": str(retry_after)},
            )
        else:
            super().__init__(f"Internal Server Error ({NOTE})")


def header_profile(info: RequestInfo) -> dict[str, Any] | None:
    """The profile an initialize's MCP-Faults header asks for; 400 (no session made) if invalid."""
    try:
        return from_header(info.headers)
    except ProfileError as exc:
        raise BadRequest(f"Bad Request: invalid MCP-Faults header: {exc}") from None


def _challenge() -> str:
    description = f"The access token expired ({NOTE})"
    if settings.MCP_AUTH != "none":
        return auth.challenge(auth.current_config(), error="invalid_token", description=description)
    return f'Bearer realm="mcp", error="invalid_token", error_description="{description}"'


def quiet(session: Session) -> bool:
    """Whether ``before`` does nothing for ``session``'s requests: no profile in force (its own
    or MCP_FAULTS) and no ``expire`` fault fired."""
    return not session.state.get(EXPIRED) and is_empty(in_force(session)[0])


def refuse_expired(info: RequestInfo, session: Session) -> None:
    """404, as for any expired session, once an ``expire`` fault has fired in ``session``."""
    if session.state.get(EXPIRED):
        info.marks.append("expire")
        raise SessionNotFound(headers={"Mcp-Session-Id": session.id})


def exempt(message: object) -> bool:
    """setFaults calls are never faulted (nor counted): a client can always clear its profile."""
    return (
        isinstance(message, jsonrpc.Request)
        and message.method == "tools/call"
        and message.params.get("name") == CONTROL_TOOL
    )


async def _refuse_or_wait(info: RequestInfo, draw: Draw) -> None:
    """401, 500 or 503 instead of handling the request, or the latency before it."""
    if draw.unauthorized:
        inject(info.marks, "unauthorized")
        raise Unauthorized(
            f"Unauthorized: the access token expired ({NOTE})",
            headers={"WWW-Authenticate": _challenge()},
        )
    if draw.http_status is not None:
        inject(info.marks, f"http_{draw.http_status}")
        raise InjectedHttpError(draw.http_status, draw.retry_after)
    if draw.latency_ms:
        inject(info.marks, "latency")
        await asyncio.sleep(draw.latency_ms / 1000)


async def before_stateless(info: RequestInfo, message: jsonrpc.Request) -> Draw | None:
    """A 2026-07-28 request's faults: its own ``MCP-Faults`` header (else MCP_FAULTS), drawn at
    the index of its JSON-RPC id (a positive integer; 1 otherwise), so a client numbering its
    requests 1, 2, 3... gets the same faults in the same order every run. There is no session:
    ``expire`` and ``listChangedBurst`` do not apply.
    """
    if exempt(message):
        return None
    profile = header_profile(info) or settings.MCP_FAULTS
    if is_empty(profile):
        return None
    index = message.id if isinstance(message.id, int) and message.id > 0 else 1
    found = draw(profile, index)
    await _refuse_or_wait(info, found)
    return found


async def before(
    info: RequestInfo, session: Session, store: SessionStore, bus: Bus, message: object = None
) -> Draw | None:
    """Apply a POST's faults that come before handling; return its draw (None: no faults)."""
    refuse_expired(info, session)
    if exempt(message):
        return None
    draw = await next_draw(store, session)
    if draw is None:
        return None
    if draw.expire:
        inject(info.marks, "expire")
        await store.set_state(session.id, EXPIRED, True)
        await sessions.release(session.id, bus)
        raise SessionNotFound(headers={"Mcp-Session-Id": session.id})
    await _refuse_or_wait(info, draw)
    if draw.burst is not None:
        count, kind = draw.burst
        inject(info.marks, "list_changed_burst")
        for _ in range(count):
            await bus.publish(session.id, OUTBOX, jsonrpc.notification(f"notifications/{kind}/list_changed"))
    return draw


async def before_stream(info: RequestInfo, session: Session, store: SessionStore) -> Draw | None:
    """A GET stream's draw: only its stream faults apply (from a sequence of its own)."""
    refuse_expired(info, session)
    return await next_draw(store, session, lane=GETS)


def tool_fault(draw: Draw | None, marks: list[str], tool: str) -> dict[str, Any] | None:
    """A tools/call answered by the fault instead of the tool: an isError result, or None.

    The JSON-RPC error form raises InternalError (the client gets a -32603 error response).
    """
    if draw is None or draw.tool_error is None:
        return None
    message = f"{tool} failed ({NOTE})"
    if draw.tool_error == "jsonrpc":
        inject(marks, "rpc_error")
        raise InternalError(f"Internal error: {message}")
    inject(marks, "tool_error")
    return {"content": [{"type": "text", "text": message}], "isError": True}


def ignores_log_level(draw: Draw | None, marks: list[str]) -> bool:
    """Whether this exchange sends log messages below the client's level (marked when so)."""
    if draw is None or not draw.ignore_log_level:
        return False
    inject(marks, "ignore_log_level")
    return True


def oversize(
    draw: Draw | None, marks: list[str], result: dict[str, Any], request_id: jsonrpc.RequestId | None = None
) -> dict[str, Any]:
    """``result`` padded with one text block so that the whole answer to ``request_id`` (the
    JSON-RPC response, envelope included) is ``oversized`` bytes: never more, so a profile at
    MCP_MAX_BODY_BYTES stays within the response budget."""
    if draw is None or draw.oversized is None:
        return result
    size = len(jsonrpc.encode(jsonrpc.result(request_id, result)))
    if size >= draw.oversized:
        return result
    inject(marks, "oversized")
    block = {"type": "text", "text": ""}
    padded = {**result, "content": [*result.get("content", []), block]}
    over = len(jsonrpc.encode(jsonrpc.result(request_id, padded))) - draw.oversized
    block["text"] = "x" * max(0, -over)
    return padded


def stream(
    events: AsyncIterator[bytes], draw: Draw | None, marks: list[str], kind: str
) -> AsyncIterator[bytes]:
    """``events`` with the draw's stream faults (``kind``: "post" or "get"), or as they are."""
    if draw is None or not draw.streams.active:
        return events
    # Marked as injected, while streaming: the exchange's record is written when it ends.
    return fault_sse.bend(
        events,
        draw.streams,
        kind,
        retry_ms=settings.MCP_SSE_RETRY_MS,
        on_inject=lambda fault: inject(marks, fault),
    )
