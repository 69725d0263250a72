"""A caller's new record: a 2025 session, a 2026-07-28 state handle or a stateless task.

Every kind is created here, with the session limits checked in the same atomic step as the
creation (the store's ``create``), so concurrent initializes on any number of processes cannot
overshoot MCP_MAX_SESSIONS or MCP_MAX_SESSIONS_PER_CLIENT.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings

from mcp import figures
from mcp.errors import ServiceUnavailable
from mcp.store import LimitReached, Limits

if TYPE_CHECKING:
    from mcp.calls.context import Context
    from mcp.store import Session


async def new_record(
    ctx: Context,
    *,
    kind: str,
    protocol_version: str,
    client_info: dict[str, Any],
    client_capabilities: dict[str, Any],
) -> Session:
    """A new record of ``kind`` (a session, state handle or task: ``mcp.figures.KINDS``) for the
    caller, counted in the figures; ``LimitReached`` when the store holds MCP_MAX_SESSIONS
    records, or the caller MCP_MAX_SESSIONS_PER_CLIENT (sessions, state handles and stateless
    tasks count alike), checked in the same atomic step."""
    record = await ctx.store.create(
        protocol_version=protocol_version,
        client_info=client_info,
        client_capabilities=client_capabilities,
        principal=ctx.request.principal,
        client_addr=ctx.request.client_addr,
        limits=Limits(settings.MCP_MAX_SESSIONS, settings.MCP_MAX_SESSIONS_PER_CLIENT),
        kind=kind,
    )
    figures.record_created(kind)
    return record


async def create_record(
    ctx: Context,
    *,
    kind: str,
    protocol_version: str,
    client_info: dict[str, Any],
    client_capabilities: dict[str, Any],
) -> Session:
    """``new_record``, answered 503 at the limits."""
    try:
        return await new_record(
            ctx,
            kind=kind,
            protocol_version=protocol_version,
            client_info=client_info,
            client_capabilities=client_capabilities,
        )
    except LimitReached as exc:
        advice = "; DELETE unused ones" if exc.scope == "client" else ""
        raise ServiceUnavailable(f"Service Unavailable: {exc.describe()}{advice}") from None
