"""The 2025 eras' method table and the one place a request becomes a response.

``METHODS`` and ``NOTIFICATIONS`` are literal tables: grep finds every method the server
answers. ``respond`` never raises (except cancellation): any failure becomes a JSON-RPC
error with the request's id (``mcp.errors.message_for``: an unexpected exception is logged
with an error id, no traceback reaches the client). ``start`` runs a request in a task of its
own, so a session's notifications/cancelled can stop it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import Any

from mcp.calls import running
from mcp.calls.context import Context
from mcp.dispatch import traced
from mcp.dispatch.base import STORE_DOWN, Handler, NotificationHandler, invoke
from mcp.errors import MethodNotFound, RequestCancelled, ServiceUnavailable, message_for
from mcp.handlers import methods as handlers
from mcp.handlers import skills, tasks
from mcp.redact import describe_exception
from mcp.store import StoreUnavailable
from mcp.wire import jsonrpc

logger = logging.getLogger("mcp.dispatch")

# initialize is answered by the transport (it creates the session) through handlers.initialize.
METHODS: dict[str, Handler] = {
    "ping": handlers.ping,
    "logging/setLevel": handlers.set_log_level,
    "tools/list": handlers.list_tools,
    "tools/call": handlers.call_tool,
    "resources/list": handlers.list_resources,
    "resources/templates/list": handlers.list_resource_templates,
    "resources/read": handlers.read_resource,
    # The skills extension (io.modelcontextprotocol/skills).
    "skills/list": skills.list_skills,
    "skills/get": skills.get_skill,
    "resources/directory/read": skills.read_directory,
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


def respond(ctx: Context, request: jsonrpc.Request) -> Awaitable[dict[str, Any]]:
    """Run ``request`` and return its response message (traced: ``mcp.dispatch.traced``)."""
    traced.received(ctx, request.method, request.params, request.id)
    # Untraced (telemetry off, the usual case): no span to end, so no wrapping coroutine.
    return _respond(ctx, request) if ctx.trace is None else _traced(ctx, request)


async def _traced(ctx: Context, request: jsonrpc.Request) -> dict[str, Any]:
    try:
        response = await _respond(ctx, request)
    except asyncio.CancelledError:
        traced.answered(ctx, None, failure="cancelled")
        raise
    except StoreUnavailable:
        traced.answered(ctx, None, failure="unavailable")
        raise
    traced.answered(ctx, response)
    return response


async def _respond(ctx: Context, request: jsonrpc.Request) -> dict[str, Any]:
    handler = METHODS.get(request.method)
    if handler is None:
        return message_for(request.id, MethodNotFound(f"Method not found: {request.method[:100]}"))
    try:
        result = await invoke(ctx, request, handler)
    except (asyncio.CancelledError, StoreUnavailable):
        raise
    except Exception as exc:
        return message_for(request.id, exc)
    return jsonrpc.result(request.id, result)


def start(ctx: Context, request: jsonrpc.Request) -> asyncio.Task[None]:
    """Run ``request`` in a task of its own, its answer going to ``ctx.stream``.

    Within a session the task is tracked by request id, so notifications/cancelled (or the
    session's end) stops it.
    """
    meta = request.params.get("_meta")
    ctx.request_id, ctx.meta = request.id, meta if isinstance(meta, dict) else {}
    task = asyncio.create_task(run(ctx, request))
    if ctx.session is not None:
        running.track(ctx.session.id, request.id, task)
    return task


async def run(ctx: Context, request: jsonrpc.Request) -> None:
    """Answer ``request`` on its stream; when cancelled, close the stream without a result."""
    stream = ctx.stream
    if stream is None:
        raise RuntimeError("dispatch.run needs a Context with a stream")
    try:
        response = await respond(ctx, request)
    except StoreUnavailable as exc:
        if not stream.refuse(exc):
            # The answer is already streaming: end it with the error, if the bus still answers.
            with contextlib.suppress(StoreUnavailable):
                await stream.finish(message_for(request.id, ServiceUnavailable(STORE_DOWN)))
        return
    except asyncio.CancelledError:
        if stream.streaming:
            await stream.finish(None)
        else:
            await stream.finish(message_for(request.id, RequestCancelled()))
        return
    await stream.finish(response)


async def notify(ctx: Context, notification: jsonrpc.Notification) -> None:
    """Handle a client notification; unknown ones are accepted and ignored, as JSON-RPC asks."""
    traced.received(ctx, notification.method, notification.params)
    handler = NOTIFICATIONS.get(notification.method)
    failure = None
    try:
        if handler is not None:
            await handler(ctx, notification.params)
    except Exception as exc:
        failure = "_OTHER"
        logger.warning("notification %s failed: %s", notification.method[:100], describe_exception(exc))
    finally:
        traced.answered(ctx, None, failure=failure)
