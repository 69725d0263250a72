"""One async function per MCP method: ``handler(ctx, params) -> result``.

Handlers raise ``mcp.errors.RpcError`` subclasses for failures the client should see as a
JSON-RPC error; ``mcp.dispatch`` turns them into responses. Tool failures are not errors:
they come back as a result with ``isError: true``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings

from echoserver import __version__
from mcp import running
from mcp.errors import ClientRequestFailed, InvalidParams, ServiceUnavailable
from mcp.pagination import paginate
from mcp.protocol import LOG_LEVELS, negotiate
from mcp.tools import ToolError, ToolResult, get_registry, text

if TYPE_CHECKING:
    from mcp.context import Context

logger = logging.getLogger("mcp.handlers")

INSTRUCTIONS = (
    "A diagnostic MCP echo server. Call echo then replayLastEcho to see session state at "
    "work; printHeader, bearerDecode, authContext and requestTiming show exactly what your "
    "client sent."
)


def _object_param(params: dict[str, Any], name: str) -> dict[str, Any]:
    value = params.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidParams(f"Invalid params: {name} must be an object")
    return value


def server_capabilities() -> dict[str, Any]:
    return {
        "tools": {"listChanged": True},
        "logging": {},
    }


def server_info() -> dict[str, Any]:
    return {
        "name": settings.MCP_SERVER_NAME,
        "title": "MCP Echo Server (stateful)",
        "version": __version__,
    }


# --- Lifecycle -------------------------------------------------------------------------------


async def initialize(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Negotiate a version and create the session (``ctx.session`` is set afterwards)."""
    client_info = _object_param(params, "clientInfo")
    client_capabilities = _object_param(params, "capabilities")
    version = negotiate(
        params.get("protocolVersion"),
        settings.MCP_PROTOCOL_VERSIONS_SUPPORTED,
        settings.MCP_PROTOCOL_VERSION,
    )
    stats = await ctx.store.stats()
    if stats.active >= settings.MCP_MAX_SESSIONS:
        raise ServiceUnavailable(
            f"Service Unavailable: the server holds its maximum of {settings.MCP_MAX_SESSIONS} sessions"
        )
    ctx.session = await ctx.store.create(
        protocol_version=version,
        client_info=client_info,
        client_capabilities=client_capabilities,
        principal=ctx.request.principal,
        client_addr=ctx.request.client_addr,
    )
    logger.info("session %s… created for %s", ctx.session.id[:8], ctx.session.client_name)
    return {
        "protocolVersion": version,
        "capabilities": server_capabilities(),
        "serverInfo": server_info(),
        "instructions": INSTRUCTIONS,
    }


async def ping(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return {}


async def set_log_level(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    level = params.get("level")
    if level not in LOG_LEVELS:
        raise InvalidParams(f"Invalid params: level must be one of {', '.join(LOG_LEVELS)}")
    assert ctx.session is not None
    await ctx.store.update(ctx.session.id, log_level=level)
    ctx.session.log_level = level
    return {}


# --- Tools -------------------------------------------------------------------------------


async def list_tools(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    tools = get_registry().all()
    page, next_cursor = paginate(tools, params.get("cursor"), settings.MCP_PAGE_SIZE)
    result: dict[str, Any] = {"tools": [tool.definition for tool in page]}
    if next_cursor:
        result["nextCursor"] = next_cursor
    return result


async def call_tool(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = params.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidParams("Invalid params: name must be a non-empty string")
    tool = get_registry().get(name)
    if tool is None:
        raise InvalidParams(f"Unknown tool: {name[:128]}")
    arguments = params.get("arguments")
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return ToolResult.error(f"Invalid arguments for {name}: arguments must be an object").to_wire()
    problem = tool.argument_error(arguments)
    if problem is not None:
        return ToolResult.error(f"Invalid arguments for {name}: {problem}").to_wire()
    try:
        outcome = await tool.func(ctx, arguments)
    except ToolError as exc:
        return ToolResult.error(str(exc)).to_wire()
    except ClientRequestFailed as exc:
        return ToolResult.error(f"{name} could not complete: {exc}").to_wire()
    if isinstance(outcome, str):
        return {"content": [text(outcome)]}
    return outcome.to_wire()


# --- Notifications from the client ----------------------------------------------------------


async def initialized(ctx: Context, params: dict[str, Any]) -> None:
    assert ctx.session is not None
    if not ctx.session.initialized:
        await ctx.store.update(ctx.session.id, initialized=True)


async def cancelled(ctx: Context, params: dict[str, Any]) -> None:
    """Stop the named request if it runs in this process; unknown or finished ids are ignored."""
    assert ctx.session is not None
    request_id = params.get("requestId")
    if request_id is not None:
        running.cancel(ctx.session.id, request_id)


async def ignored(ctx: Context, params: dict[str, Any]) -> None:
    """Accepted and dropped (e.g. notifications/roots/list_changed)."""
