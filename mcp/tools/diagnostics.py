"""Tools for client authors: make a client face notifications, slow answers, dropped streams
and server-to-client requests on demand.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from mcp.errors import ToolError
from mcp.faults import inject as faults
from mcp.sessions import listen
from mcp.tools.content import text_contents, user_text
from mcp.tools.registry import ToolResult, Toolset, text
from mcp.traffic import record as traffic
from mcp.wire import jsonrpc
from mcp.wire.protocol import LOG_LEVELS

if TYPE_CHECKING:
    from mcp.calls.context import Context

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
    if not ctx.log_enabled(level) and not faults.ignores_log_level(ctx.faults, ctx.request.marks):
        return f"0 of {count} notifications sent: {below_level(ctx, level)}"
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


def below_level(ctx: Context, level: str) -> str:
    """Why a message at ``level`` is not sent, in the terms of the client's own setting."""
    if ctx.modern is not None:
        if ctx.modern.log_level is None:
            return "this 2026-07-28 request asked for no log level (_meta io.modelcontextprotocol/logLevel)"
        return f"{level!r} is below this request's log level {ctx.modern.log_level!r}"
    threshold = ctx.session.log_level if ctx.session else None
    return f"{level!r} is below the client's log level {threshold!r} (logging/setLevel)"


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


LIST_KINDS = ("tools", "resources", "prompts")


@TOOLSET.tool(
    "triggerListChanged",
    "Add or remove this session's dynamic tool, resource or prompt, and send the matching "
    "notifications/<kind>/list_changed on the session's GET stream (without a session: to every "
    "subscriptions/listen stream that asked for it)",
    {
        "type": "object",
        "properties": {"kind": {"type": "string", "enum": list(LIST_KINDS), "default": "tools"}},
        "additionalProperties": False,
    },
    title="Trigger list_changed",
    annotations={"readOnlyHint": False, "idempotentHint": False, "openWorldHint": False},
)
async def trigger_list_changed(ctx: Context, args: dict[str, Any]) -> str:
    kind = args.get("kind", "tools")
    if ctx.stateless:
        # Stateless lists are the same for everyone: announce the change, keep the list.
        await listen.announce_list_changed(kind)
        return (
            f"notifications/{kind}/list_changed sent to every subscriptions/listen stream that asked for it"
        )
    if ctx.session is None:
        raise ToolError("triggerListChanged needs a session")
    flags = dict(ctx.session.state.get("dynamic") or {})
    flags[kind] = not flags.get(kind, False)
    await ctx.store.set_state(ctx.session.id, "dynamic", flags)
    await ctx.send_to_session(jsonrpc.notification(f"notifications/{kind}/list_changed"))
    name = {"tools": "dynamicEcho", "resources": "echo://dynamic", "prompts": "dynamic_prompt"}[kind]
    state = "added to" if flags[kind] else "removed from"
    return f"{name} {state} this session's {kind}; notifications/{kind}/list_changed queued on the GET stream"


@TOOLSET.tool(
    "dynamicEcho",
    "A tool that exists only while triggerListChanged has turned it on in this session",
    {
        "type": "object",
        "properties": {"message": {"type": "string", "maxLength": 100000}},
        "required": ["message"],
        "additionalProperties": False,
    },
    dynamic=True,
)
async def dynamic_echo(ctx: Context, args: dict[str, Any]) -> str:
    return f"[dynamic] {args['message']}"


@TOOLSET.resource(
    "echo://dynamic",
    "dynamic-resource",
    description="Listed only while triggerListChanged(kind=resources) has turned it on",
    mime_type="text/plain",
    dynamic=True,
)
async def dynamic_resource(ctx: Context, uri: str, params: dict[str, str]) -> list[dict[str, Any]]:
    return text_contents(uri, "This resource was added by triggerListChanged.")


@TOOLSET.prompt(
    "dynamic_prompt",
    "Listed only while triggerListChanged(kind=prompts) has turned it on",
    dynamic=True,
)
async def dynamic_prompt(ctx: Context, arguments: dict[str, str]) -> list[dict[str, Any]]:
    return [user_text("This prompt was added by triggerListChanged.")]


@TOOLSET.resource(
    "echo://counter",
    "update-counter",
    description="Counts updateResource calls in this session; subscribe to it to get "
    "notifications/resources/updated",
    mime_type="text/plain",
)
async def counter_resource(ctx: Context, uri: str, params: dict[str, str]) -> list[dict[str, Any]]:
    count = ctx.session.state.get("updates", 0) if ctx.session else 0
    return text_contents(uri, f"updateResource has been called {count} time(s) in this session.")


@TOOLSET.tool(
    "updateResource",
    "Mark a resource as changed: sends notifications/resources/updated on the session's GET "
    "stream if the session subscribed to the URI, and to every subscriptions/listen stream "
    "subscribed to it",
    {
        "type": "object",
        "properties": {"uri": {"type": "string", "maxLength": 2048, "default": "echo://counter"}},
        "additionalProperties": False,
    },
    title="Update a resource",
    annotations={"readOnlyHint": False, "openWorldHint": False},
)
async def update_resource(ctx: Context, args: dict[str, Any]) -> str:
    uri = args.get("uri", "echo://counter")
    await listen.announce_resource_updated(uri)
    if ctx.session is None:
        return f"{uri} updated; notifications/resources/updated sent to the listen streams subscribed to it"
    if uri == "echo://counter":
        await ctx.store.set_state(ctx.session.id, "updates", int(ctx.session.state.get("updates", 0)) + 1)
    if await ctx.store.get_item(ctx.session.id, "subscriptions", uri) is None:
        return f"{uri} updated; this session is not subscribed to it, so no notification was sent"
    await ctx.send_to_session(jsonrpc.notification("notifications/resources/updated", {"uri": uri}))
    return f"{uri} updated; notifications/resources/updated queued on the GET stream"


@TOOLSET.tool(
    "trafficLog",
    "This session's recent HTTP exchanges as the server recorded them (time, method, id, status, "
    "duration, headers with credentials masked, bounded excerpts), newest last",
    {
        "type": "object",
        "properties": {"limit": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 20}},
        "additionalProperties": False,
    },
    title="Traffic log",
    annotations={"readOnlyHint": True, "openWorldHint": False},
)
async def traffic_log(ctx: Context, args: dict[str, Any]) -> ToolResult:
    session = ctx.require_session()
    if not traffic.enabled():
        return ToolResult(
            [text("Traffic recording is off on this server (MCP_TRAFFIC_LOG=0).")], {"entries": []}
        )
    entries = (await traffic.recent(ctx.store, session.id))[-args.get("limit", 20) :]
    lines = [f"{len(entries)} recorded exchange(s) of this session (the request asking is not among them):"]
    for entry in entries:
        rpc = f" {entry['method']} id={entry['id']}" if entry.get("method") else ""
        marks = f" marks={','.join(entry['marks'])}" if entry.get("marks") else ""
        lines.append(
            f"  {entry['http']} {entry['path']}{rpc} -> {entry['status']} in {entry['ms']:.1f}ms{marks}"
        )
    return ToolResult([text("\n".join(lines))], {"entries": entries})
