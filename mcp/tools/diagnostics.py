"""Tools for client authors: make a client face notifications, slow answers, dropped streams
and server-to-client requests on demand.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from mcp import jsonrpc
from mcp.protocol import LOG_LEVELS
from mcp.tools.registry import ToolError, Toolset

if TYPE_CHECKING:
    from mcp.context import Context

TOOLSET = Toolset("diagnostics")


@TOOLSET.tool(
    "sendNotifications",
    "Send N notifications/message, on the session's GET stream or on this request's stream, at an interval",
    {
        "type": "object",
        "properties": {
            "count": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 3},
            "interval": {"type": "number", "minimum": 0, "maximum": 10, "default": 0},
            "target": {"type": "string", "enum": ["session", "request"], "default": "session"},
            "level": {"type": "string", "enum": list(LOG_LEVELS), "default": "info"},
            "message": {"type": "string", "maxLength": 10000, "default": "notification"},
        },
        "additionalProperties": False,
    },
    title="Send notifications",
    annotations={"readOnlyHint": True, "openWorldHint": False},
)
async def send_notifications(ctx: Context, args: dict[str, Any]) -> str:
    count = args.get("count", 3)
    interval = args.get("interval", 0)
    target = args.get("target", "session")
    level = args.get("level", "info")
    text = args.get("message", "notification")
    if target == "session" and ctx.session is None:
        raise ToolError("target 'session' needs a session")
    sent = 0
    for number in range(1, count + 1):
        if number > 1 and interval:
            await asyncio.sleep(interval)
        params = {"level": level, "logger": "sendNotifications", "data": f"{text} {number}/{count}"}
        if target == "session":
            sent += await ctx.send_to_session(jsonrpc.notification("notifications/message", params))
        else:
            sent += await ctx.notify("notifications/message", params)
    where = "queued on the session's GET stream" if target == "session" else "sent on this request's stream"
    if target == "request" and sent < count:
        return f"{sent} of {count} notifications {where} (the client does not accept text/event-stream)"
    return f"{sent} notifications {where}"


@TOOLSET.tool(
    "slowEcho",
    "Echo the message after a delay, reporting progress every second when a progressToken is given",
    {
        "type": "object",
        "properties": {
            "message": {"type": "string", "maxLength": 100000},
            "seconds": {"type": "number", "minimum": 0, "maximum": 300, "default": 3},
        },
        "required": ["message"],
        "additionalProperties": False,
    },
    title="Slow echo",
    annotations={"readOnlyHint": True, "openWorldHint": False},
    task_support="optional",
)
async def slow_echo(ctx: Context, args: dict[str, Any]) -> str:
    seconds = float(args.get("seconds", 3))
    steps = max(1, int(seconds))
    for step in range(steps):
        await ctx.progress(step, steps, f"waiting {step}/{steps}")
        await asyncio.sleep(seconds / steps)
    await ctx.progress(steps, steps, "done")
    return args["message"]


@TOOLSET.tool(
    "dropStream",
    "Close this request's SSE stream before the result; the client must resume it "
    "with GET and Last-Event-ID to get the answer",
    {
        "type": "object",
        "properties": {"delay": {"type": "number", "minimum": 0, "maximum": 30, "default": 0.5}},
        "additionalProperties": False,
    },
    title="Drop the stream",
    annotations={"readOnlyHint": True, "openWorldHint": False},
)
async def drop_stream(ctx: Context, args: dict[str, Any]) -> str:
    if ctx.stream is None or not await ctx.stream.hang_up():
        raise ToolError("dropStream needs an SSE response (send Accept: text/event-stream) and a session")
    await asyncio.sleep(float(args.get("delay", 0.5)))
    return "This result was delivered after the stream was dropped and resumed."


@TOOLSET.tool(
    "requestSampling",
    "Ask the client to sample an LLM (sampling/createMessage) and return its answer",
    {
        "type": "object",
        "properties": {
            "prompt": {"type": "string", "maxLength": 100000},
            "maxTokens": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 100},
            "timeout": {"type": "number", "minimum": 0.1, "maximum": 600},
        },
        "required": ["prompt"],
        "additionalProperties": False,
    },
    title="Request sampling",
    annotations={"readOnlyHint": True, "openWorldHint": True},
)
async def request_sampling(ctx: Context, args: dict[str, Any]) -> str:
    result = await ctx.ask_client(
        "sampling/createMessage",
        {
            "messages": [{"role": "user", "content": {"type": "text", "text": args["prompt"]}}],
            "maxTokens": args.get("maxTokens", 100),
        },
        timeout=args.get("timeout"),
    )
    content = result.get("content")
    answer = content.get("text") if isinstance(content, dict) else None
    return (
        f"Sampling result from model {result.get('model', '?')}: {answer if answer is not None else result}"
    )


@TOOLSET.tool(
    "requestElicitation",
    "Ask the user for input through the client (elicitation/create) and return the answer",
    {
        "type": "object",
        "properties": {
            "message": {"type": "string", "maxLength": 10000, "default": "Please provide your details"},
            "timeout": {"type": "number", "minimum": 0.1, "maximum": 600},
        },
        "additionalProperties": False,
    },
    title="Request elicitation",
    annotations={"readOnlyHint": True, "openWorldHint": True},
)
async def request_elicitation(ctx: Context, args: dict[str, Any]) -> str:
    result = await ctx.ask_client(
        "elicitation/create",
        {
            "message": args.get("message", "Please provide your details"),
            "requestedSchema": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "title": "Name"},
                    "confirm": {"type": "boolean", "title": "Confirm", "default": True},
                },
                "required": ["name"],
            },
        },
        timeout=args.get("timeout"),
    )
    content = jsonrpc.encode(result.get("content")).decode()
    return f"Elicitation answer: action={result.get('action')}, content={content}"
