"""The 2026-07-28 (stateless) era below HTTP: its method table and how one request is answered.

The handlers, tools, store and bus are the session era's; what differs is listed here:

- ``METHODS``: ``server/discover`` instead of ``initialize``; no ``ping``,
  ``logging/setLevel`` or ``resources/(un)subscribe`` (``SESSION_ONLY``: they, and any
  unknown method, get HTTP 404 + -32601); ``subscriptions/listen`` is a stream the transport
  serves (``mcp.sessions.listen``).
- ``answer``: a tool that asks the client for input ends with an ``InputRequiredResult``
  (``mcp.calls.inputs``); every result carries ``resultType`` and the server's identity, cacheable
  ones ``ttlMs``/``cacheScope``; a missing resource is -32602 (never -32002).
"""

from __future__ import annotations

import asyncio
from typing import Any

from mcp.calls import inputs as mrtr
from mcp.calls.context import Context
from mcp.dispatch import traced
from mcp.dispatch.base import Handler, invoke
from mcp.errors import HttpError, InvalidParams, ResourceNotFound, UnknownMethod, message_for
from mcp.handlers import methods as handlers
from mcp.handlers import skills, task_extension
from mcp.wire import jsonrpc
from mcp.wire import meta as modern

LISTEN = "subscriptions/listen"

METHODS: dict[str, Handler] = {
    "server/discover": handlers.discover,
    "tools/list": handlers.list_tools,
    "tools/call": task_extension.call_tool,
    "resources/list": handlers.list_resources,
    "resources/templates/list": handlers.list_resource_templates,
    "resources/read": handlers.read_resource,
    # The skills extension (io.modelcontextprotocol/skills).
    "skills/list": skills.list_skills,
    "skills/get": skills.get_skill,
    "resources/directory/read": skills.read_directory,
    "prompts/list": handlers.list_prompts,
    "prompts/get": handlers.get_prompt,
    "completion/complete": handlers.complete,
    # The tasks extension (io.modelcontextprotocol/tasks).
    "tasks/get": task_extension.get,
    "tasks/update": task_extension.update,
    "tasks/cancel": task_extension.cancel,
}

# Methods only the session era has; named in the 404's message so a client sees why.
SESSION_ONLY = frozenset(
    {
        "initialize",
        "ping",
        "logging/setLevel",
        "resources/subscribe",
        "resources/unsubscribe",
        "tasks/result",
        "tasks/list",
    }
)


def check_method(method: str) -> None:
    """UnknownMethod (HTTP 404, -32601) unless this era answers ``method``."""
    if method in METHODS or method == LISTEN:
        return
    if method in SESSION_ONLY:
        raise UnknownMethod(
            f"Method not found: {method} exists only with sessions (2025-11-25 and earlier); "
            "2026-07-28 requests do without it"
        )
    raise UnknownMethod(f"Method not found: {method[:100]}")


async def answer(ctx: Context, request: jsonrpc.Request) -> dict[str, Any]:
    """The response message to ``request``; HttpErrors (400/404 answers) pass through."""
    check_method(request.method)
    try:
        result = await invoke(ctx, request, METHODS[request.method])
    except mrtr.InputRequired:
        assert ctx.inputs is not None
        result = mrtr.input_required_result(ctx.inputs, ctx.trace.traceparent() if ctx.trace else None)
        result["inputRequests"] = traced.input_requests(ctx, result["inputRequests"])
    except (HttpError, asyncio.CancelledError):
        raise
    except ResourceNotFound as exc:
        return message_for(request.id, InvalidParams(exc.message, data=exc.data))
    except Exception as exc:
        return message_for(request.id, exc)
    return jsonrpc.result(request.id, modern.finish_result(request.method, result))


async def prepare(ctx: Context, request: jsonrpc.Request) -> None:
    """Give a request that may ask the client for input (tools/call, prompts/get,
    resources/read) the answers its retry carries (-32602 for a bad or replayed state)."""
    if request.method in mrtr.INPUT_METHODS and ctx.modern is not None:
        ctx.inputs = await mrtr.inputs_for(
            ctx.store,
            request.method,
            request.params,
            principal=ctx.request.principal,
            capabilities=ctx.modern.capabilities,
        )
