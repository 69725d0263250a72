"""State handles: what a session's state scope becomes for clients without sessions.

A 2026-07-28 request may not rely on earlier requests, so the tools that keep state (the
last echo, the calculator history) keep it under an explicit, server-minted *handle* that the
client passes back as the ``handle`` argument. A handle is a record in the session store
(protocol version 2026-07-28), so it has exactly a session's guarantees: an unguessable id,
expiry after ``MCP_SESSION_TIMEOUT`` idle seconds, the same limits, and the principal it was
minted for (in ``MCP_AUTH=jwt`` mode another subject's handle is not found). Within a session
the session itself is the scope and ``handle`` is ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings

from mcp import figures
from mcp.errors import SessionNotFound, ToolError
from mcp.sessions import operations as sessions
from mcp.sessions import records
from mcp.store import LimitReached
from mcp.wire.protocol import valid_session_id

if TYPE_CHECKING:
    from mcp.calls.context import Context
    from mcp.store import Session

ARGUMENT = "handle"
SCHEMA: dict[str, Any] = {
    # No maxLength: a flat schema keeps the hot path's quick argument check (bind() checks it).
    "type": "string",
    "description": (
        "Clients without a session (2026-07-28): the state handle an earlier call returned, to "
        "keep working on the same state. Omit it to get a new one; ignored within a session."
    ),
}


def with_handle(input_schema: dict[str, Any]) -> dict[str, Any]:
    """``input_schema`` plus the optional ``handle`` argument."""
    return {**input_schema, "properties": {**input_schema.get("properties", {}), ARGUMENT: SCHEMA}}


async def bind(ctx: Context, arguments: dict[str, Any]) -> None:
    """Make the handle named in ``arguments`` this stateless request's state scope."""
    handle = arguments.get(ARGUMENT)
    if ctx.session is not None or not ctx.stateless or not isinstance(handle, str):
        return
    if not valid_session_id(handle):
        raise ToolError("Unknown or expired handle")
    try:
        ctx.session = await sessions.owned(
            handle, ctx.request.principal, ctx.store, echo_id=False, stateless=True
        )
    except SessionNotFound:
        raise ToolError("Unknown or expired handle: call without `handle` to get a new one") from None


async def scope(ctx: Context) -> Session | None:
    """The request's state scope: its session or bound handle, else (stateless) a new handle."""
    if ctx.session is not None or not ctx.stateless or ctx.modern is None:
        return ctx.session

    try:
        ctx.session = await records.new_record(
            ctx,
            kind=figures.STATE_HANDLE,
            protocol_version=settings.MODERN_PROTOCOL_VERSION,
            client_info=ctx.modern.client_info,
            client_capabilities=ctx.modern.capabilities,
        )
    except LimitReached as exc:
        # Best effort: a client that keeps calling without `handle` (a load test) reaches its
        # limit of records; its calls go on answering, without state, rather than fail.
        ctx.unminted = f"No state handle: {exc.describe()}; this call kept no state"
        return None
    ctx.minted_handle = ctx.session.id
    return ctx.session


def note(ctx: Context) -> dict[str, Any] | None:
    """The text block that tells a stateless client the handle minted for this call (or why
    none could be)."""
    if ctx.unminted is not None:
        return {"type": "text", "text": ctx.unminted}
    if ctx.minted_handle is None:
        return None
    return {
        "type": "text",
        "text": f"State handle: {ctx.minted_handle} (pass it as `handle` to keep using this state)",
    }


def label(ctx: Context) -> str:
    """How a tool names its state scope: the session (short) or the handle (whole: reuse it)."""
    if ctx.session is None:
        return "no session"
    if ctx.stateless:
        return f"handle {ctx.session.id}"
    return f"Session {ctx.session.id[:8]}..."
