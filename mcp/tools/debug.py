"""The seed's 11 diagnostic tools, with its behaviour and without its defects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcp.tools.registry import ToolError, Toolset

if TYPE_CHECKING:
    from mcp.context import Context

TOOLSET = Toolset("debug")


def session_tag(ctx: Context) -> str:
    return f"Session {ctx.session.id[:8]}..." if ctx.session else "no session"


@TOOLSET.tool(
    "echo",
    "Echo back the provided message",
    {
        "type": "object",
        "properties": {"message": {"type": "string", "description": "The message to echo back"}},
        "required": ["message"],
        "additionalProperties": False,
    },
)
async def echo(ctx: Context, args: dict[str, Any]) -> str:
    message = args["message"]
    if ctx.session is None:
        return message
    await ctx.store.set_state(ctx.session.id, "last_echo", message)
    return f"[{session_tag(ctx)} from {ctx.session.client_name}] {message}"


@TOOLSET.tool("replayLastEcho", "Replay the last message that was echoed in this session")
async def replay_last_echo(ctx: Context, args: dict[str, Any]) -> str:
    if ctx.session is None:
        raise ToolError("Session required for replay functionality")
    message = ctx.session.state.get("last_echo")
    if message is None:
        return "No previous echo message found in this session. Use the echo tool first!"
    return f"[REPLAY - {session_tag(ctx)} from {ctx.session.client_name}] {message}"
