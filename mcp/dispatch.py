"""JSON-RPC method tables and the one place a request becomes a response.

``METHODS`` and ``NOTIFICATIONS`` are literal tables: grep finds every method the server
answers. ``respond`` never raises (except cancellation): any failure becomes a JSON-RPC
error with the request's id, and an unexpected exception is logged with an error id (no
traceback reaches the client).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from mcp import handlers, jsonrpc, metrics, tasks
from mcp.context import Context
from mcp.errors import McpError
from mcp.redact import describe_exception

logger = logging.getLogger("mcp.dispatch")

Handler = Callable[[Context, dict[str, Any]], Awaitable[dict[str, Any]]]
NotificationHandler = Callable[[Context, dict[str, Any]], Awaitable[None]]

# initialize is answered by the transport (it creates the session) through handlers.initialize.
METHODS: dict[str, Handler] = {
    "ping": handlers.ping,
    "logging/setLevel": handlers.set_log_level,
    "tools/list": handlers.list_tools,
    "tools/call": handlers.call_tool,
    "resources/list": handlers.list_resources,
    "resources/templates/list": handlers.list_resource_templates,
    "resources/read": handlers.read_resource,
    "resources/subscribe": handlers.subscribe,
    "resources/unsubscribe": handlers.unsubscribe,
    "prompts/list": handlers.list_prompts,
    "prompts/get": handlers.get_prompt,
    "completion/complete": handlers.complete,
    "tasks/get": tasks.get,
    "tasks/result": tasks.result,
    "tasks/list": tasks.list_tasks,
    "tasks/cancel": tasks.cancel,
}

NOTIFICATIONS: dict[str, NotificationHandler] = {
    "notifications/initialized": handlers.initialized,
    "notifications/cancelled": handlers.cancelled,
    "notifications/roots/list_changed": handlers.ignored,
    "notifications/progress": handlers.ignored,
}

# JSON-RPC has no code for this; -32800 is the one LSP uses and several MCP clients know.
REQUEST_CANCELLED = -32800


def error_response(request_id: jsonrpc.RequestId | None, exc: Exception) -> dict[str, Any]:
    """The JSON-RPC error for any exception; unexpected ones are logged, never shown."""
    if isinstance(exc, McpError | tasks.TaskError):
        return jsonrpc.error(request_id, exc.code, exc.message, exc.data)
    error_id = secrets.token_hex(4)
    logger.error("internal error %s: %s", error_id, describe_exception(exc))
    return jsonrpc.error(request_id, jsonrpc.INTERNAL_ERROR, "Internal error", {"errorId": error_id})


async def respond(ctx: Context, request: jsonrpc.Request) -> dict[str, Any]:
    """Run ``request`` and return its response message."""
    handler = METHODS.get(request.method)
    if handler is None:
        metrics.REQUESTS.labels(method="unknown", outcome="error").inc()
        return jsonrpc.error(
            request.id, jsonrpc.METHOD_NOT_FOUND, f"Method not found: {request.method[:100]}"
        )
    started = time.perf_counter()
    try:
        result = await handler(ctx, request.params)
    except asyncio.CancelledError:
        metrics.REQUESTS.labels(method=request.method, outcome="cancelled").inc()
        raise
    except Exception as exc:
        metrics.REQUESTS.labels(method=request.method, outcome="error").inc()
        return error_response(request.id, exc)
    metrics.REQUESTS.labels(method=request.method, outcome="ok").inc()
    metrics.REQUEST_SECONDS.labels(method=request.method).observe(time.perf_counter() - started)
    return jsonrpc.result(request.id, result)


async def run(ctx: Context, request: jsonrpc.Request) -> None:
    """Answer ``request`` on its stream; when cancelled, close the stream without a result."""
    assert ctx.stream is not None
    try:
        response = await respond(ctx, request)
    except asyncio.CancelledError:
        if ctx.stream.streaming:
            await ctx.stream.finish(None)
        else:
            await ctx.stream.finish(jsonrpc.error(request.id, REQUEST_CANCELLED, "Request cancelled"))
        return
    await ctx.stream.finish(response)


async def notify(ctx: Context, notification: jsonrpc.Notification) -> None:
    """Handle a client notification; unknown ones are accepted and ignored, as JSON-RPC asks."""
    handler = NOTIFICATIONS.get(notification.method)
    if handler is None:
        return
    try:
        await handler(ctx, notification.params)
    except Exception as exc:
        logger.warning("notification %s failed: %s", notification.method[:100], describe_exception(exc))
